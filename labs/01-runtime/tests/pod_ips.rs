//! Graded tests of `runtime-pod-ip`: loopback pod IPs, unique among live sandboxes, released.

mod common;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use runtime::pod_ip::PodIpAllocator;
use runtime::{ContainerRuntime, FakeClock, FakeRuntime, RuntimeError, SandboxFilter};

#[test]
fn hands_out_distinct_addresses_skipping_network_broadcast_and_localhost() {
    let mut pool = PodIpAllocator::new(Ipv4Addr::new(127, 0, 0, 0), 24).unwrap();
    let given: Vec<Ipv4Addr> = (0..253).map(|_| pool.allocate().unwrap()).collect();
    let unique: BTreeSet<_> = given.iter().copied().collect();
    assert_eq!(unique.len(), 253, "every address handed out once");
    assert!(!unique.contains(&Ipv4Addr::new(127, 0, 0, 0)));
    assert!(!unique.contains(&Ipv4Addr::new(127, 0, 0, 1)));
    assert!(!unique.contains(&Ipv4Addr::new(127, 0, 0, 255)));
    assert_eq!(given[0], Ipv4Addr::new(127, 0, 0, 2));
}

#[test]
fn the_first_addresses_of_the_default_range() {
    let mut pool = PodIpAllocator::default();
    assert_eq!(pool.allocate().unwrap(), Ipv4Addr::new(127, 1, 0, 1));
    assert_eq!(pool.allocate().unwrap(), Ipv4Addr::new(127, 1, 0, 2));
    assert_eq!(pool.in_use(), 2);
}

#[test]
fn skips_dot_255_and_dot_0_across_a_third_octet_boundary() {
    let mut pool = PodIpAllocator::new(Ipv4Addr::new(127, 9, 0, 0), 16).unwrap();
    let given: Vec<Ipv4Addr> = (0..256).map(|_| pool.allocate().unwrap()).collect();
    assert_eq!(given[253], Ipv4Addr::new(127, 9, 0, 254));
    assert_eq!(
        given[254],
        Ipv4Addr::new(127, 9, 1, 1),
        "127.9.0.255 and 127.9.1.0 are skipped"
    );
}

#[test]
fn a_released_address_is_reused_only_after_the_others() {
    let mut pool = PodIpAllocator::new(Ipv4Addr::new(127, 5, 5, 0), 29).unwrap();
    let first = pool.allocate().unwrap();
    let second = pool.allocate().unwrap();
    pool.release(first);
    assert_eq!(pool.in_use(), 1);
    let mut next: Vec<Ipv4Addr> = Vec::new();
    while let Ok(ip) = pool.allocate() {
        next.push(ip);
    }
    assert!(
        !next.contains(&second),
        "a live address is never handed out twice"
    );
    assert_eq!(
        next.last(),
        Some(&first),
        "the released address comes back last"
    );
}

#[test]
fn a_full_range_is_an_error_naming_the_range() {
    let mut pool = PodIpAllocator::new(Ipv4Addr::new(127, 7, 7, 0), 30).unwrap();
    // 127.7.7.0/30 has .0 (skipped), .1, .2 and .3.
    for _ in 0..3 {
        pool.allocate().unwrap();
    }
    let error = pool.allocate().unwrap_err();
    assert!(matches!(error, RuntimeError::PodIpsExhausted { .. }));
    assert_eq!(error.to_string(), "no free pod IP left in 127.7.7.0/30");
    pool.release(Ipv4Addr::new(127, 7, 7, 2));
    assert_eq!(pool.allocate().unwrap(), Ipv4Addr::new(127, 7, 7, 2));
}

#[test]
fn ranges_outside_loopback_or_too_small_are_rejected() {
    let error = PodIpAllocator::new(Ipv4Addr::new(10, 0, 0, 0), 16).unwrap_err();
    assert_eq!(
        error.to_string(),
        "pod_range.base: must be inside 127.0.0.0/8 (loopback), got 10.0.0.0"
    );
    let error = PodIpAllocator::new(Ipv4Addr::new(127, 0, 0, 0), 31).unwrap_err();
    assert_eq!(
        error.to_string(),
        "pod_range.prefix_len: must be between 8 and 30, got 31"
    );
}

#[tokio::test]
async fn real_sandboxes_get_their_own_ip_released_on_removal() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 20, 0, 0), 30));
    let a = common::sandbox(&rt, "a").await;
    let b = common::sandbox(&rt, "b").await;
    let c = common::sandbox(&rt, "c").await;
    let ips: BTreeSet<Ipv4Addr> = rt
        .list_pod_sandboxes(&SandboxFilter::default())
        .await
        .unwrap()
        .iter()
        .map(|s| s.ip)
        .collect();
    assert_eq!(ips.len(), 3, "three live sandboxes, three addresses");
    let error = rt
        .run_pod_sandbox(runtime::PodSandboxConfig::new("d", "test", "uid-d"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RuntimeError::PodIpsExhausted { .. }),
        "{error}"
    );
    let b_ip = rt.pod_sandbox_status(&b).await.unwrap().ip;
    rt.remove_pod_sandbox(&b).await.unwrap();
    let d = common::sandbox(&rt, "d").await;
    assert_eq!(
        rt.pod_sandbox_status(&d).await.unwrap().ip,
        b_ip,
        "the only free address is b's"
    );
    for id in [a, c, d] {
        rt.remove_pod_sandbox(&id).await.unwrap();
    }
}

#[tokio::test]
async fn fake_sandboxes_use_the_same_allocator() {
    let rt = FakeRuntime::new(FakeClock::new());
    let a = common::sandbox(&rt, "a").await;
    let b = common::sandbox(&rt, "b").await;
    let a_ip = rt.pod_sandbox_status(&a).await.unwrap().ip;
    let b_ip = rt.pod_sandbox_status(&b).await.unwrap().ip;
    assert_eq!(
        (a_ip, b_ip),
        (Ipv4Addr::new(127, 1, 0, 1), Ipv4Addr::new(127, 1, 0, 2))
    );
    rt.remove_pod_sandbox(&a).await.unwrap();
    let c = common::sandbox(&rt, "c").await;
    assert_eq!(
        rt.pod_sandbox_status(&c).await.unwrap().ip,
        Ipv4Addr::new(127, 1, 0, 3),
        "a recreated pod gets a new IP"
    );
}
