//! Ages as kubectl prints them (`k8s.io/apimachinery/pkg/util/duration.HumanDuration`):
//! two units while they matter (`3m10s`, `2d3h`), one unit once the smaller would be noise.

use serde_json::Value;

// ANCHOR: human_duration
/// Formats a duration in seconds like Kubernetes' `HumanDuration`: `<invalid>` for more than
/// a second in the future, then `59s`, `119s`, `2m`, `9m59s`, `10m`, `179m`, `3h`, `7h59m`,
/// `8h`, `47h`, `2d`, `7d23h`, `8d`, `729d`, `2y`, `7y364d`, `8y`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            d => format!("{}y{d}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}
// ANCHOR_END: human_duration

/// The age of a timestamp field (RFC 3339) at `now` (Unix seconds); `<unknown>` when the
/// field is absent or unreadable, like kubectl's `translateTimestampSince`.
pub(crate) fn since(timestamp: Option<&Value>, now: i64) -> String {
    match timestamp
        .and_then(Value::as_str)
        .and_then(|t| api::MicroTime::parse(t).ok())
    {
        Some(t) => human_duration(now - t.unix_micros().div_euclid(1_000_000)),
        None => "<unknown>".to_string(),
    }
}
