//! Google Cloud: the JWT-bearer grant (RFC 7523) of the probe, asking for
//! the scope's OAuth scope (the run-time grant table) instead of the
//! probe's read-only one. The assertion is signed with the service account
//! key and addressed to the configured token endpoint, never the key
//! file's `token_uri`. Google's tokens live an hour whatever the TTL.

use chrono::Utc;
use cloudconn_infra::{permissions::Grant, secrets::SecretFields};
use reqwest::Client;

use super::{Mint, MintRequest, MintedCredentials, access_token, field, grant, wrong_kind};
use crate::probe::{
    ProbeFailure,
    gcp::{KeyFile, access_token as exchange},
    gcp_federation,
};

pub struct GcpMinter {
    /// `CLOUDCONN_GCP_TOKEN_URL`.
    pub token_url: String,
    /// Keyless (`workload_identity`) connections sign in here.
    pub federation: crate::probe::gcp_federation::Federation,
    pub client: Client,
}

#[async_trait::async_trait]
impl Mint for GcpMinter {
    async fn mint(&self, request: &MintRequest, credentials: &SecretFields) -> Result<MintedCredentials, ProbeFailure> {
        let Grant::GcpOAuthScope(scope) = grant(request)? else {
            return Err(wrong_kind(request, "a Google token"));
        };
        let asked = Utc::now();
        let token = if crate::keyless::kind(credentials) == gcp_federation::KIND {
            let keyless = crate::keyless::required(&request.keyless)?;
            gcp_federation::access_token(
                &self.client,
                &self.federation,
                keyless,
                &field(credentials, "workload_identity_provider"),
                &field(credentials, "service_account_email"),
                scope,
            )
            .await?
        } else {
            let key = KeyFile::parse(&field(credentials, "service_account_json"))?;
            exchange(&self.client, &self.token_url, &key, scope).await?
        };
        Ok(access_token(token, asked, Some(scope), ""))
    }
}
