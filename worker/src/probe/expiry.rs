//! When the credential a probe has just used expires, where the provider
//! says so and the principal may read it (docs/api.md#credential-expiry):
//! - Azure: the app registration's password credentials, from Microsoft
//!   Graph (`GET /v1.0/applications?$filter=appId eq '…'`), matched to the
//!   saved secret by their `hint` (the secret's first three characters, all
//!   Graph ever returns of it). Reading them needs `Application.Read.All`,
//!   or ownership of the app with `Application.ReadWrite.OwnedBy`.
//! - Google Cloud: the key in use, from the IAM API
//!   (`GET /v1/projects/-/serviceAccounts/{email}/keys/{private_key_id}`),
//!   its `validBeforeTime`. Needs `iam.serviceAccountKeys.get`.
//!
//! Best effort by design: a refusal, a failure, a slow or strange answer
//! leaves the report without a date and never fails the validation. The
//! credential works, which is what a validation decides; the date is extra.
//! Each lookup is bounded by [`LOOKUP_MAX`], and ends before the attempt's
//! deadline, so a slow Graph or IAM holds a validation up by that at most
//! and never turns a working credential's attempt into a timeout.

use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use reqwest::{Client, StatusCode};
use serde::Deserialize;

use super::{ProbeReport, http};

/// The identity key the date is recorded under (RFC 3339, UTC, seconds).
pub use cloudconn_infra::amqp::messages::CREDENTIAL_EXPIRE_TIME as IDENTITY_KEY;
/// The longest a lookup may take, on top of the probe's own calls.
pub const LOOKUP_MAX: Duration = Duration::from_secs(5);
/// Password credentials of one app read at most: Entra ID allows far fewer.
const CREDENTIALS_MAX: usize = 1_000;

/// Records `expires` in the report, when there is one.
pub fn record(report: &mut ProbeReport, expires: Option<DateTime<Utc>>) {
    if let Some(time) = expires {
        report.identity.insert(IDENTITY_KEY.into(), time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
}

/// Runs `lookup` within [`LOOKUP_MAX`] and four fifths of the time left
/// before `deadline` (the rest is the answer's way back); anything but a
/// date in time is no date.
pub async fn bounded(
    deadline: Option<tokio::time::Instant>,
    lookup: impl Future<Output = Option<DateTime<Utc>>>,
) -> Option<DateTime<Utc>> {
    let left = deadline.map_or(LOOKUP_MAX, |d| d.saturating_duration_since(tokio::time::Instant::now()));
    tokio::time::timeout(LOOKUP_MAX.min(left.mul_f64(0.8)), lookup).await.ok().flatten()
}

#[derive(Deserialize)]
struct Applications {
    #[serde(default)]
    value: Vec<Application>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Application {
    #[serde(default)]
    password_credentials: Vec<PasswordCredential>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordCredential {
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    end_date_time: Option<String>,
}

/// The end date of the client secret `secret` of app `client_id`, read with
/// a Graph token. Two secrets of one app can share a hint (1 in 250,000 or
/// so); then the earliest end date is taken: an early warning costs less
/// than a missed one.
pub async fn azure_client_secret(
    client: &Client,
    graph_base: &str,
    graph_token: &str,
    client_id: &str,
    secret: &str,
) -> Option<DateTime<Utc>> {
    let hint: String = secret.chars().take(3).collect();
    let mut url = http::url("Microsoft Graph", graph_base, &["v1.0", "applications"]).ok()?;
    // The client id was checked to be a GUID when it was saved (and again
    // by the probe): nothing in it can end the quoted literal.
    url.query_pairs_mut()
        .append_pair("$filter", &format!("appId eq '{client_id}'"))
        .append_pair("$select", "passwordCredentials");
    let response = http::send("Microsoft Graph", client.get(url).bearer_auth(graph_token)).await.ok()?;
    if response.status() != StatusCode::OK {
        return None; // 403 Authorization_RequestDenied: the principal may not read it
    }
    let apps: Applications = http::json("Microsoft Graph", response, "application").await.ok()?;
    apps.value
        .iter()
        .flat_map(|app| app.password_credentials.iter().take(CREDENTIALS_MAX))
        .filter(|c| c.hint.as_deref() == Some(hint.as_str()))
        .filter_map(|c| parse(c.end_date_time.as_deref()?))
        .min()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Key {
    #[serde(default)]
    valid_before_time: Option<String>,
}

/// The `validBeforeTime` of key `key_id` of service account `email`. Keys
/// made without an expiry say 9999-12-31: no date.
pub async fn gcp_key(client: &Client, iam_base: &str, token: &str, email: &str, key_id: &str) -> Option<DateTime<Utc>> {
    if key_id.is_empty() {
        return None;
    }
    // `http::url` encodes each value as exactly one path segment, so a key
    // file cannot aim the call elsewhere; what no real key file holds is
    // not sent at all.
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'@' | b'-' | b'_');
    if email.len() > 254 || !email.contains('@') || !email.bytes().all(plain) {
        return None;
    }
    let key_id = http::path_segment("private_key_id", key_id).ok()?;
    let path = ["v1", "projects", "-", "serviceAccounts", email, "keys", key_id];
    let url = http::url("Google Cloud", iam_base, &path).ok()?;
    let response = http::send("Google Cloud", client.get(url).bearer_auth(token)).await.ok()?;
    if response.status() != StatusCode::OK {
        return None; // 403: no iam.serviceAccountKeys.get
    }
    let key: Key = http::json("Google Cloud", response, "key").await.ok()?;
    parse(key.valid_before_time.as_deref()?).filter(|t| t.year() < 9999)
}

fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_recorded_in_utc_to_the_second() {
        let mut report = ProbeReport::default();
        record(&mut report, parse("2027-01-02T03:04:05.678+01:00"));
        assert_eq!(report.identity[IDENTITY_KEY], "2027-01-02T02:04:05Z");
        let mut none = ProbeReport::default();
        record(&mut none, None);
        assert!(none.identity.is_empty());
    }
}
