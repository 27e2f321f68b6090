//! Credential expiry (docs/api.md#credential-expiry). Where the provider
//! tells (an Azure client secret's end date, a Google key's
//! `validBeforeTime`) and the principal may read it, the worker records the
//! date in the validation's identity; the server decides whether it is near
//! enough to warn about, so every replica and every worker agree on one
//! window (`CLOUDCONN_EXPIRY_WARNING_MS`).

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Utc};

use super::provider::Provider;

/// The identity key the worker records the date under (RFC 3339).
pub use cloudconn_infra::amqp::messages::CREDENTIAL_EXPIRE_TIME as IDENTITY_KEY;

/// The date a validation's identity records, if any.
pub fn expire_time(identity: &BTreeMap<String, String>) -> Option<DateTime<Utc>> {
    let text = identity.get(IDENTITY_KEY)?;
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// Whether `expires` falls within `window` of `now` (a zero window: never).
pub fn is_near(expires: DateTime<Utc>, now: DateTime<Utc>, window: Duration) -> bool {
    !window.is_zero() && expires <= now + chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX)
}

/// The reminders after the window's first: a week before, and a day before.
const REMINDERS: [Duration; 2] = [Duration::from_secs(7 * 86_400), Duration::from_secs(86_400)];

/// How many of the thresholds `expires` has crossed at `now`: the window,
/// then a week and a day before (those shorter than the window). 0: not
/// near. An `expiring` event goes out each time this grows for one date,
/// so a customer hears of it at 30 days, 7 days and 1 day, and no more.
pub fn stage(expires: DateTime<Utc>, now: DateTime<Utc>, window: Duration) -> i16 {
    if !is_near(expires, now, window) {
        return 0;
    }
    let crossed = REMINDERS.iter().filter(|&&r| r < window && is_near(expires, now, r)).count();
    1 + i16::try_from(crossed).unwrap_or(0)
}

/// Whether a validation that found `expires` at `stage` announces it, given
/// what the connection announced last (its date and stage).
pub fn announces(last: (Option<DateTime<Utc>>, i16), expires: DateTime<Utc>, stage: i16) -> bool {
    stage > 0 && (last.0 != Some(expires) || stage > last.1)
}

/// The validation's warning: what expires, when, and what to do.
pub fn warning(provider: Option<Provider>, expires: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let (what, fix) = match provider {
        Some(Provider::Azure) => ("client secret", "add a new client secret to the app registration"),
        Some(Provider::Gcp) => ("service account key", "create a new key for the service account"),
        _ => ("credential", "create a new one"),
    };
    let left = (expires - now).num_hours();
    let when = match left {
        ..=0 => "now".to_owned(),
        1..24 => "in less than a day".to_owned(),
        24..48 => "in 1 day".to_owned(),
        _ => format!("in {} days", left / 24),
    };
    format!(
        "The {what} expires on {} ({when}): {fix} and save it here before then.",
        expires.format("%Y-%m-%d %H:%M UTC")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_window_decides_and_zero_turns_warnings_off() {
        let now = at("2027-01-01T00:00:00Z");
        let day = Duration::from_secs(86_400);
        assert!(is_near(at("2027-01-20T00:00:00Z"), now, day * 30));
        assert!(!is_near(at("2027-03-01T00:00:00Z"), now, day * 30));
        assert!(is_near(at("2026-12-31T00:00:00Z"), now, day), "already past");
        assert!(!is_near(at("2027-01-02T00:00:00Z"), now, Duration::ZERO));
    }

    #[test]
    fn each_date_is_announced_at_the_window_a_week_before_and_a_day_before() {
        let now = at("2027-01-01T00:00:00Z");
        let day = Duration::from_secs(86_400);
        let stage_in = |days: i64| stage(now + chrono::Duration::days(days), now, day * 30);
        assert_eq!(
            [stage_in(40), stage_in(20), stage_in(7), stage_in(3), stage_in(1), stage_in(-1)],
            [0, 1, 2, 2, 3, 3]
        );
        // A window shorter than a week: only the day's reminder after it.
        assert_eq!(stage(now + chrono::Duration::days(4), now, day * 5), 1);
        assert_eq!(stage(now + chrono::Duration::hours(12), now, day * 5), 2);

        let date = at("2027-01-20T00:00:00Z");
        assert!(announces((None, 0), date, 1), "first time near");
        assert!(!announces((Some(date), 1), date, 1), "the same date, the same stage: once");
        assert!(announces((Some(date), 1), date, 2), "a week before: again");
        assert!(!announces((Some(date), 3), date, 2), "never back down");
        assert!(announces((Some(date), 3), at("2027-06-01T00:00:00Z"), 1), "a new credential's date");
        assert!(!announces((None, 0), date, 0), "not near");
    }

    #[test]
    fn the_warning_names_the_date_and_the_fix() {
        let now = at("2027-01-01T00:00:00Z");
        let text = warning(Some(Provider::Azure), at("2027-01-15T09:30:00Z"), now);
        assert_eq!(
            text,
            "The client secret expires on 2027-01-15 09:30 UTC (in 14 days): add a new client secret to the app \
             registration and save it here before then."
        );
        assert!(
            warning(Some(Provider::Gcp), at("2027-01-01T05:00:00Z"), now)
                .contains("key expires on 2027-01-01 05:00 UTC (in less than a day)")
        );
    }

    #[test]
    fn only_a_readable_date_counts() {
        let identity = |v: &str| BTreeMap::from([(IDENTITY_KEY.to_owned(), v.to_owned())]);
        assert_eq!(expire_time(&identity("2027-01-15T09:30:00Z")), Some(at("2027-01-15T09:30:00Z")));
        assert_eq!(expire_time(&identity("next tuesday")), None);
        assert_eq!(expire_time(&BTreeMap::new()), None);
    }
}
