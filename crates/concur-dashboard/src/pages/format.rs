//! Numbers, times and long texts as a page shows them. The script of the
//! pages formats live numbers the same way (`assets/app.js`).

/// A count with thousands separators: `1,000,000`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
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

/// Time left on a heartbeat: `12.3 s left`, or `missing`.
pub(crate) fn heartbeat(ms: Option<u64>) -> String {
    match ms {
        Some(ms) => format!("{:.1} s left", ms as f64 / 1000.0),
        None => "missing".to_owned(),
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
    use super::{clip, count, heartbeat, when};

    #[test]
    fn counts_are_grouped() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(count(12_345_678), "12,345,678");
    }

    #[test]
    fn times_and_texts() {
        assert_eq!(when(0.0), "");
        assert_eq!(when(1_764_000_000.5), "2025-11-24 16:00:00 UTC");
        assert_eq!(heartbeat(Some(12_345)), "12.3 s left");
        assert_eq!(heartbeat(None), "missing");
        assert_eq!(clip("héllo", 2), ("hé".to_owned(), true));
        assert_eq!(clip("hi", 2), ("hi".to_owned(), false));
    }
}
