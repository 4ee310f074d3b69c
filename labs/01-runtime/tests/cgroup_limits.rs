//! Graded tests of `runtime-cgroup-limits`: limits to cgroup files; detection; a real OOM kill.

mod common;

use std::net::Ipv4Addr;
use std::path::PathBuf;

use runtime::cgroup::{CgroupLayout, CgroupVersion, Controller, LimitFile, limit_files};
use runtime::{ContainerConfig, ContainerRuntime, ExitReason, LimitSupport, ResourceLimits};

fn files(
    limits: ResourceLimits,
    version: CgroupVersion,
) -> Vec<(Controller, &'static str, String)> {
    limit_files(&limits, version)
        .into_iter()
        .map(
            |LimitFile {
                 controller,
                 file,
                 value,
             }| (controller, file, value),
        )
        .collect()
}

const ALL: ResourceLimits = ResourceLimits {
    memory_bytes: Some(64 << 20),
    cpu_millicores: Some(500),
    pids: Some(32),
};

#[test]
fn v2_files() {
    assert_eq!(
        files(ALL, CgroupVersion::V2),
        [
            (Controller::Memory, "memory.max", "67108864".to_string()),
            (Controller::Cpu, "cpu.max", "50000 100000".to_string()),
            (Controller::Pids, "pids.max", "32".to_string()),
        ]
    );
}

#[test]
fn v1_files_write_the_period_before_the_quota() {
    assert_eq!(
        files(ALL, CgroupVersion::V1),
        [
            (
                Controller::Memory,
                "memory.limit_in_bytes",
                "67108864".to_string()
            ),
            (Controller::Cpu, "cpu.cfs_period_us", "100000".to_string()),
            (Controller::Cpu, "cpu.cfs_quota_us", "50000".to_string()),
            (Controller::Pids, "pids.max", "32".to_string()),
        ]
    );
}

#[test]
fn more_than_one_core_and_no_limits() {
    let two_and_a_half = ResourceLimits {
        cpu_millicores: Some(2500),
        ..Default::default()
    };
    assert_eq!(
        files(two_and_a_half, CgroupVersion::V2),
        [(Controller::Cpu, "cpu.max", "250000 100000".to_string())]
    );
    assert_eq!(files(ResourceLimits::default(), CgroupVersion::V1), []);
}

const MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

#[test]
fn detects_v1_controllers_below_the_own_group() {
    let membership = "8:pids:/\n4:memory:/jobs/42\n1:cpu:/\n0::/\n";
    let layout = CgroupLayout::from_proc(membership, MOUNTINFO, |_| "memory cpu pids".into());
    let memory = layout.dir(Controller::Memory).unwrap();
    assert_eq!(
        (memory.version, memory.dir.clone()),
        (
            CgroupVersion::V1,
            PathBuf::from("/sys/fs/cgroup/memory/jobs/42")
        )
    );
    assert_eq!(
        layout.dir(Controller::Cpu).unwrap().dir,
        PathBuf::from("/sys/fs/cgroup/cpu")
    );
}

#[test]
fn detects_a_pure_v2_machine_and_its_offered_controllers() {
    let mountinfo = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
    let membership = "0::/user.slice/session-1.scope\n";
    let layout = CgroupLayout::from_proc(membership, mountinfo, |dir| {
        assert_eq!(
            dir,
            PathBuf::from("/sys/fs/cgroup/user.slice/session-1.scope")
        );
        "cpu memory".into()
    });
    assert_eq!(
        layout.dir(Controller::Memory).unwrap().version,
        CgroupVersion::V2
    );
    assert!(layout.dir(Controller::Cpu).is_some());
    assert!(
        layout.dir(Controller::Pids).is_none(),
        "pids is not offered"
    );
}

#[test]
fn no_cgroup_mount_means_no_controller() {
    let layout = CgroupLayout::from_proc("0::/\n", "22 1 0:5 / /proc rw - proc proc rw\n", |_| {
        String::new()
    });
    assert_eq!(layout, CgroupLayout::none());
}

#[tokio::test]
async fn a_container_over_its_memory_limit_is_oom_killed() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 28, 0, 0), 24));
    if !common::has_memory_cgroup(&rt) {
        eprintln!(
            "SKIPPED: no usable memory cgroup here ({}); OOM kills need one",
            rt.info().memory
        );
        return;
    }
    let sandbox = common::sandbox(&rt, "hog").await;
    let limits = ResourceLimits {
        memory_bytes: Some(32 << 20),
        ..Default::default()
    };
    let hog = ContainerConfig::new("hog", "skiff/memory-hog:1")
        .with_args(["4", "1024"])
        .with_limits(limits);
    let id = common::start(&rt, &sandbox, hog).await;
    let status = common::exited(&rt, &id).await;
    assert_eq!(
        (status.exit_code, status.reason),
        (Some(137), Some(ExitReason::OOMKilled))
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

#[tokio::test]
async fn a_container_within_its_limits_runs_normally() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 29, 0, 0), 24));
    let sandbox = common::sandbox(&rt, "fits").await;
    let limits = ResourceLimits {
        memory_bytes: Some(256 << 20),
        cpu_millicores: Some(200),
        pids: Some(16),
    };
    let fits = ContainerConfig::new("fits", "skiff/crasher:1")
        .with_args(["0"])
        .with_limits(limits);
    let id = common::start(&rt, &sandbox, fits).await;
    let status = common::exited(&rt, &id).await;
    assert_eq!(
        (status.exit_code, status.reason),
        (Some(0), Some(ExitReason::Completed))
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

#[tokio::test]
async fn limits_are_written_to_the_container_cgroups_which_go_away_on_removal() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 40, 0, 0), 24));
    if !common::has_memory_cgroup(&rt) {
        eprintln!(
            "SKIPPED: no usable memory cgroup here ({})",
            rt.info().memory
        );
        return;
    }
    let sandbox = common::sandbox(&rt, "limited").await;
    let limits = ResourceLimits {
        memory_bytes: Some(64 << 20),
        cpu_millicores: Some(250),
        pids: Some(8),
    };
    let config = ContainerConfig::new("limited", "skiff/sleeper:1").with_limits(limits);
    let id = common::start(&rt, &sandbox, config).await;
    let pid = rt
        .container_status(&id)
        .await
        .unwrap()
        .pid
        .unwrap()
        .to_string();

    let mut groups = Vec::new();
    for controller in Controller::ALL {
        let (Some(group), LimitSupport::Cgroup(version)) = (
            rt.cgroup_dir(&id, controller).unwrap(),
            support(&rt, controller),
        ) else {
            continue;
        };
        for file in limit_files(&limits, version)
            .into_iter()
            .filter(|f| f.controller == controller)
        {
            let written = std::fs::read_to_string(group.join(file.file)).unwrap();
            assert_eq!(
                written.trim(),
                file.value,
                "{}",
                group.join(file.file).display()
            );
        }
        let members = std::fs::read_to_string(group.join("cgroup.procs")).unwrap();
        assert!(
            members.lines().any(|line| line.trim() == pid),
            "the container joined {}",
            group.display()
        );
        groups.push(group);
    }
    assert!(!groups.is_empty(), "at least the memory controller is used");
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
    for group in groups {
        assert!(
            !group.exists(),
            "{} is removed with its container",
            group.display()
        );
    }
}

/// How the runtime enforces this controller's limits.
fn support(rt: &runtime::RealRuntime, controller: Controller) -> LimitSupport {
    let info = rt.info();
    match controller {
        Controller::Memory => info.memory,
        Controller::Cpu => info.cpu,
        Controller::Pids => info.pids,
    }
}

#[tokio::test]
async fn without_cgroups_memory_falls_back_to_an_rlimit_and_info_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = runtime::RuntimeConfig::new(dir.path());
    config.pod_range = (Ipv4Addr::new(127, 41, 0, 0), 24);
    config.image_binary = Some(PathBuf::from(env!("CARGO_BIN_EXE_skiff-image")));
    config.use_cgroups = false;
    let rt = runtime::RealRuntime::new(config).unwrap();
    let info = rt.info();
    assert_eq!(
        (info.memory, info.cpu, info.pids),
        (
            LimitSupport::Rlimit,
            LimitSupport::NotEnforced,
            LimitSupport::Rlimit
        )
    );
    assert_eq!(info.memory.to_string(), "rlimit fallback (no cgroup)");

    let sandbox = common::sandbox(&rt, "fallback").await;
    let limits = ResourceLimits {
        memory_bytes: Some(256 << 20),
        ..Default::default()
    };
    let hog = ContainerConfig::new("hog", "skiff/memory-hog:1")
        .with_args(["32", "4096"])
        .with_limits(limits);
    let id = common::start(&rt, &sandbox, hog).await;
    let status = common::exited(&rt, &id).await;
    // The address-space cap makes an allocation fail: the program sees an error and exits 1,
    // where a memory cgroup would have OOM-killed it.
    assert_eq!(
        (status.exit_code, status.reason),
        (Some(1), Some(ExitReason::Error))
    );
    let log = rt.container_logs(&id).await.unwrap();
    assert!(
        log.contains("stderr F memory-hog: allocation failed after"),
        "{log}"
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}
