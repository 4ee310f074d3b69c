//! `skiff scheduler --kubeconfig FILE`: lab 05's scheduler, binding pods through the API.
//!
//! With `--leader-elect`, several schedulers can run: lab 06's elector decides through the
//! Lease `kube-system/kube-scheduler` which one acts; the others stand by and take over when
//! the leader stops renewing.

use std::path::PathBuf;
use std::time::Duration;

use api::client::ApiClient;
use controllers::leader::{ElectionConfig, LEADER_LEASE_NAMESPACE, LeaderElector};
use scheduler::driver::SchedulerDriver;
use scheduler::framework::Profile;
use scheduler::scheduler::Scheduler;

use super::{RETRY, connect, mark_ready, stop_signal, wall_clock_now};
use crate::flags::{Flag, Flags};

/// `skiff scheduler --help`.
pub const USAGE: &str = "\
skiff scheduler: assigns each new pod to a node (filter, score, bind)

Usage: skiff scheduler --kubeconfig FILE [options]

Options:
  --kubeconfig FILE      the scheduler's kubeconfig (user system:kube-scheduler) [env: KUBECONFIG]
  --ready-file FILE      created once the first list of nodes and pods succeeded (with
                         --leader-elect: once the first look at the lease succeeded)
  --leader-elect         act only while holding the Lease kube-system/kube-scheduler, so that
                         a standby scheduler can run next to this one
  --lease-seconds N      the lease's duration with --leader-elect; renewals must succeed
                         within 2/3 of it, tries come every 1/5 of it [default: 15]
  --identity NAME        this scheduler's holderIdentity [default: scheduler-<pid>]
  -h, --help             print this help
";

/// The name of the scheduler's Lease in `kube-system` (Kubernetes uses the same one).
pub const LEASE_NAME: &str = "kube-scheduler";

/// The parsed flags of `skiff scheduler`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerArgs {
    /// `--kubeconfig`.
    pub kubeconfig: PathBuf,
    /// `--ready-file`.
    pub ready_file: Option<PathBuf>,
    /// `--leader-elect` (with `--lease-seconds` and `--identity`); `None` without it.
    pub election: Option<ElectionConfig>,
}

// ANCHOR: election_config
/// The election timing for a lease of `seconds`: renew deadline 2/3 of it, retry 1/5.
/// 15 s gives 15 s / 10 s / 3 s (client-go: 15 / 10 / 2); 3 s (for tests) gives 3 s / 2 s /
/// 0.6 s. Fails, naming `--lease-seconds`, outside 2 to 3600 s.
pub fn election_config(identity: &str, seconds: u64) -> Result<ElectionConfig, String> {
    // EXERCISE(cluster-election-config): reject seconds outside 2..=3600 naming --lease-seconds; the lease is `seconds`, the renew deadline two thirds of it, the retry period a fifth; validate the result
    if !(2..=3600).contains(&seconds) {
        return Err(format!(
            "--lease-seconds: {seconds} is not between 2 and 3600"
        ));
    }
    let lease = Duration::from_secs(seconds);
    let config = ElectionConfig {
        identity: identity.to_string(),
        lease_duration: lease,
        renew_deadline: lease * 2 / 3,
        retry_period: lease / 5,
    };
    config
        .validate()
        .map_err(|e| format!("--lease-seconds {seconds}: {e}"))?;
    Ok(config)
    // END EXERCISE
}
// ANCHOR_END: election_config

/// The leader-election flags the scheduler and the controller manager share:
/// `--leader-elect`, `--lease-seconds` and `--identity`.
#[derive(Debug, Clone)]
pub struct ElectionFlags {
    leader_elect: bool,
    seconds: u64,
    identity: String,
}

impl ElectionFlags {
    /// No election, a 15 s lease and the identity `<component>-<pid>` until flags say otherwise.
    pub fn new(component: &str) -> Self {
        ElectionFlags {
            leader_elect: false,
            seconds: 15,
            identity: format!("{component}-{}", std::process::id()),
        }
    }

    /// Takes `flag` if it is one of the election flags (`Ok(true)`); `Ok(false)` otherwise.
    pub fn take(&mut self, flag: &Flag, flags: &mut Flags) -> Result<bool, String> {
        match flag.name.as_str() {
            "--leader-elect" => self.leader_elect = true,
            "--lease-seconds" => self.seconds = flags.parsed(flag, "a number of seconds")?,
            "--identity" => {
                self.identity = flags.value(flag)?;
                if self.identity.is_empty() {
                    return Err("--identity: must not be empty".to_string());
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The election the flags ask for: `None` without `--leader-elect`.
    pub fn config(&self) -> Result<Option<ElectionConfig>, String> {
        self.leader_elect
            .then(|| election_config(&self.identity, self.seconds))
            .transpose()
    }
}

/// Parses the flags; `Ok(None)` for `--help`. Errors name the flag.
pub fn parse(args: &[String]) -> Result<Option<SchedulerArgs>, String> {
    let mut kubeconfig = std::env::var_os("KUBECONFIG").map(PathBuf::from);
    let mut ready_file = None;
    let mut election = ElectionFlags::new("scheduler");
    let mut flags = Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        if election.take(&flag, &mut flags)? {
            continue;
        }
        match flag.name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--kubeconfig" => kubeconfig = Some(flags.value(&flag)?.into()),
            "--ready-file" => ready_file = Some(flags.value(&flag)?.into()),
            other => return Err(format!("{other}: unknown option (see --help)")),
        }
    }
    let election = election.config()?;
    let kubeconfig = kubeconfig.ok_or("--kubeconfig: required (or set KUBECONFIG)")?;
    Ok(Some(SchedulerArgs {
        kubeconfig,
        ready_file,
        election,
    }))
}

/// Schedules until SIGINT or SIGTERM (with `--leader-elect`, only while leading).
pub async fn run(args: SchedulerArgs) -> Result<(), String> {
    let stop = stop_signal()?;
    let api = connect(&args.kubeconfig)?;
    match args.election {
        None => {
            tokio::select! {
                () = stop => Ok(()),
                () = schedule_forever(api, args.ready_file) => Ok(()),
            }
        }
        Some(config) => {
            let elector = LeaderElector::new(
                api.clone(),
                LEADER_LEASE_NAMESPACE,
                LEASE_NAME,
                config,
                wall_clock_now(),
            )?;
            let mut elected = Elected {
                elector,
                driver: None,
                start: tokio::time::Instant::now(),
            };
            tokio::select! {
                () = stop => {
                    elected.release().await;
                    Ok(())
                }
                () = elected.run(api, args.ready_file) => Ok(()),
            }
        }
    }
}

// ANCHOR: schedule_forever
/// Schedules forever. When the API fails the driver (server restarting, watch dropped), a new
/// driver lists everything again after a second: level-triggered, so nothing is lost.
async fn schedule_forever<C: ApiClient + Clone>(api: C, ready_file: Option<PathBuf>) {
    let mut ready = false;
    loop {
        let scheduler = Scheduler::new(Profile::default_plugins());
        let mut driver = SchedulerDriver::new(api.clone(), scheduler, wall_clock_now());
        match driver.sync(std::time::Duration::ZERO).await {
            Ok(()) => {
                if !ready {
                    mark_ready(ready_file.as_deref());
                    ready = true;
                }
                if let Err(error) = driver.run().await {
                    tracing::warn!(%error, "scheduler stopped; starting over");
                }
            }
            Err(error) => tracing::warn!(%error, "listing nodes and pods failed; retrying"),
        }
        tokio::time::sleep(RETRY).await;
    }
}
// ANCHOR_END: schedule_forever

/// How often a leading scheduler looks at its watches between two lease ticks.
const LEADING_POLL: Duration = Duration::from_millis(100);

/// A scheduler that acts only while its elector leads.
struct Elected<C: ApiClient> {
    elector: LeaderElector<C>,
    /// The driver of the current term; dropped when the term ends, so that the next term
    /// starts from a fresh list (what a standby saw is stale by the time it leads).
    driver: Option<SchedulerDriver<C>>,
    /// Zero on the elector's clock.
    start: tokio::time::Instant,
}

impl<C: ApiClient + Clone> Elected<C> {
    // ANCHOR: elected_run
    /// Ticks the elector when due (every retry period, or when a renewal is due); while
    /// leading, schedules what the watches brought, every [`LEADING_POLL`].
    async fn run(&mut self, api: C, ready_file: Option<PathBuf>) {
        let start = self.start;
        let retry = self.elector.elector().config().retry_period;
        let mut next_tick = Duration::ZERO;
        let mut ready = false;
        loop {
            let now = start.elapsed();
            if now >= next_tick {
                let leading = self.elector.elector().in_term();
                let ticked = self.elector.tick(now).await;
                if ticked.is_ok() && !ready {
                    mark_ready(ready_file.as_deref());
                    ready = true;
                }
                if leading != self.elector.elector().in_term() {
                    tracing::info!(
                        identity = %self.elector.elector().config().identity,
                        leading = !leading,
                        "leadership changed"
                    );
                }
                next_tick = self.elector.next_tick(now).min(now + retry);
            }
            if self.elector.is_leading(now) {
                let driver = self.driver.get_or_insert_with(|| {
                    let scheduler = Scheduler::new(Profile::default_plugins());
                    SchedulerDriver::new(api.clone(), scheduler, wall_clock_now())
                });
                if let Err(error) = driver.run_until_quiet(now).await {
                    tracing::warn!(%error, "scheduler stopped; starting over");
                    self.driver = None;
                }
            } else {
                self.driver = None;
            }
            let wake = next_tick.max(now + Duration::from_millis(10));
            tokio::time::sleep_until(start + wake.min(now + LEADING_POLL)).await;
        }
    }
    // ANCHOR_END: elected_run

    /// Gives the lease up on a clean stop, so that the standby need not wait for it to expire.
    async fn release(&mut self) {
        if let Err(error) = self.elector.release(self.start.elapsed()).await {
            tracing::warn!(%error, "releasing the lease failed");
        }
    }
}
