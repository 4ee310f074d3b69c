//! The real runtime end to end: processes with env, args and working dir; pod IPs over TCP;
//! lists and filters; and clear errors for bad input.

mod common;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use runtime::log_format::LogLine;
use runtime::{
    ContainerConfig, ContainerFilter, ContainerId, ContainerRuntime, ContainerState,
    PodSandboxConfig, RealRuntime, ResourceLimits, RuntimeConfig, RuntimeError, SandboxFilter,
    SandboxId, SandboxState,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The stdout lines of a container's log, without timestamps.
async fn stdout_lines(rt: &RealRuntime, id: &ContainerId) -> Vec<String> {
    let log = rt.container_logs(id).await.unwrap();
    log.lines()
        .filter_map(LogLine::parse)
        .filter(|l| l.stream == "stdout")
        .map(|l| l.text.to_string())
        .collect()
}

#[tokio::test]
async fn a_container_gets_its_args_env_working_dir_and_pod_identity() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 30, 0, 0), 24));
    let sandbox = common::sandbox(&rt, "env").await;
    let mut config = ContainerConfig::new("env", "sh")
        .with_args(["-c", "echo \"$0 $1\"; pwd; echo $GREETING $POD_NAME $POD_NAMESPACE $POD_IP $NODE_NAME $HOSTNAME; echo ${HOME:-no-home}", "first", "second"])
        .with_env("GREETING", "hi");
    config.working_dir = Some(work.path().to_path_buf());
    let id = common::start(&rt, &sandbox, config).await;
    common::exited(&rt, &id).await;

    let ip = rt.pod_sandbox_status(&sandbox).await.unwrap().ip;
    let work_dir = work.path().canonicalize().unwrap();
    assert_eq!(
        stdout_lines(&rt, &id).await,
        [
            "first second".to_string(),
            work_dir.display().to_string(),
            format!("hi env test {ip} node-test env"),
            "no-home".to_string(),
        ],
        "the environment is clean: nothing but PATH comes from the runtime"
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

#[tokio::test]
async fn the_default_working_dir_is_the_sandbox_dir_and_the_log_lives_there() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 31, 0, 0), 24));
    let sandbox = common::sandbox(&rt, "pwd").await;
    let id = common::start(&rt, &sandbox, ContainerConfig::new("pwd", "pwd")).await;
    common::exited(&rt, &id).await;
    let sandbox_dir = dir.path().canonicalize().unwrap().join(&sandbox.0);
    assert_eq!(
        stdout_lines(&rt, &id).await,
        [sandbox_dir.display().to_string()]
    );
    assert_eq!(
        rt.log_path(&id).unwrap().parent().unwrap(),
        dir.path().join(&sandbox.0)
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
    assert!(
        !dir.path().join(&sandbox.0).exists(),
        "removing the sandbox removes its directory"
    );
}

#[tokio::test]
async fn two_echo_pods_share_a_port_each_on_its_own_ip() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 32, 0, 0), 24));
    let mut answers = Vec::new();
    let mut sandboxes = Vec::new();
    for name in ["left", "right"] {
        let sandbox = common::sandbox(&rt, name).await;
        let echo = ContainerConfig::new("echo", "skiff/echo:1").with_env("PORT", "18080");
        common::start(&rt, &sandbox, echo).await;
        let ip = rt.pod_sandbox_status(&sandbox).await.unwrap().ip;
        answers.push(http_get(&format!("{ip}:18080")).await);
        sandboxes.push(sandbox);
    }
    assert_eq!(
        answers[0],
        "hello from pod left in namespace test at 127.32.0.1 on node node-test\n"
    );
    assert_eq!(
        answers[1],
        "hello from pod right in namespace test at 127.32.0.2 on node node-test\n"
    );
    for sandbox in sandboxes {
        rt.remove_pod_sandbox(&sandbox).await.unwrap();
    }
}

async fn http_get(address: &str) -> String {
    for _ in 0..3000 {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(address).await {
            stream.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            return response.split_once("\r\n\r\n").unwrap().1.to_string();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("nothing listens on {address}");
}

#[tokio::test]
async fn lists_filter_by_sandbox_state_and_label() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 33, 0, 0), 24));
    let mut labelled = PodSandboxConfig::new("web", "test", "uid-web");
    labelled.labels.insert("app".into(), "web".into());
    let web = rt.run_pod_sandbox(labelled).await.unwrap();
    let db = common::sandbox(&rt, "db").await;
    let done = common::start(&rt, &web, ContainerConfig::new("done", "true")).await;
    common::exited(&rt, &done).await;
    let mut sleeper = ContainerConfig::new("sleeper", "skiff/sleeper:1");
    sleeper.labels.insert("tier".into(), "back".into());
    let sleeping = common::start(&rt, &db, sleeper).await;

    let by_label = SandboxFilter {
        labels: [("app".to_string(), "web".to_string())].into(),
        ..Default::default()
    };
    let found: Vec<SandboxId> = rt
        .list_pod_sandboxes(&by_label)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(found, vec![web.clone()]);
    let of_web = ContainerFilter {
        sandbox_id: Some(web.clone()),
        ..Default::default()
    };
    let found: Vec<ContainerId> = rt
        .list_containers(&of_web)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(found, vec![done.clone()]);
    let running = ContainerFilter {
        state: Some(ContainerState::Running),
        ..Default::default()
    };
    let found: Vec<ContainerId> = rt
        .list_containers(&running)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(found, vec![sleeping.clone()]);
    let by_tier = ContainerFilter {
        labels: [("tier".to_string(), "back".to_string())].into(),
        ..Default::default()
    };
    assert_eq!(rt.list_containers(&by_tier).await.unwrap().len(), 1);

    rt.stop_pod_sandbox(&db).await.unwrap();
    assert_eq!(
        rt.pod_sandbox_status(&db).await.unwrap().state,
        SandboxState::NotReady
    );
    assert_eq!(
        rt.container_status(&sleeping).await.unwrap().state,
        ContainerState::Exited
    );
    rt.shutdown().await.unwrap();
    assert!(
        rt.list_pod_sandboxes(&SandboxFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn unknown_and_removed_ids_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 34, 0, 0), 24));
    let unknown = ContainerId("c-999".into());
    let error = rt.container_status(&unknown).await.unwrap_err();
    assert_eq!(error.to_string(), "container \"c-999\" not found");
    let error = rt.start_container(&unknown).await.unwrap_err();
    assert!(
        matches!(error, RuntimeError::ContainerNotFound(_)),
        "{error}"
    );
    let error = rt
        .pod_sandbox_status(&SandboxId("sandbox-9".into()))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "sandbox \"sandbox-9\" not found");

    let sandbox = common::sandbox(&rt, "removed").await;
    let id = rt
        .create_container(&sandbox, ContainerConfig::new("gone", "true"))
        .await
        .unwrap();
    rt.remove_container(&id).await.unwrap();
    let error = rt.start_container(&id).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("container \"{id}\" has been removed; create a new one")
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

#[tokio::test]
async fn starting_twice_is_an_error_naming_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 35, 0, 0), 24));
    let sandbox = common::sandbox(&rt, "twice").await;
    let id = common::start(&rt, &sandbox, ContainerConfig::new("once", "true")).await;
    common::exited(&rt, &id).await;
    let error = rt.start_container(&id).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("cannot start \"{id}\": container is Exited; only a Created container can start")
    );
    rt.stop_container(&id, Duration::ZERO)
        .await
        .expect("stopping an exited container is a no-op");
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

#[tokio::test]
async fn missing_images_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 36, 0, 0), 24));
    let sandbox = common::sandbox(&rt, "images").await;
    let error = rt
        .create_container(
            &sandbox,
            ContainerConfig::new("x", "no-such-program-here:1"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "image \"no-such-program-here:1\" not found: program \"no-such-program-here\" not found on PATH or not a file"
    );
    let error = rt
        .create_container(&sandbox, ContainerConfig::new("x", "skiff/nope:1"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "image \"skiff/nope:1\" not found: no built-in program \"nope\"; there are echo, crasher, sleeper, cpu-burner, memory-hog"
    );
    let error = rt
        .create_container(&sandbox, ContainerConfig::new("x", "/no/such/binary"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RuntimeError::ImageNotFound { .. }),
        "{error}"
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

#[tokio::test]
async fn a_missing_image_binary_says_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = RuntimeConfig::new(dir.path());
    config.pod_range = (Ipv4Addr::new(127, 37, 0, 0), 24);
    config.image_binary = Some(PathBuf::from("/nowhere/skiff-image"));
    let rt = RealRuntime::new(config).unwrap();
    let sandbox = common::sandbox(&rt, "nobinary").await;
    let error = rt
        .create_container(&sandbox, ContainerConfig::new("x", "skiff/echo:1"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "image \"skiff/echo:1\" not found: no skiff-image binary (looked at /nowhere/skiff-image); \
         build it with `cargo build -p skiff-runtime --bin skiff-image` or set SKIFF_IMAGE_BIN"
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

#[tokio::test]
async fn invalid_configs_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 38, 0, 0), 24));
    let error = rt
        .run_pod_sandbox(PodSandboxConfig::new("Bad_Name", "test", "u"))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("name: must be a DNS-1123 label"),
        "{error}"
    );
    let error = rt
        .run_pod_sandbox(PodSandboxConfig::new("ok", "test", ""))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "uid: must not be empty");

    let sandbox = common::sandbox(&rt, "limits").await;
    let cases = [
        (
            ResourceLimits {
                memory_bytes: Some(1000),
                ..Default::default()
            },
            "limits.memory_bytes: must be at least 1048576 (1 MiB), got 1000",
        ),
        (
            ResourceLimits {
                cpu_millicores: Some(5),
                ..Default::default()
            },
            "limits.cpu_millicores: must be at least 10 (1 ms of CPU per 100 ms), got 5",
        ),
        (
            ResourceLimits {
                pids: Some(0),
                ..Default::default()
            },
            "limits.pids: must be at least 1, got 0",
        ),
    ];
    for (limits, message) in cases {
        let config = ContainerConfig::new("c", "true").with_limits(limits);
        assert_eq!(
            rt.create_container(&sandbox, config)
                .await
                .unwrap_err()
                .to_string(),
            message
        );
    }
    let error = rt
        .create_container(
            &sandbox,
            ContainerConfig::new("c", "true").with_env("A=B", "x"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "env[0].name: must be non-empty and contain neither '=' nor NUL"
    );
    let error = rt
        .create_container(&sandbox, ContainerConfig::new("c", " "))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "image: must not be empty");
    let mut config = ContainerConfig::new("c", "true");
    config.working_dir = Some(PathBuf::from("/no/such/dir"));
    let error = rt.create_container(&sandbox, config).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "working_dir: /no/such/dir is not a directory"
    );
    assert!(
        rt.list_containers(&ContainerFilter::default())
            .await
            .unwrap()
            .is_empty(),
        "nothing half-created"
    );
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}

#[tokio::test]
async fn dropping_the_runtime_kills_and_reaps_its_containers() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 39, 0, 0), 24));
    let sandbox = common::sandbox(&rt, "dropped").await;
    let id = common::start(
        &rt,
        &sandbox,
        ContainerConfig::new("forever", "skiff/sleeper:1"),
    )
    .await;
    let pid = rt.container_status(&id).await.unwrap().pid.unwrap() as i32;
    assert!(common::process_exists(pid));
    drop(rt);
    assert!(
        !common::process_exists(pid),
        "no process and no zombie left after drop"
    );
}
