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
pub const IDENTITY_KEY: &str = "credential_expire_time";

/// The date a validation's identity records, if any.
pub fn expire_time(identity: &BTreeMap<String, String>) -> Option<DateTime<Utc>> {
    let text = identity.get(IDENTITY_KEY)?;
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// Whether `expires` falls within `window` of `now` (a zero window: never).
pub fn is_near(expires: DateTime<Utc>, now: DateTime<Utc>, window: Duration) -> bool {
    !window.is_zero() && expires <= now + chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX)
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
