//! Graded tests of `runtime-log-format`: CRI log lines, and real logs written in that format.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use runtime::log_format::{LogLine, Stream, civil_from_days, format_log_line};
use runtime::{ContainerConfig, ContainerRuntime};

fn at(seconds: u64, nanos: u32) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::new(seconds, nanos)
}

#[test]
fn formats_the_epoch() {
    assert_eq!(
        format_log_line(at(0, 0), Stream::Stdout, "hello"),
        "1970-01-01T00:00:00.000000000Z stdout F hello\n"
    );
}

#[test]
fn formats_nanoseconds_and_the_stream() {
    let line = format_log_line(at(1_704_067_200, 5), Stream::Stderr, "oops");
    assert_eq!(line, "2024-01-01T00:00:00.000000005Z stderr F oops\n");
}

#[test]
fn formats_a_leap_day_and_the_end_of_a_day() {
    // 2024-02-29T23:59:59.999999999Z
    let line = format_log_line(at(1_709_251_199, 999_999_999), Stream::Stdout, "");
    assert_eq!(line, "2024-02-29T23:59:59.999999999Z stdout F \n");
    let line = format_log_line(at(951_782_400, 0), Stream::Stdout, "y2k leap");
    assert_eq!(line, "2000-02-29T00:00:00.000000000Z stdout F y2k leap\n");
}

#[test]
fn civil_from_days_knows_the_calendar() {
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
    assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    assert_eq!(civil_from_days(47_540), (2100, 2, 28));
    assert_eq!(
        civil_from_days(47_541),
        (2100, 3, 1),
        "2100 is not a leap year: no February 29"
    );
}

#[test]
fn parses_what_it_formats() {
    let text = format_log_line(at(1_704_067_200, 0), Stream::Stderr, "a line with spaces");
    let line = LogLine::parse(&text).expect("a CRI line");
    assert_eq!(
        line,
        LogLine {
            time: "2024-01-01T00:00:00.000000000Z",
            stream: "stderr",
            tag: "F",
            text: "a line with spaces"
        }
    );
    assert_eq!(LogLine::parse("not a log line"), None);
}

#[tokio::test]
async fn a_real_container_log_has_timestamps_streams_and_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let rt = common::real_runtime(dir.path(), (Ipv4Addr::new(127, 27, 0, 0), 24));
    let sandbox = common::sandbox(&rt, "logs").await;
    let script = "echo one; echo two >&2; printf 'no newline at the end'";
    let id = common::start(
        &rt,
        &sandbox,
        ContainerConfig::new("talker", "sh").with_args(["-c", script]),
    )
    .await;
    common::exited(&rt, &id).await;

    let log = rt.container_logs(&id).await.unwrap();
    let lines: Vec<LogLine> = log
        .lines()
        .map(|l| LogLine::parse(l).expect("every line is CRI"))
        .collect();
    let mut seen: Vec<(&str, &str)> = lines.iter().map(|l| (l.stream, l.text)).collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("stderr", "two"),
            ("stdout", "no newline at the end"),
            ("stdout", "one")
        ]
    );
    for line in &lines {
        // 2024-01-01T00:00:00.000000000Z: 30 characters, a 'T' at 10, a 'Z' at the end.
        assert_eq!(
            (line.time.len(), &line.time[10..11], &line.time[29..]),
            (30, "T", "Z"),
            "{}",
            line.time
        );
        assert!(line.time.as_bytes()[..4].iter().all(u8::is_ascii_digit));
    }
    rt.remove_pod_sandbox(&sandbox).await.unwrap();
}
