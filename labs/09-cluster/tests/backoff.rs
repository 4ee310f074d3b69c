//! The supervisor's restart back-off, on plain numbers.

use std::time::Duration;

use skiff::backoff::{Backoff, RestartPolicy, restart_delay};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn policy() -> RestartPolicy {
    RestartPolicy {
        base: secs(1),
        cap: secs(30),
        reset_after: secs(60),
    }
}

#[test]
fn the_first_crash_waits_the_base_then_each_crash_doubles_up_to_the_cap() {
    let delays: Vec<Duration> = (1..=8).map(|n| restart_delay(&policy(), n)).collect();
    assert_eq!(
        delays,
        [1, 2, 4, 8, 16, 30, 30, 30].map(secs).to_vec(),
        "1 s, doubling, capped at 30 s"
    );
}

#[test]
fn no_crash_means_no_wait() {
    assert_eq!(restart_delay(&policy(), 0), Duration::ZERO);
}

#[test]
fn huge_crash_counts_and_bases_stay_at_the_cap_without_overflowing() {
    assert_eq!(restart_delay(&policy(), 64), secs(30));
    assert_eq!(restart_delay(&policy(), u32::MAX), secs(30));
    let huge = RestartPolicy {
        base: Duration::from_secs(u64::MAX / 2),
        cap: Duration::MAX,
        reset_after: secs(60),
    };
    assert_eq!(restart_delay(&huge, 5), Duration::MAX);
}

#[test]
fn a_process_that_ran_long_enough_starts_the_count_again() {
    let mut backoff = Backoff::new(policy());
    assert_eq!(backoff.on_exit(secs(0)), secs(1));
    assert_eq!(backoff.on_exit(secs(2)), secs(2));
    assert_eq!(backoff.on_exit(secs(5)), secs(4));
    assert_eq!(backoff.crashes(), 3);
    // It ran for a minute: it had recovered, so this crash is a first one again.
    assert_eq!(backoff.on_exit(secs(60)), secs(1));
    assert_eq!(backoff.crashes(), 1);
}
