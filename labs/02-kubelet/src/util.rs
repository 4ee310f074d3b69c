//! Small conversions shared by the core and the shell.

use std::time::{SystemTime, UNIX_EPOCH};

use api::Time;

/// A `SystemTime` as an API timestamp (whole seconds, like Kubernetes' `metav1.Time`).
pub fn to_api_time(time: SystemTime) -> Time {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Time(seconds)
}
