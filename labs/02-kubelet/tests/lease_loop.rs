//! A kubelet that runs for real renews its Lease from a loop of its own: a sync stuck in a
//! slow probe does not stop the heartbeat the node controller judges the node by. With a
//! 5 s grace period, a heartbeat that waited for the sync loop would let one hung probe get
//! every pod of the node evicted.
//!
//! Real time, but nothing is timed: the test waits (with a deadline as a safety net) until the
//! probe is stuck, then until the Lease has been renewed three more times.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use api::client::{ApiClient, InMemoryApi};
use api::{Lease, MicroTime, Pod};
use common::{NODE, exec_probe, fixed_machine, pod};
use kubelet::probe::ProbeRequest;
use kubelet::{Kubelet, KubeletConfig, ProbeOutcome, ProbeRunner};
use runtime::{FakeBehavior, FakeClock, FakeImage, FakeRuntime, SystemClock};
use tokio::sync::watch;

/// A prober whose probes never finish, like an HTTP probe of a server that accepts the
/// connection and never answers, with a very long timeout. It says when the first one started.
struct StuckProber {
    started: watch::Sender<bool>,
}

impl ProbeRunner for StuckProber {
    fn run(&self, _request: ProbeRequest) -> impl Future<Output = (ProbeOutcome, String)> + Send {
        self.started.send_replace(true);
        std::future::pending()
    }
}

/// The Lease's renewTime, if it exists yet.
async fn renewed(api: &InMemoryApi) -> Option<MicroTime> {
    let lease: Lease = api.get(Some("kube-node-lease"), NODE).await.ok()?;
    lease.spec.renew_time
}

#[tokio::test(flavor = "current_thread")]
async fn a_stuck_probe_does_not_stop_the_lease_renewals() {
    let runtime = Arc::new(FakeRuntime::new(FakeClock::new()));
    runtime.add_image("fake/sleeper", FakeImage::new(FakeBehavior::RunForever));
    let api = InMemoryApi::new();
    let mut web = pod("web", &[("app", "fake/sleeper")]);
    web.spec.node_name = Some(NODE.to_string());
    web.spec.containers[0].liveness_probe = Some(exec_probe(1, 3));
    let _: Pod = api.create(web).await.unwrap();

    let (started, mut probe_started) = watch::channel(false);
    let mut config = KubeletConfig::new(NODE);
    // Renewed every 100 ms, so that the test is quick.
    config.lease_duration = Duration::from_millis(400);
    let mut kubelet = Kubelet::new(
        config,
        runtime,
        api.clone(),
        StuckProber { started },
        Arc::new(SystemClock),
    )
    .with_machine(Arc::new(fixed_machine));

    let check = async {
        probe_started.wait_for(|s| *s).await.unwrap();
        // From here on the sync loop waits for the probe, forever.
        let mut seen = BTreeSet::new();
        while seen.len() < 4 {
            if let Some(at) = renewed(&api).await {
                seen.insert(at.0);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let deadline = Duration::from_secs(60);
    tokio::select! {
        () = kubelet.run(std::future::pending()) => panic!("the kubelet stopped by itself"),
        done = tokio::time::timeout(deadline, check) => done.unwrap_or_else(|_| {
            panic!("the Lease was not renewed 3 times while the probe was stuck")
        }),
    }
}
