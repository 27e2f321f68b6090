//! Neo4j Aura: the Aura API with client credentials.
//!
//! OAuth 2.0 client-credentials grant (RFC 6749 §4.4, via `oauth.rs`) at
//! `<base>/oauth/token`, client id and secret in HTTP Basic auth, then
//! `GET /v1/tenants` with the bearer token (the identity), and for the
//! database scope `GET /v1/instances`.

use reqwest::{Client, StatusCode};
use secrecy::ExposeSecret;
use serde::Deserialize;

use oauth2::AuthType;

use super::{
    ErrorCode, Probe, ProbeFailure, ProbeReport, ProbeRequest, http,
    oauth::{self, TokenError},
};
use cloudconn_infra::{amqp::messages::ScopeCheck, permissions, secrets::SecretFields};

const PROVIDER: &str = "Neo4j Aura";

pub struct AuraProbe {
    pub base: String,
    pub client: Client,
}

#[derive(Deserialize)]
struct Tenants {
    data: Vec<Tenant>,
}

#[derive(Deserialize)]
struct Tenant {
    id: String,
    #[serde(default)]
    name: String,
}

impl AuraProbe {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches('/'))
    }

    /// A client-credentials token for the Aura API (the probe's, and the
    /// one minting hands out).
    pub(crate) async fn token(&self, id: &str, secret: &str) -> Result<oauth::IssuedToken, ProbeFailure> {
        // Aura takes the client id and secret in HTTP Basic auth.
        let url = self.url("/oauth/token");
        match oauth::client_credentials(
            &self.client,
            PROVIDER,
            &url,
            id,
            oauth::ClientAuth::Secret(secret),
            None,
            AuthType::BasicAuth,
        )
        .await
        {
            Ok(token) => Ok(token),
            Err(TokenError::Rejected { .. }) => Err(ProbeFailure::new(
                ErrorCode::InvalidCredentials,
                "Aura rejected the client id and secret",
                "Check the Aura API credentials (Account settings → API credentials); a deleted credential cannot be restored, create a new one.",
            )),
            Err(TokenError::Failed(failure)) => Err(failure),
        }
    }
}

#[async_trait::async_trait]
impl Probe for AuraProbe {
    async fn probe(&self, request: &ProbeRequest, credentials: &SecretFields) -> Result<ProbeReport, ProbeFailure> {
        let field = |name: &str| credentials.get(name).map(|v| v.expose_secret().to_owned()).unwrap_or_default();
        // Sent in HTTP Basic auth (form-encoded first by the oauth2 crate).
        let client_id = field("aura_client_id");
        http::header_token("aura_client_id", &client_id)?;
        let issued = self.token(&client_id, &field("aura_client_secret")).await?;
        let token = issued.access_token.expose_secret();

        let response = http::send(PROVIDER, self.client.get(self.url("/v1/tenants")).bearer_auth(token)).await?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(ProbeFailure::new(
                    ErrorCode::AccessDenied,
                    "the Aura API credential may not list its tenants",
                    "Use API credentials of a user who is a member of the Aura tenant.",
                ));
            }
            s => return Err(http::unexpected(PROVIDER, &format!("tenants answered {s}"))),
        }
        let tenants: Tenants = http::json(PROVIDER, response, "tenant list").await?;
        if tenants.data.is_empty() {
            return Err(ProbeFailure::new(
                ErrorCode::ResourceNotFound,
                "the Aura API credential belongs to no tenant",
                "Invite the credential's user to the Aura tenant (project) to link.",
            ));
        }

        let mut scope_checks = Vec::new();
        for scope in &request.scopes {
            let granted = if scope == "database" {
                let response =
                    http::send(PROVIDER, self.client.get(self.url("/v1/instances")).bearer_auth(token)).await?;
                match response.status() {
                    StatusCode::OK => true,
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => false,
                    s => return Err(http::unexpected(PROVIDER, &format!("instances answered {s}"))),
                }
            } else {
                false
            };
            scope_checks.push(ScopeCheck {
                scope: scope.clone(),
                granted,
                missing_permissions: if granted {
                    vec![]
                } else {
                    permissions::for_scope("neo4j_aura", scope).iter().map(|p| (*p).to_owned()).collect()
                },
            });
        }
        let mut report = ProbeReport { scope_checks, ..Default::default() };
        let ids: Vec<&str> = tenants.data.iter().map(|t| t.id.as_str()).collect();
        report.identity.insert("tenant_ids".into(), ids.join(","));
        if let Some(first) = tenants.data.first() {
            report.identity.insert("tenant_name".into(), first.name.clone());
        }
        Ok(report)
    }
}
