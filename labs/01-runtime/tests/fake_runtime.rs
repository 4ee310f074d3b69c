//! The fake runtime on virtual time: scripted containers, deterministic to the nanosecond.

mod common;

use std::time::Duration;

use runtime::{
    ContainerConfig, ContainerFilter, ContainerRuntime, ContainerState, ExitReason, FakeBehavior,
    FakeClock, FakeImage, FakeRuntime, RuntimeError,
};

fn fake() -> FakeRuntime {
    let rt = FakeRuntime::new(FakeClock::new());
    rt.add_image(
        "crash:1",
        FakeImage::new(FakeBehavior::ExitAfter {
            after: Duration::from_secs(5),
            code: 2,
        })
        .with_logs(["starting", "about to fail"]),
    );
    rt.add_image(
        "oom:1",
        FakeImage::new(FakeBehavior::OomAfter {
            after: Duration::from_secs(3),
        }),
    );
    rt.add_image("server:1", FakeImage::new(FakeBehavior::RunForever));
    rt.add_image(
        "stubborn:1",
        FakeImage::new(FakeBehavior::RunForever).ignoring_sigterm(),
    );
    rt
}

#[tokio::test]
async fn a_script_exits_exactly_when_virtual_time_says() {
    let rt = fake();
    let sandbox = common::sandbox(&rt, "web").await;
    let id = common::start(&rt, &sandbox, ContainerConfig::new("app", "crash:1")).await;
    rt.clock().advance(Duration::from_millis(4999));
    assert_eq!(
        rt.container_status(&id).await.unwrap().state,
        ContainerState::Running
    );

    rt.clock().advance(Duration::from_secs(60));
    let status = rt.container_status(&id).await.unwrap();
    assert_eq!(
        (status.state, status.exit_code, status.reason),
        (ContainerState::Exited, Some(2), Some(ExitReason::Error))
    );
    let run_time = status
        .finished_at
        .unwrap()
        .duration_since(status.started_at.unwrap())
        .unwrap();
    assert_eq!(
        run_time,
        Duration::from_secs(5),
        "finished when the script said, not when someone looked"
    );
}

#[tokio::test]
async fn oom_forever_and_stops() {
    let rt = fake();
    let sandbox = common::sandbox(&rt, "mixed").await;
    let oom = common::start(&rt, &sandbox, ContainerConfig::new("oom", "oom:1")).await;
    let server = common::start(&rt, &sandbox, ContainerConfig::new("server", "server:1")).await;
    let stubborn = common::start(
        &rt,
        &sandbox,
        ContainerConfig::new("stubborn", "stubborn:1"),
    )
    .await;
    rt.clock().advance(Duration::from_secs(3600));

    let status = rt.container_status(&oom).await.unwrap();
    assert_eq!(
        (status.exit_code, status.reason),
        (Some(137), Some(ExitReason::OOMKilled))
    );
    assert_eq!(
        rt.container_status(&server).await.unwrap().state,
        ContainerState::Running
    );

    rt.stop_container(&server, Duration::from_secs(30))
        .await
        .unwrap();
    rt.stop_container(&stubborn, Duration::from_secs(30))
        .await
        .unwrap();
    let server = rt.container_status(&server).await.unwrap();
    assert_eq!(
        (server.exit_code, server.reason),
        (Some(0), Some(ExitReason::Completed))
    );
    let stubborn = rt.container_status(&stubborn).await.unwrap();
    assert_eq!(
        (stubborn.exit_code, stubborn.reason),
        (Some(137), Some(ExitReason::Error))
    );
}

#[tokio::test]
async fn logs_are_cri_lines_stamped_with_virtual_time() {
    let rt = fake();
    let sandbox = common::sandbox(&rt, "logs").await;
    rt.clock().advance(Duration::from_secs(90));
    let id = common::start(&rt, &sandbox, ContainerConfig::new("app", "crash:1")).await;
    assert_eq!(
        rt.container_logs(&id).await.unwrap(),
        "2024-01-01T00:01:30.000000000Z stdout F starting\n2024-01-01T00:01:30.000000000Z stdout F about to fail\n"
    );
}

#[tokio::test]
async fn records_calls_and_gives_the_real_errors() {
    let rt = fake();
    let sandbox = common::sandbox(&rt, "calls").await;
    let error = rt
        .create_container(&sandbox, ContainerConfig::new("x", "unknown:1"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "image \"unknown:1\" not found: no such fake image; register it with FakeRuntime::add_image"
    );
    let id = common::start(&rt, &sandbox, ContainerConfig::new("app", "server:1")).await;
    let error = rt.start_container(&id).await.unwrap_err();
    assert!(
        matches!(error, RuntimeError::InvalidState { .. }),
        "{error}"
    );
    rt.remove_container(&id).await.unwrap();
    assert!(matches!(
        rt.start_container(&id).await.unwrap_err(),
        RuntimeError::ContainerRemoved(_)
    ));
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
    assert!(
        rt.list_containers(&ContainerFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        rt.calls(),
        [
            "run_pod_sandbox sandbox-1 test/calls",
            "create_container c-2 sandbox-1/app",
            "start_container c-2",
            "remove_container c-2",
            "remove_pod_sandbox sandbox-1",
        ]
    );
}

#[tokio::test]
async fn a_stopped_sandbox_accepts_no_new_container() {
    let rt = fake();
    let sandbox = common::sandbox(&rt, "stopped").await;
    let id = common::start(&rt, &sandbox, ContainerConfig::new("app", "server:1")).await;
    rt.stop_pod_sandbox(&sandbox).await.unwrap();
    assert_eq!(
        rt.container_status(&id).await.unwrap().state,
        ContainerState::Exited
    );
    let error = rt
        .create_container(&sandbox, ContainerConfig::new("late", "server:1"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot create a container in \"sandbox-1\": the sandbox is not ready"
    );
}
