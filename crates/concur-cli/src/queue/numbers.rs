//! The numbers the queue commands take, each checked against its real range
//! with a message that states it.
//!
//! clap reads `-5` as an unknown flag unless told that a value may start
//! with a dash; the commands allow it (`allow_negative_numbers`), so a
//! negative number reaches these parsers and is reported as out of range
//! instead of as "unexpected argument".

use std::time::Duration;

/// The most tasks one worker runs at once: each holds a coroutine and a
/// slot in Redis, and more than this is a typo rather than a plan.
pub(super) const MAX_CONCURRENCY: u64 = 1_000_000;

/// A whole number from 1 to `max`.
fn whole(text: &str, max: u64) -> Result<u64, String> {
    match text.trim().parse::<i128>() {
        Ok(n) if (1..=i128::from(max)).contains(&n) => Ok(n as u64),
        Ok(_) => Err(format!("must be a whole number from 1 to {max}; {text} is out of range")),
        Err(_) => Err(format!("must be a whole number from 1 to {max}, not {text:?}")),
    }
}

/// How many tasks run at once: 1 to [`MAX_CONCURRENCY`].
pub(super) fn concurrency(text: &str) -> Result<usize, String> {
    whole(text, MAX_CONCURRENCY).map(|n| n as usize)
}

/// A count of 1 or more.
pub(super) fn count(text: &str) -> Result<usize, String> {
    whole(text, usize::MAX as u64).map(|n| n as usize)
}

/// Attempts: 1 or more.
pub(super) fn attempts(text: &str) -> Result<u32, String> {
    whole(text, u64::from(u32::MAX)).map(|n| n as u32)
}

/// A whole number from 0 to `max`.
fn from_zero(text: &str, max: u32) -> Result<u32, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if (0..=i64::from(max)).contains(&n) => Ok(n as u32),
        Ok(_) => Err(format!("must be a whole number from 0 to {max}; {text} is out of range")),
        Err(_) => Err(format!("must be a whole number from 0 to {max}, not {text:?}")),
    }
}

/// Replicas to wait for: 0 (none) to 100.
pub(super) fn replicas(text: &str) -> Result<u32, String> {
    from_zero(text, 100)
}

/// A number of shards: 0 (not sharded) to 1024.
pub(super) fn shard_count(text: &str) -> Result<u32, String> {
    from_zero(text, 1024)
}

/// The most tasks a worker fetches ahead of those it runs.
pub(super) const MAX_PREFETCH: u32 = 100_000;

/// Tasks fetched ahead: 0 (none) to [`MAX_PREFETCH`].
pub(super) fn prefetch(text: &str) -> Result<usize, String> {
    from_zero(text, MAX_PREFETCH).map(|n| n as usize)
}

/// Seconds, a finite number at least `min`.
fn seconds(text: &str, min: f64, shown_min: &str) -> Result<Duration, String> {
    let value: f64 = text.trim().parse().map_err(|_| format!("must be a number of seconds, not {text:?}"))?;
    if !value.is_finite() || value < min {
        return Err(format!("must be a finite number of seconds {shown_min}; {text} is out of range"));
    }
    Duration::try_from_secs_f64(value).map_err(|_| format!("{text} seconds is longer than this program can wait"))
}

/// Seconds, 0 or more.
pub(super) fn seconds_from_zero(text: &str) -> Result<Duration, String> {
    seconds(text, 0.0, "of 0 or more")
}

/// Seconds, more than 0.
pub(super) fn seconds_above_zero(text: &str) -> Result<Duration, String> {
    let duration = seconds(text, 0.0, "above 0")?;
    if duration.is_zero() {
        return Err(format!("must be a finite number of seconds above 0; {text} is out of range"));
    }
    Ok(duration)
}

/// A heartbeat TTL: 0.3 seconds or more, which leaves room for its renewal
/// every third of it.
pub(super) fn heartbeat_ttl(text: &str) -> Result<Duration, String> {
    seconds(text, 0.3, "of 0.3 or more")
}

/// The idle watch interval: 0.001 seconds or more.
pub(super) fn idle_watch(text: &str) -> Result<Duration, String> {
    seconds(text, 0.001, "of 0.001 or more")
}

/// A delay: seconds, or a number with `ms`, `s`, `m` or `h` (`500ms`, `10s`,
/// `2m`, `1h`), 0 or more.
pub(super) fn delay(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let (number, unit) = match trimmed.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => trimmed.split_at(i),
        None => (trimmed, "s"),
    };
    let scale = match unit.trim() {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("{text:?} is not a duration; write seconds, or e.g. 500ms, 10s, 2m, 1h")),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; write seconds, or e.g. 500ms, 10s, 2m, 1h"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("must be a finite duration of 0 or more; {text} is out of range"));
    }
    Duration::try_from_secs_f64(value * scale).map_err(|_| format!("{text} is longer than this program can wait"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_state_their_range() {
        assert_eq!(concurrency("100"), Ok(100));
        assert_eq!(prefetch("0"), Ok(0));
        assert_eq!(prefetch("64"), Ok(64));
        assert!(prefetch("-1").unwrap_err().contains("from 0 to 100000; -1 is out of range"));
        assert!(prefetch("100001").unwrap_err().contains("out of range"));
        assert!(concurrency("-5").unwrap_err().contains("from 1 to 1000000; -5 is out of range"));
        assert!(concurrency("0").unwrap_err().contains("out of range"));
        assert!(concurrency("2000000").unwrap_err().contains("out of range"));
        assert!(concurrency("many").unwrap_err().contains("not \"many\""));
        assert_eq!(attempts("3"), Ok(3));
        assert!(count("-1").unwrap_err().contains("out of range"));
    }

    #[test]
    fn seconds_state_their_range() {
        assert_eq!(seconds_from_zero("0.3"), Ok(Duration::from_millis(300)));
        assert_eq!(seconds_from_zero("0"), Ok(Duration::ZERO));
        assert!(seconds_from_zero("-1").unwrap_err().contains("0 or more; -1 is out of range"));
        assert!(seconds_from_zero("nan").unwrap_err().contains("finite"));
        assert!(seconds_from_zero("inf").unwrap_err().contains("finite"));
        assert!(seconds_above_zero("0").unwrap_err().contains("above 0"));
        assert_eq!(heartbeat_ttl("0.3"), Ok(Duration::from_millis(300)));
        assert!(heartbeat_ttl("0.2").unwrap_err().contains("0.3 or more"));
        assert!(heartbeat_ttl("nan").unwrap_err().contains("0.3 or more"));
        assert!(seconds_from_zero("1e30").unwrap_err().contains("longer"));
    }

    #[test]
    fn delays_read_with_and_without_units() {
        assert_eq!(delay("10"), Ok(Duration::from_secs(10)));
        assert_eq!(delay("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(delay("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(delay("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(delay("1h"), Ok(Duration::from_secs(3600)));
        assert!(delay("-1").unwrap_err().contains("out of range"));
        assert!(delay("5 parsecs").unwrap_err().contains("not a duration"));
        assert!(delay("soon").unwrap_err().contains("not a duration"));
    }
}
