//! The ticks of schedules, worked out from any clock without waiting:
//! intervals aligned to the Unix epoch, cron expressions across month ends
//! and leap days, and daylight saving in a named time zone.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{TimeZone, Utc};
use concur_worker::Schedule;

/// A UTC time as a `SystemTime`.
fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> SystemTime {
    let t = Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().expect("a valid time");
    UNIX_EPOCH + Duration::from_secs(t.timestamp() as u64)
}

/// The ticks after `from`, as UTC text.
fn ticks(schedule: &Schedule, from: SystemTime, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut t = from;
    for _ in 0..n {
        t = schedule.next_after(t).expect("a next tick");
        let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        out.push(Utc.timestamp_opt(secs, 0).unwrap().format("%Y-%m-%d %H:%M:%S").to_string());
    }
    out
}

#[test]
fn an_interval_ticks_at_its_multiples_since_the_epoch() {
    let s = Schedule::every("tick", Duration::from_secs(30), "tick").unwrap();
    let t = utc(2026, 3, 1, 12, 0, 10);
    assert_eq!(s.latest_at_or_before(t), Some(utc(2026, 3, 1, 12, 0, 0)));
    assert_eq!(s.next_after(t), Some(utc(2026, 3, 1, 12, 0, 30)));
    // A tick is at or before itself, and strictly before the next.
    let tick = utc(2026, 3, 1, 12, 0, 30);
    assert_eq!(s.latest_at_or_before(tick), Some(tick));
    assert_eq!(s.next_after(tick), Some(utc(2026, 3, 1, 12, 1, 0)));
    assert!(Schedule::every("zero", Duration::ZERO, "tick").is_err());
}

#[test]
fn the_31st_of_every_month_skips_the_short_months() {
    let s = Schedule::cron("month-end", "0 0 0 31 * *", "close").unwrap();
    assert_eq!(
        ticks(&s, utc(2026, 1, 15, 0, 0, 0), 4),
        ["2026-01-31 00:00:00", "2026-03-31 00:00:00", "2026-05-31 00:00:00", "2026-07-31 00:00:00"]
    );
    let leap = Schedule::cron("leap", "0 0 12 29 2 *", "leap").unwrap();
    assert_eq!(ticks(&leap, utc(2026, 1, 1, 0, 0, 0), 2), ["2028-02-29 12:00:00", "2032-02-29 12:00:00"]);
    assert_eq!(s.latest_at_or_before(utc(2026, 4, 30, 23, 59, 59)), Some(utc(2026, 3, 31, 0, 0, 0)));
}

#[test]
fn a_named_zone_follows_its_daylight_saving_rules() {
    // Berlin: UTC+1 in winter, UTC+2 in summer; on 2026-03-29 02:00 local
    // jumps to 03:00, and on 2026-10-25 03:00 local falls back to 02:00.
    let daily = Schedule::cron("daily", "0 0 9 * * *", "report").unwrap().timezone("Europe/Berlin").unwrap();
    assert_eq!(
        ticks(&daily, utc(2026, 3, 27, 12, 0, 0), 3),
        ["2026-03-28 08:00:00", "2026-03-29 07:00:00", "2026-03-30 07:00:00"],
        "09:00 local is 08:00 UTC before the change and 07:00 UTC after"
    );
    // 02:30 local does not exist on the spring-forward day: no tick then.
    let skipped = Schedule::cron("early", "0 30 2 * * *", "early").unwrap().timezone("Europe/Berlin").unwrap();
    assert_eq!(
        ticks(&skipped, utc(2026, 3, 27, 12, 0, 0), 3),
        ["2026-03-28 01:30:00", "2026-03-30 00:30:00", "2026-03-31 00:30:00"]
    );
    // 02:30 local happens twice on the fall-back day: one tick.
    let repeated = ticks(&skipped, utc(2026, 10, 24, 12, 0, 0), 2);
    assert_eq!(repeated, ["2026-10-25 00:30:00", "2026-10-26 01:30:00"]);
    let back = daily.latest_at_or_before(utc(2026, 3, 29, 7, 30, 0));
    assert_eq!(back, Some(utc(2026, 3, 29, 7, 0, 0)));
    assert!(Schedule::cron("x", "0 0 9 * * *", "x").unwrap().timezone("Mars/Olympus").is_err());
}
