//! The sans-IO core: one scheduling cycle, from the queue to a decision.
//!
//! `schedule_one` pops the next pod, filters the nodes, scores the feasible ones and returns
//! a [`Decision`]. It performs no IO and reads no clock: the caller passes `now`, applies the
//! decision (assume, bind, report) and tells the queue how it went.

use std::time::Duration;

use crate::cache::{ClusterCache, NodeInfo};
use crate::explain::explain;
use crate::framework::{Profile, Unfit};
use crate::pod_info::PodInfo;
use crate::queue::SchedulingQueue;

/// Below this many nodes, every node is examined (Kubernetes' `minFeasibleNodesToFind`).
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;

/// What to do with a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Bind it to this node.
    Bind {
        /// The chosen node.
        node: String,
        /// Its total weighted score (0 when it was the only feasible node).
        score: i64,
    },
    /// No node fits; `message` says why, in Kubernetes' words.
    Unschedulable {
        /// E.g. `0/3 nodes are available: 3 Insufficient cpu.`
        message: String,
    },
}

/// The result of one scheduling cycle.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The pod the cycle was about.
    pub pod: PodInfo,
    /// Where it goes, or why nowhere.
    pub outcome: Outcome,
}

// ANCHOR: scheduler
/// The scheduler's core: a queue, a plugin profile and the round-robin position of the node
/// sampling.
pub struct Scheduler {
    queue: SchedulingQueue,
    profile: Profile,
    /// `None`: Kubernetes' adaptive default; `Some(100)`: examine every node.
    percentage_of_nodes_to_score: Option<u32>,
    /// Where the next cycle starts examining nodes, so that sampling is fair to all of them.
    next_start: usize,
}
// ANCHOR_END: scheduler

impl Scheduler {
    /// A scheduler running `profile`, sampling nodes like Kubernetes does by default.
    pub fn new(profile: Profile) -> Self {
        Scheduler {
            queue: SchedulingQueue::new(),
            profile,
            percentage_of_nodes_to_score: None,
            next_start: 0,
        }
    }

    /// Sets `percentageOfNodesToScore` (clamped to 1–100); 100 examines every node.
    pub fn with_percentage_of_nodes_to_score(mut self, percentage: u32) -> Self {
        self.percentage_of_nodes_to_score = Some(percentage.clamp(1, 100));
        self
    }

    /// Replaces the queue (to set a back-off policy).
    pub fn with_queue(mut self, queue: SchedulingQueue) -> Self {
        self.queue = queue;
        self
    }

    /// The queue, to add pods and report outcomes.
    pub fn queue(&mut self) -> &mut SchedulingQueue {
        &mut self.queue
    }

    // ANCHOR: schedule_one
    /// Runs one scheduling cycle at `now`: pops the next ready pod (none: `None`) and decides
    /// where it goes. The pod stays "in flight" in the queue until the caller reports back
    /// with `queue().done`, `park_unschedulable` or `back_off`.
    pub fn schedule_one(&mut self, now: Duration, cache: &ClusterCache) -> Option<Decision> {
        let pod = self.queue.pop(now)?;
        let outcome = self.decide(&pod, cache);
        Some(Decision { pod, outcome })
    }

    /// Filter, then score: where `pod` should go on the cluster `cache` describes.
    pub fn decide(&mut self, pod: &PodInfo, cache: &ClusterCache) -> Outcome {
        let nodes = cache.nodes();
        match self.find_feasible(pod, nodes) {
            Err(rejections) => Outcome::Unschedulable {
                message: explain(nodes.len(), &rejections),
            },
            Ok(feasible) => {
                let (node, score) = self.pick_best(pod, nodes, &feasible);
                Outcome::Bind { node, score }
            }
        }
    }
    // ANCHOR_END: schedule_one

    // ANCHOR: find_feasible
    /// Runs the filters from the round-robin start, stopping once enough feasible nodes are
    /// found (all of them on small clusters). Returns the feasible nodes' positions, or every
    /// node's reasons when none fits.
    fn find_feasible(
        &mut self,
        pod: &PodInfo,
        nodes: &[NodeInfo],
    ) -> Result<Vec<usize>, Vec<Unfit>> {
        let total = nodes.len();
        let wanted = nodes_to_find(total, self.percentage_of_nodes_to_score);
        let mut feasible = Vec::with_capacity(wanted);
        let mut rejections = Vec::new();
        let mut examined = 0;
        while examined < total && feasible.len() < wanted {
            let i = (self.next_start + examined) % total;
            examined += 1;
            match self.profile.filter(pod, &nodes[i]) {
                Ok(()) => feasible.push(i),
                Err(unfit) => rejections.push(unfit),
            }
        }
        self.next_start = (self.next_start + examined) % total.max(1);
        if feasible.is_empty() {
            Err(rejections)
        } else {
            Ok(feasible)
        }
    }
    // ANCHOR_END: find_feasible

    // ANCHOR: pick_best
    /// Scores the feasible nodes with every score plugin (normalised, weighted, summed) and
    /// returns the best. Ties go to the node whose name sorts first: Kubernetes picks at random
    /// among tied nodes; skiff stays deterministic so that tests and snapshots are stable.
    fn pick_best(&self, pod: &PodInfo, nodes: &[NodeInfo], feasible: &[usize]) -> (String, i64) {
        if let [only] = feasible {
            return (nodes[*only].name.clone(), 0);
        }
        let mut totals = vec![0i64; feasible.len()];
        let mut scores = vec![0i64; feasible.len()];
        for weighted in &self.profile.scores {
            for (score, &i) in scores.iter_mut().zip(feasible) {
                *score = weighted.plugin.score(pod, &nodes[i]);
            }
            weighted.plugin.normalize(&mut scores);
            for (total, score) in totals.iter_mut().zip(&scores) {
                *total += score * weighted.weight;
            }
        }
        let best = feasible
            .iter()
            .zip(&totals)
            .max_by(|(a, score_a), (b, score_b)| {
                score_a
                    .cmp(score_b)
                    .then_with(|| nodes[**b].cmp_name(&nodes[**a]))
            })
            .map(|(&i, &score)| (nodes[i].name.clone(), score));
        best.unwrap_or_default()
    }
    // ANCHOR_END: pick_best
}

// ANCHOR: nodes_to_find
/// How many feasible nodes a cycle looks for before it stops filtering, out of `total`
/// (Kubernetes' `numFeasibleNodesToFind`). Small clusters: all. Otherwise a percentage, by
/// default adaptive: 50% minus 1% per 125 nodes, at least 5%, and never fewer than 100 nodes.
/// At 5,000 nodes that is 10%: 500 nodes, a tenth of the work, for a choice almost as good.
pub fn nodes_to_find(total: usize, percentage: Option<u32>) -> usize {
    if total < MIN_FEASIBLE_NODES_TO_FIND {
        return total;
    }
    let percentage = match percentage {
        Some(p) => p as usize,
        None => 50usize.saturating_sub(total / 125).max(5),
    };
    if percentage >= 100 {
        return total;
    }
    (total * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}
// ANCHOR_END: nodes_to_find
