//! The kubelet's log endpoint over a real socket, on the fake runtime.

use std::sync::Arc;

use kubelet::logs::{LogRequest, log_text, parse_log_request, serve_logs};
use runtime::{
    ContainerConfig, ContainerRuntime, FakeBehavior, FakeClock, FakeImage, FakeRuntime,
    PodSandboxConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn get(port: u16, target: &str, token: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

async fn node_with_a_pod() -> u16 {
    let runtime = Arc::new(FakeRuntime::new(FakeClock::new()));
    runtime.add_image(
        "skiff/echo",
        FakeImage::new(FakeBehavior::RunForever).with_logs(["hello", "second", "third"]),
    );
    let sandbox = runtime
        .run_pod_sandbox(PodSandboxConfig::new("web", "default", "uid-1"))
        .await
        .unwrap();
    let container = runtime
        .create_container(&sandbox, ContainerConfig::new("app", "skiff/echo"))
        .await
        .unwrap();
    runtime.start_container(&container).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(serve_logs(listener, runtime, "secret".to_string()));
    port
}

#[tokio::test]
async fn serves_a_containers_lines_to_the_api_server() {
    let port = node_with_a_pod().await;
    let (status, body) = get(port, "/containerLogs/default/web/app", "secret").await;
    assert_eq!(status, 200);
    assert_eq!(body, "hello\nsecond\nthird\n");
    let (status, body) = get(port, "/containerLogs/default/web/app?tailLines=1", "secret").await;
    assert_eq!((status, body.as_str()), (200, "third\n"));
}

#[tokio::test]
async fn refuses_strangers_and_names_what_is_missing() {
    let port = node_with_a_pod().await;
    assert_eq!(
        get(port, "/containerLogs/default/web/app", "wrong").await.0,
        401
    );
    let (status, body) = get(port, "/containerLogs/default/nope/app", "secret").await;
    assert_eq!(
        (status, body.trim()),
        (404, "pod default/nope is not on this node")
    );
    let (status, body) = get(port, "/containerLogs/default/web/db", "secret").await;
    assert_eq!(status, 404);
    assert_eq!(
        body.trim(),
        "container db of pod default/web has not been created"
    );
    let (status, body) = get(port, "/containerLogs/default/web/app?tailLines=x", "secret").await;
    assert_eq!(
        (status, body.trim()),
        (400, "tailLines: \"x\" is not a non-negative integer")
    );
}

#[test]
fn parses_the_path_and_the_tail() {
    assert_eq!(
        parse_log_request("/containerLogs/ns/p/c?follow=false&tailLines=5").unwrap(),
        LogRequest {
            namespace: "ns".into(),
            pod: "p".into(),
            container: "c".into(),
            tail_lines: Some(5),
            follow: false,
        }
    );
    let error = parse_log_request("/containerLogs/ns/p").unwrap_err();
    assert!(
        error.contains("expected /containerLogs/NS/POD/CONTAINER"),
        "{error}"
    );
}

#[test]
fn cri_lines_become_plain_lines_and_partials_are_joined() {
    let cri = "2026-01-01T00:00:00.000000000Z stdout F one\n\
               2026-01-01T00:00:01.000000000Z stdout P tw\n\
               2026-01-01T00:00:01.000000000Z stdout F o\n\
               2026-01-01T00:00:02.000000000Z stderr F three\n";
    assert_eq!(log_text(cri, None), "one\ntwo\nthree\n");
    assert_eq!(log_text(cri, Some(2)), "two\nthree\n");
    assert_eq!(log_text(cri, Some(0)), "");
}

#[test]
fn only_whole_lines_of_a_growing_log_are_complete() {
    use kubelet::logs::complete_prefix;
    let first = "t stdout F hello\n";
    assert_eq!(complete_prefix(first), first.len());
    // A line still being written, and a partial entry waiting for its end, are held back.
    let growing = format!("{first}t stdout P hal");
    assert_eq!(complete_prefix(&growing), first.len());
    let growing = format!("{first}t stdout P half\n");
    assert_eq!(complete_prefix(&growing), first.len());
    let done = format!("{first}t stdout P half\nt stdout F way\n");
    assert_eq!(complete_prefix(&done), done.len());
    assert_eq!(log_text(&done[first.len()..], None), "halfway\n");
}

#[tokio::test]
async fn follow_streams_chunks_until_the_container_is_gone() {
    let runtime = Arc::new(FakeRuntime::new(FakeClock::new()));
    runtime.add_image(
        "skiff/echo",
        FakeImage::new(FakeBehavior::RunForever).with_logs(["hello", "second", "third"]),
    );
    let sandbox = runtime
        .run_pod_sandbox(PodSandboxConfig::new("web", "default", "uid-1"))
        .await
        .unwrap();
    let container = runtime
        .create_container(&sandbox, ContainerConfig::new("app", "skiff/echo"))
        .await
        .unwrap();
    runtime.start_container(&container).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(serve_logs(listener, runtime.clone(), "secret".to_string()));

    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = "GET /containerLogs/default/web/app?follow=true&tailLines=2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    // The head and the first chunk (the last two lines so far) come while the container runs.
    let expected = "second\nthird\n";
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&received).contains(expected) {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "stream ended early: {}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&received).to_string();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("Transfer-Encoding: chunked\r\n"), "{text}");
    assert!(text.ends_with("d\r\nsecond\nthird\n\r\n"), "{text}");
    // The pod goes away: the stream ends with the last chunk.
    runtime.remove_container(&container).await.unwrap();
    let mut rest = String::new();
    stream.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "0\r\n\r\n");
}

#[tokio::test]
async fn follow_must_be_a_boolean() {
    let port = node_with_a_pod().await;
    let (status, body) = get(
        port,
        "/containerLogs/default/web/app?follow=maybe",
        "secret",
    )
    .await;
    assert_eq!(
        (status, body.trim()),
        (400, "follow: \"maybe\" is not true or false")
    );
}
