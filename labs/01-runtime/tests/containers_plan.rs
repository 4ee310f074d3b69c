//! Graded: the pure decisions of isolation (namespace sets, join order, mount plan), which run
//! on any machine, root or not; plus the errors of bad helper and config input.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use runtime::IsolationMode;
use runtime::isolation::helper::{EnterArgs, SandboxArgs};
use runtime::isolation::rootfs::parse_ldd;
use runtime::isolation::{MountStep, Namespace, join_order, mount_plan, sandbox_namespaces};
use runtime::pod_ip::PodIpAllocator;

use Namespace::{Ipc, Mount, Net, Pid, User, Uts};

#[test]
fn process_mode_owns_no_namespace() {
    assert_eq!(sandbox_namespaces(IsolationMode::Process), vec![]);
}

#[test]
fn rootless_creates_the_user_namespace_first() {
    assert_eq!(
        sandbox_namespaces(IsolationMode::Rootless),
        vec![User, Pid, Uts, Ipc]
    );
}

#[test]
fn root_mode_adds_a_network_namespace_and_no_user_namespace() {
    assert_eq!(
        sandbox_namespaces(IsolationMode::Root),
        vec![Pid, Uts, Ipc, Net]
    );
}

#[test]
fn a_container_joins_the_user_namespace_first() {
    assert_eq!(
        join_order(&[Pid, Uts, User, Ipc]),
        vec![User, Pid, Uts, Ipc]
    );
}

#[test]
fn a_container_never_joins_a_mount_namespace_and_joins_each_once() {
    assert_eq!(
        join_order(&[Net, Mount, Pid, Net, Uts]),
        vec![Net, Pid, Uts]
    );
    assert_eq!(join_order(&[]), vec![]);
}

#[test]
fn the_mount_plan_overlays_the_image_and_pivots_into_it() {
    let plan = mount_plan(Path::new("/images/sleeper"), Path::new("/pods/a/layer-1"));
    let layer = PathBuf::from("/pods/a/layer-1");
    let root = layer.join("root");
    let mut expected = vec![
        MountStep::MakePrivate,
        MountStep::Tmpfs {
            target: layer.clone(),
        },
        MountStep::CreateDir {
            path: layer.join("upper"),
        },
        MountStep::CreateDir {
            path: layer.join("work"),
        },
        MountStep::CreateDir { path: root.clone() },
        MountStep::Overlay {
            lower: PathBuf::from("/images/sleeper"),
            upper: layer.join("upper"),
            work: layer.join("work"),
            target: root.clone(),
        },
        MountStep::Proc {
            target: root.join("proc"),
        },
    ];
    for device in ["null", "zero", "random", "urandom"] {
        expected.push(MountStep::BindDevice {
            source: Path::new("/dev").join(device),
            target: root.join("dev").join(device),
        });
    }
    expected.push(MountStep::PivotRoot { new_root: root });
    assert_eq!(plan, expected);
}

#[test]
fn the_mount_plan_reads_as_shell_commands() {
    let plan = mount_plan(Path::new("/img"), Path::new("/l"));
    let text: Vec<String> = plan.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(text.join("\n"));
}

#[test]
fn ldd_output_gives_the_library_files() {
    let output = "\tlinux-vdso.so.1 (0x00007ffd)\n\
        \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f84)\n\
        \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f84)\n\
        \t/lib64/ld-linux-x86-64.so.2 (0x00007f84)\n";
    assert_eq!(
        parse_ldd(output),
        vec![
            PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
            PathBuf::from("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
            PathBuf::from("/lib64/ld-linux-x86-64.so.2"),
        ]
    );
    assert!(parse_ldd("\tnot a dynamic executable\n").is_empty());
}

#[test]
fn isolation_modes_parse_and_bad_ones_are_named() {
    for mode in IsolationMode::ALL {
        assert_eq!(mode.name().parse::<IsolationMode>().unwrap(), mode);
    }
    let error = "chroot".parse::<IsolationMode>().unwrap_err().to_string();
    assert_eq!(
        error,
        "isolation: must be one of process, rootless, root; got \"chroot\""
    );
}

#[test]
fn helper_command_lines_round_trip() {
    let sandbox = SandboxArgs {
        namespaces: vec![User, Pid, Uts, Ipc],
        hostname: "web".into(),
        netns: Some(PathBuf::from("/var/run/netns/x")),
    };
    assert_eq!(SandboxArgs::parse(&sandbox.to_args()).unwrap(), sandbox);
    let enter = EnterArgs {
        pod_pid: 42,
        namespaces: vec![Pid, Net],
        image: "/img".into(),
        layer_dir: "/layer".into(),
        workdir: "/".into(),
        mounts: vec![
            ("/pods/u1/hosts/hosts".into(), "/etc/hosts".into()),
            ("/pods/u1/volumes/config".into(), "/etc/web".into()),
        ],
        command: vec!["/bin/skiff-image".into(), "sleeper".into()],
    };
    assert_eq!(EnterArgs::parse(&enter.to_args()).unwrap(), enter);
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| word.to_string()).collect()
}

#[test]
fn bad_helper_command_lines_name_the_flag() {
    let error = |args: &[&str]| EnterArgs::parse(&strings(args)).unwrap_err().to_string();
    assert_eq!(
        error(&["--pod-pid", "1"]),
        "pod-enter --: must be followed by the program to run"
    );
    assert_eq!(
        error(&["--pod-pid", "0", "--namespaces", "pid", "--", "x"]),
        "--pod-pid: must be a positive pid, got \"0\""
    );
    assert_eq!(
        error(&["--namespaces", "pid,cgroup", "--pod-pid", "3", "--", "x"]),
        "namespaces: unknown namespace \"cgroup\" (user, pid, mnt, uts, ipc, net)"
    );
    assert_eq!(
        error(&["--pod-pid", "3", "--namespaces", "pid", "--", "x"]),
        "--image: is required"
    );
    let sandbox = SandboxArgs::parse(&strings(&["--hostname"])).unwrap_err();
    assert_eq!(sandbox.to_string(), "--hostname: needs a value");
    let unknown = SandboxArgs::parse(&strings(&["--net", "x"])).unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "--net: unknown flag; expected one of --namespaces, --hostname, --netns"
    );
}

#[test]
fn a_root_mode_pod_network_must_be_private() {
    let error = PodIpAllocator::new_private(Ipv4Addr::new(192, 168, 0, 0), 16).unwrap_err();
    assert_eq!(
        error.to_string(),
        "pod_network.base: must be inside 10.0.0.0/8 (private), got 192.168.0.0"
    );
    let error = PodIpAllocator::new_private(Ipv4Addr::new(10, 88, 0, 0), 31).unwrap_err();
    assert_eq!(
        error.to_string(),
        "pod_network.prefix_len: must be between 8 and 30, got 31"
    );
}

#[test]
fn the_pod_network_plan_is_the_cni_bridge_recipe() {
    use runtime::isolation::network::{Bridge, PodNetwork};
    let network = PodNetwork {
        netns: "skiff-1-0-sandbox-1".into(),
        host_veth: "sk1-0".into(),
        ip: Ipv4Addr::new(10, 88, 0, 2),
        bridge: Bridge {
            name: "skiff0".into(),
            address: Ipv4Addr::new(10, 88, 0, 1),
            prefix_len: 16,
        },
    };
    let lines: Vec<String> = network
        .bridge
        .setup_commands()
        .into_iter()
        .chain(network.setup_commands())
        .chain(network.teardown_commands())
        .map(|words| words.join(" "))
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn mounts_are_bound_into_the_new_root_before_the_pivot() {
    let plan = runtime::isolation::mounts::with_mounts(
        mount_plan(Path::new("/img"), Path::new("/layer")),
        &[("/pods/u1/hosts/hosts".into(), "/etc/hosts".into())],
    )
    .unwrap();
    let tail: Vec<String> = plan.iter().rev().take(2).map(|s| s.to_string()).collect();
    assert_eq!(
        tail,
        [
            "pivot_root /layer/root (old root detached)",
            "mount --bind /pods/u1/hosts/hosts /layer/root/etc/hosts",
        ]
    );
    let escape = runtime::isolation::mounts::with_mounts(
        mount_plan(Path::new("/img"), Path::new("/layer")),
        &[("/secret".into(), "/../../host".into())],
    );
    assert!(escape.is_err(), "'..' could leave the container's root");
}
