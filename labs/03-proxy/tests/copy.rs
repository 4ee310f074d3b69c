//! The bidirectional copy, on real sockets, without the rest of the proxy.

mod support;

use proxy::copy::{Transferred, copy_both_ways};
use support::BOUND;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A connected pair of sockets on `ip`: (the outside end, the end the proxy holds).
async fn pair(ip: &str) -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    let outside = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (inside, _) = listener.accept().await.unwrap();
    (outside, inside)
}

/// A client and a backend joined by `copy_both_ways`, running in its own task.
async fn proxied() -> (
    TcpStream,
    TcpStream,
    JoinHandle<std::io::Result<Transferred>>,
) {
    let (client, proxy_client_side) = pair("127.3.3.1").await;
    let (backend, proxy_backend_side) = pair("127.3.3.2").await;
    let copy = tokio::spawn(copy_both_ways(proxy_client_side, proxy_backend_side));
    (client, backend, copy)
}

async fn read_all(stream: &mut TcpStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    tokio::time::timeout(BOUND, stream.read_to_end(&mut bytes))
        .await
        .expect("the other side never closed its direction")
        .expect("read");
    bytes
}

#[tokio::test]
async fn a_reply_still_flows_after_the_client_half_closes() {
    let (mut client, mut backend, copy) = proxied().await;
    client.write_all(b"ping").await.unwrap();
    client.shutdown().await.unwrap(); // done sending, still listening
    assert_eq!(
        read_all(&mut backend).await,
        b"ping",
        "the backend sees the client's EOF"
    );
    backend.write_all(b"pong!").await.unwrap();
    backend.shutdown().await.unwrap();
    assert_eq!(read_all(&mut client).await, b"pong!");
    let transferred = tokio::time::timeout(BOUND, copy)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        transferred,
        Transferred {
            sent: 4,
            received: 5
        }
    );
}

#[tokio::test]
async fn the_backend_closing_first_leaves_the_client_able_to_send() {
    let (mut client, mut backend, copy) = proxied().await;
    backend.write_all(b"banner").await.unwrap();
    backend.shutdown().await.unwrap();
    assert_eq!(read_all(&mut client).await, b"banner");
    client.write_all(b"late request").await.unwrap();
    client.shutdown().await.unwrap();
    assert_eq!(read_all(&mut backend).await, b"late request");
    let transferred = tokio::time::timeout(BOUND, copy)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        transferred,
        Transferred {
            sent: 12,
            received: 6
        }
    );
}

#[tokio::test]
async fn large_transfers_in_both_directions_at_once_do_not_deadlock() {
    let (client, backend, copy) = proxied().await;
    let up: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let down: Vec<u8> = (0..3_000_000u32).map(|i| (i % 241) as u8).collect();
    // Each end writes everything and reads everything concurrently: if the copy ran one
    // direction at a time, both socket buffers would fill and this would never finish.
    let talk = |mut stream: TcpStream, payload: Vec<u8>| async move {
        let (mut read, mut write) = stream.split();
        let send = async {
            write.write_all(&payload).await.unwrap();
            write.shutdown().await.unwrap();
        };
        let mut got = Vec::new();
        let receive = read.read_to_end(&mut got);
        let ((), received) = tokio::join!(send, receive);
        received.unwrap();
        got
    };
    let both = async { tokio::join!(talk(client, up.clone()), talk(backend, down.clone())) };
    let (client_got, backend_got) = tokio::time::timeout(BOUND, both).await.expect("deadlock");
    assert!(
        client_got == down,
        "the client received the backend's bytes unchanged"
    );
    assert!(
        backend_got == up,
        "the backend received the client's bytes unchanged"
    );
    let transferred = tokio::time::timeout(BOUND, copy)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        transferred,
        Transferred {
            sent: 2_000_000,
            received: 3_000_000
        }
    );
}
