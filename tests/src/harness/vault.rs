//! Vault from the test's side: the project's own policies
//! (`deploy/vault/*.hcl`) applied to a test's prefix, tokens and AppRole
//! roles that carry them, and clean-up.

use cloudconn_infra::config::OidcConfig;
use vaultrs::{
    api::{auth::approle::requests::SetAppRoleRequest, token::requests::CreateTokenRequest},
    client::VaultClient,
};

pub const SERVER_POLICY: &str = include_str!("../../../deploy/vault/server.hcl");
pub const WORKER_POLICY: &str = include_str!("../../../deploy/vault/worker.hcl");

/// Writes `template` (written for `secret` / `cloudconn`) as policy `name`
/// for `prefix`, the way `deploy/vault/apply.sh` does.
pub async fn write_policy(vault: &VaultClient, name: &str, template: &str, prefix: &str) {
    let policy = template
        .replace("secret/data/cloudconn/", &format!("secret/data/{prefix}/"))
        .replace("secret/metadata/cloudconn/", &format!("secret/metadata/{prefix}/"))
        .replace("/cloudconn-oidc", &format!("/{prefix}-oidc"));
    vaultrs::sys::policy::set(vault, name, &policy).await.expect("write policy");
}

/// The OIDC section for a test: transit enabled at `transit/` (once for
/// every test), an RSA key `<prefix>-oidc` as `deploy/vault/apply.sh` makes
/// it, and an issuer URL of the test's own.
pub async fn oidc_key(vault: &VaultClient, prefix: &str, jwks_max_age: std::time::Duration) -> OidcConfig {
    // Enabling twice fails ("path is already in use"): fine.
    let _ = vaultrs::sys::mount::enable(vault, "transit", "transit", None).await;
    let mut options = vaultrs::api::transit::requests::CreateKeyRequest::builder();
    options.key_type(vaultrs::api::transit::KeyType::Rsa2048);
    vaultrs::transit::key::create(vault, "transit", &format!("{prefix}-oidc"), Some(&mut options))
        .await
        .expect("create the transit key");
    OidcConfig {
        oidc_issuer: Some(format!("https://issuer.test/{prefix}")),
        oidc_key: format!("{prefix}-oidc"),
        oidc_jwks_max_age_ms: jwks_max_age.as_millis() as u64,
        ..OidcConfig::default()
    }
}

/// A token holding only `policy`.
pub async fn token_with(vault: &VaultClient, policy: &str) -> String {
    let mut request = CreateTokenRequest::builder();
    // With the `default` policy: it lets a token look itself up and renew
    // itself, and grants no secret.
    request.policies(vec![policy.to_owned()]).ttl("1h");
    vaultrs::token::new(vault, Some(&mut request)).await.expect("create token").client_token
}

/// An AppRole role issuing tokens with `policy` that live `ttl` (renewable
/// up to `max_ttl`); returns its role_id and a secret_id.
pub async fn approle(vault: &VaultClient, role: &str, policy: &str, ttl: &str, max_ttl: &str) -> (String, String) {
    // Enabling twice fails ("path is already in use"): fine.
    let _ = vaultrs::sys::auth::enable(vault, "approle", "approle", None).await;
    let mut request = SetAppRoleRequest::builder();
    request.token_policies(vec![policy.to_owned()]).token_ttl(ttl).token_max_ttl(max_ttl);
    vaultrs::auth::approle::role::set(vault, "approle", role, Some(&mut request)).await.expect("approle role");
    let role_id = vaultrs::auth::approle::role::read_id(vault, "approle", role).await.expect("role id").role_id;
    let secret_id = vaultrs::auth::approle::role::secret::generate(vault, "approle", role, None)
        .await
        .expect("secret id")
        .secret_id;
    (role_id, secret_id)
}

pub async fn forget(vault: &VaultClient, policies: &[String], role: Option<&str>) {
    for p in policies {
        let _ = vaultrs::sys::policy::delete(vault, p).await;
    }
    if let Some(role) = role {
        let _ = vaultrs::auth::approle::role::delete(vault, "approle", role).await;
    }
}
