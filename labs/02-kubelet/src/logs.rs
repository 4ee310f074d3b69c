//! The kubelet's log endpoint: what `kubectl logs` reaches through the API server.
//!
//! `GET /containerLogs/{namespace}/{pod}/{container}?tailLines=N` answers with the container's
//! output, one line per line, read from the runtime's CRI log. The API server is the only
//! caller, and proves it with a bearer token shared at start-up; in skiff every kubelet listens
//! on this machine, so plain HTTP is enough (Kubernetes serves the same path over TLS on port
//! 10250 and checks the API server's client certificate). With `follow=true` the answer is
//! chunked: the log so far, then each new line as the runtime writes it (the log is polled
//! every [`FOLLOW_POLL`]), until the caller hangs up or the container exits or is removed.
//!
//! The server is a few lines of HTTP/1.1 by hand (one request per connection,
//! `Connection: close`), so the kubelet needs no HTTP library.

use std::sync::Arc;
use std::time::Duration;

use runtime::ContainerRuntime;
use runtime::status::{ContainerFilter, ContainerId, ContainerState, SandboxFilter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a log request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
    /// The container's name in the pod spec.
    pub container: String,
    /// Only the last this many lines.
    pub tail_lines: Option<usize>,
    /// Keep the answer open and stream new lines (`follow=true`).
    pub follow: bool,
}

/// How often a followed log is read again for new lines.
pub const FOLLOW_POLL: Duration = Duration::from_millis(200);

/// Parses `/containerLogs/{ns}/{pod}/{container}?tailLines=N`; errors name what is wrong.
pub fn parse_log_request(target: &str) -> Result<LogRequest, String> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let rest = path
        .strip_prefix("/containerLogs/")
        .ok_or_else(|| format!("{path}: not found (expected /containerLogs/NS/POD/CONTAINER)"))?;
    let parts: Vec<&str> = rest.split('/').collect();
    let [namespace, pod, container] = parts[..] else {
        return Err(format!("{path}: expected /containerLogs/NS/POD/CONTAINER"));
    };
    if [namespace, pod, container].iter().any(|p| p.is_empty()) {
        return Err(format!("{path}: expected /containerLogs/NS/POD/CONTAINER"));
    }
    let mut tail_lines = None;
    let mut follow = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        if let Some(value) = pair.strip_prefix("tailLines=") {
            tail_lines = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("tailLines: {value:?} is not a non-negative integer"))?,
            );
        } else if let Some(value) = pair.strip_prefix("follow=") {
            follow = match value {
                "true" | "1" => true,
                "false" | "0" | "" => false,
                _ => return Err(format!("follow: {value:?} is not true or false")),
            };
        }
    }
    Ok(LogRequest {
        namespace: namespace.to_string(),
        pod: pod.to_string(),
        container: container.to_string(),
        tail_lines,
        follow,
    })
}

/// The text of a CRI log (`<time> <stream> <F|P> <line>` per line): the lines themselves,
/// partial lines (`P`) joined to the next, the last `tail` lines only if asked.
pub fn log_text(cri_log: &str, tail: Option<usize>) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut partial = String::new();
    for entry in cri_log.lines() {
        let fields: Vec<&str> = entry.splitn(4, ' ').collect();
        let (tag, text) = match fields[..] {
            [_, _, tag, text] => (tag, text),
            [_, _, tag] => (tag, ""),
            _ => continue,
        };
        partial.push_str(text);
        if tag != "P" {
            lines.push(std::mem::take(&mut partial));
        }
    }
    let skip = tail.map_or(0, |n| lines.len().saturating_sub(n));
    lines[skip..].iter().map(|l| format!("{l}\n")).collect()
}

/// How much of a CRI log is whole: the byte length up to the end of its last complete (`F`)
/// entry, so that a partial line is sent only once it is finished.
pub fn complete_prefix(cri_log: &str) -> usize {
    let mut end = 0;
    let mut offset = 0;
    for entry in cri_log.split_inclusive('\n') {
        offset += entry.len();
        if !entry.ends_with('\n') {
            break;
        }
        if entry.split(' ').nth(2).map(str::trim_end) != Some("P") {
            end = offset;
        }
    }
    end
}

/// The log of the newest container `container` of pod `namespace/pod`, as text.
pub async fn container_log<R: ContainerRuntime>(
    runtime: &R,
    request: &LogRequest,
) -> Result<String, (u16, String)> {
    let id = find_container(runtime, request).await?;
    let log = runtime
        .container_logs(&id)
        .await
        .map_err(|e| (500, e.to_string()))?;
    Ok(log_text(&log, request.tail_lines))
}

/// The id of the newest container `container` of pod `namespace/pod`; 404 if there is none.
pub async fn find_container<R: ContainerRuntime>(
    runtime: &R,
    request: &LogRequest,
) -> Result<ContainerId, (u16, String)> {
    let internal = |e: runtime::RuntimeError| (500, e.to_string());
    let sandboxes = runtime
        .list_pod_sandboxes(&SandboxFilter::default())
        .await
        .map_err(internal)?;
    let sandbox = sandboxes
        .iter()
        .filter(|s| s.config.namespace == request.namespace && s.config.name == request.pod)
        .max_by_key(|s| s.created_at)
        .ok_or_else(|| {
            (
                404,
                format!(
                    "pod {}/{} is not on this node",
                    request.namespace, request.pod
                ),
            )
        })?;
    let filter = ContainerFilter {
        sandbox_id: Some(sandbox.id.clone()),
        ..ContainerFilter::default()
    };
    let containers = runtime.list_containers(&filter).await.map_err(internal)?;
    let container = containers
        .iter()
        .filter(|c| c.name == request.container)
        .max_by_key(|c| c.created_at)
        .ok_or_else(|| {
            (
                404,
                format!(
                    "container {} of pod {}/{} has not been created",
                    request.container, request.namespace, request.pod
                ),
            )
        })?;
    Ok(container.id.clone())
}

/// Streams a followed log to `stream` as HTTP chunks: the complete lines so far (the last
/// `tail_lines` only, if asked), then new ones as they appear. Ends when the caller closes its
/// side, or the container has exited (after its last lines) or is gone.
async fn follow<R: ContainerRuntime>(
    stream: &mut TcpStream,
    runtime: &R,
    id: &ContainerId,
    tail_lines: Option<usize>,
) -> std::io::Result<()> {
    let mut sent = 0;
    let mut tail = tail_lines;
    loop {
        // Read the state before the log, so the lines of an exited container are all seen.
        let exited = match runtime.container_status(id).await {
            Ok(status) => status.state == ContainerState::Exited,
            Err(_) => true,
        };
        let Ok(log) = runtime.container_logs(id).await else {
            break;
        };
        let end = complete_prefix(&log);
        if end > sent {
            let text = log_text(&log[sent..end], tail.take());
            sent = end;
            if !text.is_empty() {
                let chunk = format!("{:x}\r\n{text}\r\n", text.len());
                stream.write_all(chunk.as_bytes()).await?;
            }
        }
        if exited {
            break;
        }
        // Wait for the next poll, or for the caller to hang up (a read of 0 bytes).
        let mut byte = [0u8; 1];
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_POLL) => {}
            read = stream.read(&mut byte) => {
                if matches!(read, Ok(0) | Err(_)) {
                    return Ok(());
                }
            }
        }
    }
    stream.write_all(b"0\r\n\r\n").await?;
    stream.shutdown().await
}

/// Serves `GET /containerLogs/...` on `listener` to callers that send `Bearer <token>`, until
/// the task is dropped.
pub async fn serve_logs<R: ContainerRuntime + 'static>(
    listener: TcpListener,
    runtime: Arc<R>,
    token: String,
) {
    serve_logs_until(listener, runtime, token, std::future::pending()).await
}

/// [`serve_logs`] until `stop` completes; then every open answer (a followed log, say) is
/// ended and awaited, so that no task holds `runtime` any more when this returns.
pub async fn serve_logs_until<R: ContainerRuntime + 'static>(
    listener: TcpListener,
    runtime: Arc<R>,
    token: String,
    stop: impl std::future::Future<Output = ()>,
) {
    let token = Arc::new(token);
    let mut answers = tokio::task::JoinSet::new();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
            // Reap finished answers as they end, so the set does not grow.
            Some(_) = answers.join_next(), if !answers.is_empty() => continue,
        };
        let Ok((stream, _)) = accepted else {
            break;
        };
        let (runtime, token) = (runtime.clone(), token.clone());
        answers.spawn(async move {
            if let Err(error) = answer(stream, runtime.as_ref(), &token).await {
                tracing::debug!(%error, "log request failed");
            }
        });
    }
    answers.shutdown().await;
}

async fn answer<R: ContainerRuntime>(
    mut stream: TcpStream,
    runtime: &R,
    token: &str,
) -> std::io::Result<()> {
    // The request head, at most 8 KiB; a GET has no body.
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() > 8192 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or("");
    let mut words = request_line.split(' ');
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let authorized = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("authorization") && value.trim() == format!("Bearer {token}")
        })
    });
    let (status, body) = if !authorized {
        (401, "Unauthorized\n".to_string())
    } else if method != "GET" {
        (405, format!("{method}: only GET is served\n"))
    } else {
        match parse_log_request(target) {
            Err(message) if message.contains("not found") => (404, message + "\n"),
            Err(message) => (400, message + "\n"),
            Ok(request) if request.follow => match find_container(runtime, &request).await {
                Ok(id) => {
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
                    stream.write_all(head.as_bytes()).await?;
                    return follow(&mut stream, runtime, &id, request.tail_lines).await;
                }
                Err((status, message)) => (status, message + "\n"),
            },
            Ok(request) => match container_log(runtime, &request).await {
                Ok(text) => (200, text),
                Err((status, message)) => (status, message + "\n"),
            },
        }
    };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Internal Server Error",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
