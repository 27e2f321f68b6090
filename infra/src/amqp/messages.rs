//! The messages between server and worker. JSON, with a format version so a
//! rolling upgrade can tell old messages from new ones. None carries a secret:
//! the worker reads the credential revision from Vault itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Format version of both message types.
pub const MESSAGE_VERSION: u32 = 1;

/// "Validate revision N of this connection." Published by the server's
/// outbox relay to `<p>.jobs` / `validate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationJob {
    pub version: u32,
    pub validation_id: String,
    pub connection_id: String,
    pub workspace: String,
    pub tag: String,
    /// `aws`, `gcp`, `azure`, `mongodb_atlas`, `neo4j_aura`.
    pub provider: String,
    /// The Vault KV version to read and probe.
    pub revision: u64,
    pub scopes: Vec<String>,
    /// AWS only: the `sts:ExternalId` to present.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Random per validation; the result must carry it back, so a result
    /// not answering this job is ignored.
    #[serde(default)]
    pub nonce: String,
}

/// A probe's classified failure (`Validation.error`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeError {
    /// INVALID_CREDENTIALS, ACCESS_DENIED, RESOURCE_NOT_FOUND, EXTERNAL_ID_MISMATCH, EXTERNAL_ID_NOT_ENFORCED,
    /// MALFORMED_CREDENTIALS, PROVIDER_UNAVAILABLE, TIMEOUT; issue replies also QUOTA_EXCEEDED.
    pub code: String,
    pub message: String,
    pub hint: String,
    pub retryable: bool,
    #[serde(default)]
    pub missing_permissions: Vec<String>,
}

/// Whether one requested scope is usable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeCheck {
    pub scope: String,
    pub granted: bool,
    #[serde(default)]
    pub missing_permissions: Vec<String>,
}

/// The key of `Outcome::Succeeded::identity` under which a worker records
/// when the validated credential expires (RFC 3339), where the provider says;
/// the server judges how near that is (docs/api.md#credential-expiry).
pub const CREDENTIAL_EXPIRE_TIME: &str = "credential_expire_time";

/// How a validation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Outcome {
    Succeeded {
        identity: BTreeMap<String, String>,
        scope_checks: Vec<ScopeCheck>,
        warnings: Vec<String>,
    },
    Failed {
        error: ProbeError,
        #[serde(default)]
        scope_checks: Vec<ScopeCheck>,
        #[serde(default)]
        warnings: Vec<String>,
    },
}

impl ValidationJob {
    /// Whether the fields that name a Vault path are what the server
    /// writes: a workspace name (`^[a-z0-9][a-z0-9_-]{0,62}$`) and a UUID.
    /// A job that says otherwise did not come from the server (it could
    /// point the worker at another path under its prefix): it is set aside.
    pub fn is_well_formed(&self) -> bool {
        let ws = self.workspace.as_bytes();
        let workspace_ok = !ws.is_empty()
            && ws.len() <= 63
            && (ws[0].is_ascii_lowercase() || ws[0].is_ascii_digit())
            && ws.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
        workspace_ok && uuid::Uuid::parse_str(&self.connection_id).is_ok()
    }
}

/// The worker's report, published to `<p>.results`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationResult {
    pub version: u32,
    pub validation_id: String,
    pub connection_id: String,
    pub workspace: String,
    pub revision: u64,
    /// Probe attempts made (retries included).
    pub attempts: u32,
    /// RFC 3339 times the worker started and finished.
    pub start_time: String,
    pub end_time: String,
    pub outcome: Outcome,
    /// The job's nonce, returned.
    #[serde(default)]
    pub nonce: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_naming_anything_but_a_workspace_and_a_uuid_are_not_well_formed() {
        let job = |workspace: &str, connection_id: &str| ValidationJob {
            version: MESSAGE_VERSION,
            validation_id: "v".into(),
            connection_id: connection_id.into(),
            workspace: workspace.into(),
            tag: "t".into(),
            provider: "aws".into(),
            revision: 1,
            scopes: vec![],
            external_id: None,
            nonce: String::new(),
        };
        let uid = "4e098c3f-fe71-466b-97f2-2e4926947752";
        assert!(job("acme", uid).is_well_formed());
        for (w, c) in [("../acme", uid), ("acme/x", uid), ("", uid), ("Acme", uid), ("acme", "../x"), ("acme", "")] {
            assert!(!job(w, c).is_well_formed(), "{w:?} {c:?}");
        }
    }

    #[test]
    fn results_round_trip_as_tagged_json() {
        let result = ValidationResult {
            version: MESSAGE_VERSION,
            validation_id: "v".into(),
            connection_id: "c".into(),
            workspace: "w".into(),
            revision: 3,
            attempts: 2,
            start_time: "2026-01-01T00:00:00Z".into(),
            end_time: "2026-01-01T00:00:01Z".into(),
            outcome: Outcome::Failed {
                error: ProbeError { code: "ACCESS_DENIED".into(), ..Default::default() },
                scope_checks: vec![],
                warnings: vec![],
            },
            nonce: "n".into(),
        };
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["outcome"]["state"], "failed");
        assert_eq!(serde_json::from_value::<ValidationResult>(json).unwrap(), result);
    }
}
