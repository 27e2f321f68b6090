//! Shorthands for the tests: requests with defaults, status assertions.

use cloudconn_proto::v1::{self as pb, complete_connection_request::Credentials};
use cloudconn_tests::harness::{app::TestApp, fixtures};
use tonic::{Code, Status};
use tonic_types::StatusExt;

pub async fn create(app: &TestApp, workspace: &str, tag: &str, provider: pb::Provider) -> pb::Connection {
    app.client
        .clone()
        .create_connection(pb::CreateConnectionRequest {
            workspace: workspace.into(),
            tag: tag.into(),
            provider: provider.into(),
            scopes: fixtures::scopes(provider),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner()
}

pub async fn complete(
    app: &TestApp,
    workspace: &str,
    tag: &str,
    credentials: Credentials,
) -> Result<pb::Connection, Status> {
    save(app, workspace, tag, credentials, false).await
}

/// CompleteConnection, optionally with `validate`.
async fn save(
    app: &TestApp,
    workspace: &str,
    tag: &str,
    credentials: Credentials,
    validate: bool,
) -> Result<pb::Connection, Status> {
    app.client
        .clone()
        .complete_connection(pb::CompleteConnectionRequest {
            workspace: workspace.into(),
            tag: tag.into(),
            credentials: Some(credentials),
            validate,
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner())
}

pub async fn get(app: &TestApp, workspace: &str, tag: &str) -> Result<pb::Connection, Status> {
    app.client
        .clone()
        .get_connection(pb::GetConnectionRequest { workspace: workspace.into(), tag: tag.into() })
        .await
        .map(|r| r.into_inner())
}

/// `ErrorInfo.reason` of a status.
pub fn reason(status: &Status) -> String {
    status.get_details_error_info().map(|i| i.reason).unwrap_or_default()
}

/// Asserts an INVALID_ARGUMENT naming exactly `fields` in its BadRequest.
#[track_caller]
pub fn assert_invalid(status: &Status, fields: &[&str]) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let mut named: Vec<String> = status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default();
    named.sort();
    let mut expected: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    expected.sort();
    assert_eq!(named, expected, "{status:?}");
    assert_eq!(reason(status), "INVALID_ARGUMENT");
}

#[track_caller]
pub fn assert_code(status: &Status, code: Code, expected_reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(reason(status), expected_reason, "{status:?}");
}

/// Reads one KV v2 version straight from OpenBao.
pub async fn vault_read(
    app: &TestApp,
    workspace: &str,
    uid: &str,
    version: u64,
) -> Result<serde_json::Map<String, serde_json::Value>, vaultrs::error::ClientError> {
    vaultrs::kv2::read_version(&app.vault, "secret", &app.vault_path(workspace, uid), version).await
}

/// Current KV version at a connection's path; None when the path has no metadata.
pub async fn vault_version(app: &TestApp, workspace: &str, uid: &str) -> Option<u64> {
    vaultrs::kv2::read_metadata(&app.vault, "secret", &app.vault_path(workspace, uid))
        .await
        .ok()
        .map(|m| m.current_version)
}

/// Deletes without an etag precondition.
pub async fn delete(app: &TestApp, workspace: &str, tag: &str) -> Result<(), Status> {
    app.client
        .clone()
        .delete_connection(pb::DeleteConnectionRequest {
            workspace: workspace.into(),
            tag: tag.into(),
            etag: String::new(),
        })
        .await
        .map(|_| ())
}

/// ValidateConnection in workspace `acme`, waiting up to `wait`.
pub async fn validate(
    app: &TestApp,
    tag: &str,
    wait: std::time::Duration,
) -> Result<pb::ValidateConnectionResponse, Status> {
    app.client
        .clone()
        .validate_connection(pb::ValidateConnectionRequest {
            workspace: "acme".into(),
            tag: tag.into(),
            wait: Some(prost_types::Duration::try_from(wait).expect("wait fits a Duration")),
        })
        .await
        .map(|r| r.into_inner())
}

/// CompleteConnection with `validate: true`: save and enqueue in one call.
pub async fn complete_and_validate(
    app: &TestApp,
    workspace: &str,
    tag: &str,
    credentials: Credentials,
) -> pb::Connection {
    save(app, workspace, tag, credentials, true).await.expect("complete and validate")
}

/// A binary of another package of the workspace (`cloudconn`,
/// `cloudconn-server`), as `cargo build --workspace --bins` leaves it in
/// `target/<profile>/`, beside this test binary's `deps/` folder (so
/// `CARGO_TARGET_DIR` is respected). A test cannot name another package's
/// binary through Cargo.
pub fn built_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("no {name} binary near {}: build it: cargo build --workspace --bins", exe.display()))
}
