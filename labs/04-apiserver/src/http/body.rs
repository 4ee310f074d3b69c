//! Response bodies: a whole body, or a stream of chunks that ends with the sender or at
//! shutdown; and the `Status` bodies the shell itself answers with.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

/// The largest request body accepted: 3 MiB, like Kubernetes' API server.
pub const DEFAULT_MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// A Kubernetes `Status` object for a failed request, as JSON text.
pub fn status_body(code: u16, reason: &str, message: &str) -> String {
    serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
    .to_string()
}

// ANCHOR: shell_body
/// The body of a response: all at once, or chunk by chunk. hyper sends a body without a known
/// length with `Transfer-Encoding: chunked` and flushes whenever the body has nothing ready, so
/// each watch event leaves at once.
pub(crate) enum ShellBody {
    /// A complete body (taken when sent).
    Full(Option<Bytes>),
    /// Chunks as they come; the body ends when the sender is dropped.
    Stream(mpsc::Receiver<Bytes>),
}

impl Body for ShellBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            ShellBody::Full(body) => Poll::Ready(body.take().map(|b| Ok(Frame::data(b)))),
            ShellBody::Stream(chunks) => {
                chunks.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ShellBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ShellBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            ShellBody::Full(None) => SizeHint::with_exact(0),
            ShellBody::Stream(_) => SizeHint::default(),
        }
    }
}
// ANCHOR_END: shell_body
