//! Reading a watch: a chunked response of JSON lines, one event per line.

use api::client::{ApiError, ApiResource, ApiResult, WatchEvent, WatchEventType, WatchStream};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::Method;
use tokio::sync::mpsc;

use super::conn::Connector;
use super::status::error_from_status;

/// What one line of a watch stream means.
#[derive(Debug)]
pub enum WatchLine<K> {
    /// An event for the stream.
    Event(WatchEvent<K>),
    /// A bookmark (only a resourceVersion): nothing for the caller.
    Bookmark,
    /// The server ended the watch with an error (e.g. 410 Gone).
    Error(ApiError),
}

// ANCHOR: parse_watch_line
/// Decodes one line of a watch: `{"type":"ADDED","object":{...}}`.
pub fn parse_watch_line<K: ApiResource>(line: &[u8]) -> ApiResult<WatchLine<K>> {
    let bad = |e: String| ApiError::Internal {
        message: format!("decoding a {} watch event: {e}", K::KIND),
    };
    let mut event: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| bad(e.to_string()))?;
    let event_type = match event["type"].as_str() {
        Some("ADDED") => WatchEventType::Added,
        Some("MODIFIED") => WatchEventType::Modified,
        Some("DELETED") => WatchEventType::Deleted,
        Some("BOOKMARK") => return Ok(WatchLine::Bookmark),
        Some("ERROR") => {
            let status = event["object"].to_string();
            let code = event["object"]["code"].as_u64().unwrap_or(500) as u16;
            let error = error_from_status(code, status.as_bytes(), K::PLURAL, K::KIND, "");
            return Ok(WatchLine::Error(error));
        }
        other => return Err(bad(format!("unknown type {other:?}"))),
    };
    let mut object = event["object"].take();
    super::fill_type::<K>(&mut object);
    let object = serde_json::from_value(object).map_err(|e| bad(e.to_string()))?;
    Ok(WatchLine::Event(WatchEvent { event_type, object }))
}
// ANCHOR_END: parse_watch_line

/// Opens a watch on `path` and feeds its events into a [`WatchStream`].
pub(super) async fn start<K: ApiResource>(
    connector: &Connector,
    path: &str,
) -> ApiResult<WatchStream<K>> {
    let (response, _sender) = connector
        .send(Method::GET, path, None, Bytes::new())
        .await?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    if status != 200 {
        let bytes = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        return Err(error_from_status(status, &bytes, K::PLURAL, K::KIND, ""));
    }
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        // The watch's connection is its own: it is never returned to the pool, and closes
        // when this task ends (the stream ended, or the caller dropped the WatchStream).
        let _connection = _sender;
        let mut buffer = BytesMut::new();
        loop {
            let frame = tokio::select! {
                frame = body.frame() => frame,
                _ = tx.closed() => return,
            };
            let data = match frame {
                None => return,
                Some(Err(error)) => {
                    tracing::debug!(%error, "watch stream failed");
                    return;
                }
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_) => continue,
                },
            };
            buffer.extend_from_slice(&data);
            while let Some(end) = buffer.iter().position(|&b| b == b'\n') {
                let line = buffer.split_to(end + 1);
                let line = &line[..end];
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let item = match parse_watch_line::<K>(line) {
                    Ok(WatchLine::Event(event)) => Ok(event),
                    Ok(WatchLine::Bookmark) => continue,
                    Ok(WatchLine::Error(error)) | Err(error) => Err(error),
                };
                let stop = item.is_err();
                if tx.send(item).await.is_err() || stop {
                    return;
                }
            }
        }
    });
    Ok(WatchStream::new(rx))
}
