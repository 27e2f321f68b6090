//! The run step's messages (docs/run.md): the server asks a worker to mint
//! short-lived credentials over RabbitMQ request/reply, and the worker
//! answers on the requesting server's reply queue (both signed:
//! [`super::signing`]).
//!
//! Unlike the validation messages, a reply carries secret values — the
//! credentials the component asked for. They cross the broker once, on the
//! reply path (never a durable queue), and are [`WireSecret`]s on both ends:
//! redacted in `Debug`, exposed only to serialise the message.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::messages::ProbeError;

/// Format version of the issue messages (2: signed, replies through `<p>.replies`).
pub const ISSUE_VERSION: u32 = 2;

/// "Mint credentials for this scope from this revision, before `deadline`."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRequest {
    pub version: u32,
    pub workspace: String,
    pub connection_id: String,
    /// The connection's tag (keyless tokens carry it as `connection_tag`).
    #[serde(default)]
    pub tag: String,
    /// `aws`, `gcp`, `azure`, `mongodb_atlas`, `neo4j_aura`.
    pub provider: String,
    /// The ACTIVE revision's Vault KV version.
    pub revision: u64,
    /// One of the connection's scopes.
    pub scope: String,
    /// Who asked (validated by the server): audited, and in session names.
    pub consumer: String,
    /// The lifetime to ask the provider for, in seconds.
    pub ttl_secs: u64,
    /// AWS only: the `sts:ExternalId` to present.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Unix milliseconds after which nobody waits for the answer: a worker
    /// that picks the request up later drops it without calling the provider.
    pub deadline_unix_ms: u64,
    /// Mint (the default), or remove what minting left at the provider.
    #[serde(default)]
    pub action: IssueAction,
}

/// What an issue request asks of the worker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IssueAction {
    #[default]
    Mint,
    /// Remove the connection's temporary provider accounts (Atlas database
    /// users), all of them or all but those minted from `keep_revision`;
    /// `revision` is the one whose credentials the worker signs in with.
    Revoke { keep_revision: Option<u64> },
}

impl IssueRequest {
    /// The same check as validation jobs: a workspace name and a UUID, the
    /// only Vault paths the server writes.
    pub fn is_well_formed(&self) -> bool {
        let ws = self.workspace.as_bytes();
        !ws.is_empty()
            && ws.len() <= 63
            && (ws[0].is_ascii_lowercase() || ws[0].is_ascii_digit())
            && ws.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'))
            && uuid::Uuid::parse_str(&self.connection_id).is_ok()
    }

    /// Whether nobody waits for the answer any more.
    pub fn expired(&self, now_unix_ms: u64) -> bool {
        now_unix_ms >= self.deadline_unix_ms
    }
}

/// The worker's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum IssueReply {
    Issued {
        version: u32,
        /// RFC 3339: when the provider stops honouring them.
        expire_time: String,
        credentials: Minted,
    },
    /// A provider refusal or outage, classified like a validation failure
    /// (`retryable` = an outage).
    Failed { version: u32, error: ProbeError },
    /// A revoke's answer: how many accounts were removed.
    Revoked { version: u32, removed: u32 },
}

/// The credentials, by kind. Field names follow `IssuedCredentials`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Minted {
    AwsSession {
        access_key_id: String,
        secret_access_key: WireSecret,
        session_token: WireSecret,
        region: String,
        assumed_role_arn: String,
    },
    AccessToken {
        access_token: WireSecret,
        token_type: String,
        #[serde(default)]
        scopes: Vec<String>,
        #[serde(default)]
        audience: String,
    },
    DatabaseUser {
        username: String,
        password: WireSecret,
        database: String,
        roles: Vec<String>,
    },
}

/// A secret value that must cross the broker: `Debug` is redacted, and it
/// is exposed only by `Serialize` (to build the reply) and [`Self::expose`].
#[derive(Clone)]
pub struct WireSecret(pub SecretString);

impl WireSecret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for WireSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WireSecret([REDACTED])")
    }
}

/// Equal values compare equal (tests compare messages); not constant-time,
/// and nothing decides anything on it.
impl PartialEq for WireSecret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}
impl Eq for WireSecret {}

impl Serialize for WireSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for WireSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_on_the_wire_and_never_in_debug() {
        let reply = IssueReply::Issued {
            version: ISSUE_VERSION,
            expire_time: "2026-01-01T00:15:00Z".into(),
            credentials: Minted::AccessToken {
                access_token: WireSecret::new("canary-token-123"),
                token_type: "Bearer".into(),
                scopes: vec![],
                audience: "https://storage.azure.com".into(),
            },
        };
        assert!(!format!("{reply:?}").contains("canary-token-123"));
        let json = serde_json::to_string(&reply).unwrap();
        assert!(json.contains("canary-token-123"));
        assert_eq!(serde_json::from_str::<IssueReply>(&json).unwrap(), reply);
    }

    #[test]
    fn a_request_past_its_deadline_is_expired() {
        let request = IssueRequest {
            version: ISSUE_VERSION,
            tag: String::new(),
            workspace: "acme".into(),
            connection_id: "4e098c3f-fe71-466b-97f2-2e4926947752".into(),
            provider: "aws".into(),
            revision: 1,
            scope: "storage".into(),
            consumer: "billing-api".into(),
            ttl_secs: 900,
            external_id: None,
            deadline_unix_ms: 1_000,
            action: IssueAction::Mint,
        };
        assert!(request.is_well_formed());
        assert!(!request.expired(999));
        assert!(request.expired(1_000));
    }
}
