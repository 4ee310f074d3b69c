//! Changing the endpoints, or removing the service, never drops an established connection.

mod support;

use proxy::Proxy;
use support::{BOUND, Pod, answered_by, request};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// A long-lived client connection that sends lines and reads the echoed replies.
struct Session {
    lines: Lines<BufReader<OwnedReadHalf>>,
    write: OwnedWriteHalf,
}

impl Session {
    async fn open(addr: std::net::SocketAddr) -> Session {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (read, write) = stream.into_split();
        Session {
            lines: BufReader::new(read).lines(),
            write,
        }
    }

    async fn say(&mut self, line: &str) -> String {
        self.write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        let reply = tokio::time::timeout(BOUND, self.lines.next_line()).await;
        reply
            .expect("no reply within the bound")
            .unwrap()
            .expect("connection closed")
    }
}

#[tokio::test]
async fn an_established_connection_keeps_its_pod_across_an_update() {
    let old = Pod::start("pod-old", "127.3.4.1").await;
    let new = Pod::start("pod-new", "127.3.4.2").await;
    let mut proxy = Proxy::new("node-a").unwrap();
    let address = proxy
        .add_service("web", "127.3.4.10:0".parse().unwrap())
        .await
        .unwrap();
    proxy
        .update("web", vec![old.endpoint("node-a", true)])
        .unwrap();

    let mut session = Session::open(address).await;
    assert_eq!(session.say("before").await, "pod-old: before");

    proxy
        .update("web", vec![new.endpoint("node-a", true)])
        .unwrap();
    assert_eq!(
        session.say("after").await,
        "pod-old: after",
        "the old connection drains"
    );
    let reply = request(address, "fresh").await.unwrap();
    assert_eq!(
        answered_by(&reply, "fresh").as_deref(),
        Some("pod-new"),
        "new ones use the new set"
    );
}

#[tokio::test]
async fn removing_a_service_stops_new_connections_but_drains_established_ones() {
    let pod = Pod::start("pod-a1", "127.3.4.3").await;
    let mut proxy = Proxy::new("node-a").unwrap();
    let address = proxy
        .add_service("web", "127.3.4.11:0".parse().unwrap())
        .await
        .unwrap();
    proxy
        .update("web", vec![pod.endpoint("node-a", true)])
        .unwrap();
    let mut session = Session::open(address).await;
    assert_eq!(session.say("hello").await, "pod-a1: hello");

    proxy.remove_service("web").unwrap();
    assert_eq!(proxy.address("web"), None);
    assert_eq!(session.say("still here").await, "pod-a1: still here");
}
