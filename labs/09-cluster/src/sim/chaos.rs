//! The chaos schedule: which fault strikes when, all derived from one seed.

use std::fmt;
use std::time::Duration;

use controllers::rng::NameRng;

/// One fault the simulator can inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The container of a running pod on `node` dies (the `pick`-th running one, modulo).
    KillContainer {
        /// The node, `node-1`...
        node: String,
        /// Which running container.
        pick: u64,
    },
    /// A user deletes a pod (the `pick`-th one, modulo).
    DeletePod {
        /// Which pod.
        pick: u64,
    },
    /// A node loses power for `down`: its kubelet stops, then starts afresh with no
    /// containers.
    CrashNode {
        /// The node.
        node: String,
        /// How long it stays down.
        down: Duration,
    },
    /// A node cannot reach the API server for `down`: calls fail, watches stall.
    Partition {
        /// The node.
        node: String,
        /// How long the cut lasts.
        down: Duration,
    },
    /// The API server restarts: every watch breaks and calls fail for `down`.
    RestartApi {
        /// How long it is unavailable.
        down: Duration,
    },
    /// A component's watch events arrive `delay` late, for `during`.
    SlowWatcher {
        /// The component.
        component: String,
        /// How late.
        delay: Duration,
        /// For how long.
        during: Duration,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::KillContainer { node, .. } => write!(f, "kill a container on {node}"),
            Fault::DeletePod { .. } => write!(f, "delete a pod"),
            Fault::CrashNode { node, down } => write!(f, "crash {node} for {}s", down.as_secs()),
            Fault::Partition { node, down } => {
                write!(f, "partition {node} from the API for {}s", down.as_secs())
            }
            Fault::RestartApi { down } => {
                write!(f, "restart the API server (down {}s)", down.as_secs())
            }
            Fault::SlowWatcher {
                component,
                delay,
                during,
            } => write!(
                f,
                "slow watcher {component}: +{}s for {}s",
                delay.as_secs(),
                during.as_secs()
            ),
        }
    }
}

/// The components whose watches a [`Fault::SlowWatcher`] may slow down.
pub const WATCHERS: [&str; 4] = [
    "scheduler",
    "replicaset-controller",
    "deployment-controller",
    "node-controller",
];

// ANCHOR: schedule
/// The faults of one run, in time order, from `seed`: in each second of `window` (starting
/// at `start`) a fault strikes with probability `percent`%, on one of `nodes` nodes. Every
/// fault is over by the end of the window.
pub fn schedule(
    seed: u64,
    nodes: usize,
    start: Duration,
    window: Duration,
    percent: u64,
) -> Vec<(Duration, Fault)> {
    // EXERCISE(cluster-sim-schedule): one NameRng from the seed; per second roll percent, then a node, then one of six fault kinds; durations 1..=most, never past the window's end
    let mut rng = NameRng::new(seed);
    let mut faults = Vec::new();
    let end = start + window;
    for second in start.as_secs()..end.as_secs() {
        if rng.next_u64() % 100 >= percent {
            continue;
        }
        let at = Duration::from_secs(second);
        let left = end.saturating_sub(at).as_secs().max(1);
        let node = format!("node-{}", 1 + rng.next_u64() % nodes as u64);
        let span =
            |rng: &mut NameRng, most: u64| Duration::from_secs(1 + rng.next_u64() % most.min(left));
        let fault = match rng.next_u64() % 6 {
            0 => Fault::KillContainer {
                node,
                pick: rng.next_u64(),
            },
            1 => Fault::DeletePod {
                pick: rng.next_u64(),
            },
            2 => Fault::CrashNode {
                node,
                down: span(&mut rng, 30),
            },
            3 => Fault::Partition {
                node,
                down: span(&mut rng, 30),
            },
            4 => Fault::RestartApi {
                down: span(&mut rng, 5),
            },
            _ => Fault::SlowWatcher {
                component: WATCHERS[(rng.next_u64() % WATCHERS.len() as u64) as usize].into(),
                delay: span(&mut rng, 5),
                during: span(&mut rng, 20),
            },
        };
        faults.push((at, fault));
    }
    faults
    // END EXERCISE
}
// ANCHOR_END: schedule
