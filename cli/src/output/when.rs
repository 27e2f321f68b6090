//! Times as a person reads them: `2026-12-09 02:46:35Z`, and how far off
//! in the unit they would pick (`in 25 h`, `3 days ago`).

use chrono::{DateTime, Utc};

pub(super) fn time(ts: Option<&prost_types::Timestamp>) -> String {
    ts.and_then(utc).map(shown).unwrap_or_default()
}

fn shown(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

pub(super) fn utc(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
}

/// A scheduled time: `2026-12-09 02:46:35Z (in 25 h)`. One already past
/// reads "due": the scheduler is about to pick it up.
pub(super) fn upcoming(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let when = if at <= now { "due".to_owned() } else { relative(at, now) };
    format!("{} ({when})", shown(at))
}

/// `2027-01-05 00:00:00Z (in 28 days)`, `… (expired 8 days ago)`; a value
/// that is not RFC 3339 is shown as it came.
pub(super) fn expiry(value: &str, now: DateTime<Utc>) -> String {
    let Ok(at) = DateTime::parse_from_rfc3339(value) else {
        return value.to_owned();
    };
    let at = at.with_timezone(&Utc);
    let when = if at <= now { format!("expired {}", relative(at, now)) } else { relative(at, now) };
    format!("{} ({when})", shown(at))
}

/// `in 25 h`, `3 days ago`: the unit a person would pick.
fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    let n = seconds.unsigned_abs();
    let amount = match n {
        0..90 => format!("{n} s"),
        90..5_400 => format!("{} min", (n + 30) / 60),
        5_400..172_800 => format!("{} h", (n + 1_800) / 3_600),
        // Whole days, rounded down, as the server's expiry warning counts
        // them: the two lines side by side say the same number.
        _ => format!("{} days", n / 86_400),
    };
    if seconds >= 0 { format!("in {amount}") } else { format!("{amount} ago") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_to_come_read_in_the_unit_a_person_would_pick() {
        let now = DateTime::parse_from_rfc3339("2026-12-08T00:00:00Z").unwrap().with_timezone(&Utc);
        let later = |s: i64| relative(now + chrono::Duration::seconds(s), now);
        assert_eq!(
            [later(45), later(600), later(86_400 * 23 / 24), later(-3 * 86_400)],
            ["in 45 s", "in 10 min", "in 23 h", "3 days ago"]
        );
        assert_eq!(expiry("2027-01-05T00:00:00Z", now), "2027-01-05 00:00:00Z (in 28 days)");
        assert_eq!(expiry("2026-12-07T22:00:00+00:00", now), "2026-12-07 22:00:00Z (expired 2 h ago)");
        assert_eq!(expiry("next tuesday", now), "next tuesday");
        assert_eq!(upcoming(now + chrono::Duration::hours(25), now), "2026-12-09 01:00:00Z (in 25 h)");
        assert_eq!(upcoming(now - chrono::Duration::seconds(3), now), "2026-12-07 23:59:57Z (due)");
    }
}
