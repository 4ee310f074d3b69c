//! Key intervals: single keys, prefixes and `[key, range_end)`.

use store::range::{ALL_KEYS_FROM, KeyRange, prefix_end};

fn range(key: &str, range_end: &[u8]) -> KeyRange {
    KeyRange {
        key: key.as_bytes().to_vec(),
        range_end: range_end.to_vec(),
    }
}

#[test]
fn an_empty_range_end_means_one_key() {
    let one = range("/pods/a", b"");
    assert!(one.contains(b"/pods/a"));
    assert!(!one.contains(b"/pods/ab"));
    assert!(!one.contains(b"/pods/"));
}

#[test]
fn an_interval_includes_its_start_and_excludes_its_end() {
    let interval = range("b", b"d");
    assert!(interval.contains(b"b"));
    assert!(interval.contains(b"c\xff\xff"));
    assert!(!interval.contains(b"d"));
    assert!(!interval.contains(b"a"));
}

#[test]
fn a_zero_range_end_means_every_key_from_the_start() {
    let from = range("m", ALL_KEYS_FROM);
    assert!(from.contains(b"m"));
    assert!(from.contains(b"\xff\xff"));
    assert!(!from.contains(b"l"));
}

#[test]
fn prefix_end_increments_the_last_byte() {
    assert_eq!(prefix_end(b"/pods/"), b"/pods0".to_vec());
    assert_eq!(prefix_end(b"a"), b"b".to_vec());
}

#[test]
fn prefix_end_skips_trailing_0xff_bytes() {
    assert_eq!(prefix_end(b"a\xff\xff"), b"b".to_vec());
    assert_eq!(prefix_end(b"\xff"), ALL_KEYS_FROM.to_vec());
    assert_eq!(prefix_end(b""), ALL_KEYS_FROM.to_vec());
}

#[test]
fn a_prefix_range_holds_exactly_the_keys_with_that_prefix() {
    let pods = KeyRange::prefix(b"/pods/");
    assert!(pods.contains(b"/pods/"));
    assert!(pods.contains(b"/pods/default/web"));
    assert!(!pods.contains(b"/pods"));
    assert!(!pods.contains(b"/pods0"));
    assert!(!pods.contains(b"/services/x"));
}
