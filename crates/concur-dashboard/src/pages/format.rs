//! Numbers, times, long texts and links as a page shows them. The script of the
//! pages formats live numbers the same way (`assets/app.js`).

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What a path segment may hold unencoded (RFC 3986's unreserved set).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The address of a page about `id` under `base` (`/workers`, `/tasks`):
/// `base/ID`, percent-encoded; `base?id=ID` for `.` and `..`, which a
/// browser would take for steps in the path.
pub(crate) fn item_href(base: &str, id: &str) -> String {
    let encoded = utf8_percent_encode(id, SEGMENT).to_string();
    if id == "." || id == ".." {
        format!("{base}?id={encoded}")
    } else {
        format!("{base}/{encoded}")
    }
}

/// A count with thousands separators: `1,000,000`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let head = digits.len() % 3;
    let mut groups: Vec<&str> = Vec::new();
    if head > 0 {
        groups.push(&digits[..head]);
    }
    groups.extend(digits.as_bytes()[head..].chunks(3).map(|g| std::str::from_utf8(g).unwrap_or_default()));
    groups.join(",")
}

/// A Unix time as `2026-12-02 10:11:12 UTC`; an empty string for a time
/// that cannot be shown.
pub(crate) fn when(unix: f64) -> String {
    if !unix.is_finite() || unix <= 0.0 {
        return String::new();
    }
    let secs = unix.floor() as i64;
    let nanos = ((unix - unix.floor()) * 1e9) as u32;
    chrono::DateTime::from_timestamp(secs, nanos.min(999_999_999))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// A heartbeat's age, `last beat 1.8 s ago`; the time left on it, `12.3 s
/// left`, for a worker that recorded no TTL (so its age is unknown); or
/// `missing`.
pub(crate) fn heartbeat(left_ms: Option<u64>, age_ms: Option<u64>) -> String {
    match (left_ms, age_ms) {
        (None, _) => "missing".to_owned(),
        (Some(_), Some(age)) => format!("last beat {:.1} s ago", age as f64 / 1000.0),
        (Some(left), None) => format!("{:.1} s left", left as f64 / 1000.0),
    }
}

/// An age as an operator reads it: `8 s`, `12 min`, `5 h`, `3 days`; an
/// em dash for none.
pub(crate) fn age(ms: Option<u64>) -> String {
    let Some(ms) = ms else { return "—".to_owned() };
    let s = ms as f64 / 1000.0;
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.0} h", s / 3600.0)
    } else {
        format!("{:.0} days", s / 86_400.0)
    }
}

/// Seconds as a duration: `0.012 s`, `1.5 s`; an em dash for none.
pub(crate) fn seconds(value: Option<f64>) -> String {
    match value {
        Some(s) if s < 1.0 => format!("{:.0} ms", s * 1000.0),
        Some(s) => format!("{s:.2} s"),
        None => "—".to_owned(),
    }
}

/// At most `max` characters of `text`, and whether some were left out.
pub(crate) fn clip(text: &str, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        Some((end, _)) => (text[..end].to_owned(), true),
        None => (text.to_owned(), false),
    }
}

/// An optional value, or an em dash.
pub(crate) fn or_dash(value: Option<impl ToString>) -> String {
    value.map(|v| v.to_string()).unwrap_or_else(|| "—".to_owned())
}

#[cfg(test)]
mod tests {
    use super::{age, clip, count, heartbeat, item_href, seconds, when};

    #[test]
    fn counts_are_grouped() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(count(12_345_678), "12,345,678");
    }

    #[test]
    fn ids_become_one_path_segment() {
        assert_eq!(item_href("/workers", "8812-3fa1"), "/workers/8812-3fa1");
        assert_eq!(item_href("/tasks", "a/b?c#d"), "/tasks/a%2Fb%3Fc%23d");
        assert_eq!(item_href("/tasks", "\"><img"), "/tasks/%22%3E%3Cimg");
        assert_eq!(item_href("/workers", ".."), "/workers?id=..");
    }

    #[test]
    fn times_and_texts() {
        assert_eq!(when(0.0), "");
        assert_eq!(when(1_764_000_000.5), "2025-11-24 16:00:00 UTC");
        assert_eq!(heartbeat(Some(12_345), Some(17_655)), "last beat 17.7 s ago");
        assert_eq!(heartbeat(Some(12_345), None), "12.3 s left");
        assert_eq!(heartbeat(None, Some(1)), "missing");
        assert_eq!(clip("héllo", 2), ("hé".to_owned(), true));
        assert_eq!(clip("hi", 2), ("hi".to_owned(), false));
        assert_eq!(age(None), "—");
        assert_eq!(age(Some(8_400)), "8 s");
        assert_eq!(age(Some(720_000)), "12 min");
        assert_eq!(age(Some(3 * 86_400_000)), "3 days");
        assert_eq!(seconds(Some(0.0126)), "13 ms");
        assert_eq!(seconds(Some(1.5)), "1.50 s");
    }
}
