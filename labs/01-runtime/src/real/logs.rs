//! Copying a container's stdout and stderr into its log file, one CRI log line per line.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};

use crate::clock::Clock;
use crate::log_format::{Stream, format_log_line};

/// Reads `output` to its end and appends each line to `log_path`, stamped with the clock's time.
///
/// Both streams append to the same file, each opened with `O_APPEND` and each line written with
/// one `write`, so lines from stdout and stderr interleave but are never torn apart.
pub(crate) async fn pump(
    output: impl AsyncRead + Unpin,
    stream: Stream,
    log_path: PathBuf,
    clock: Arc<dyn Clock>,
) {
    let Ok(mut file) = tokio::fs::OpenOptions::new()
        .append(true)
        .open(&log_path)
        .await
    else {
        tracing::warn!(path = %log_path.display(), "cannot open container log");
        return;
    };
    let mut reader = BufReader::new(output);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buffer);
                let line = text.trim_end_matches(['\n', '\r']);
                let entry = format_log_line(clock.now(), stream, line);
                if file.write_all(entry.as_bytes()).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = file.flush().await;
}
