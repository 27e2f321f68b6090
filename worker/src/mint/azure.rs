//! Azure: the client-credentials grant of the probe at
//! `<authority>/<tenant>/oauth2/v2.0/token`, for the scope's resource
//! (`scope=<resource>/.default`, the run-time grant table): the token's
//! audience is that resource, so it opens that service's data plane and
//! nothing else. Entra ID's tokens live about an hour whatever the TTL.
//! A keyless (`federated`) connection signs in with a client assertion
//! instead of its secret (`probe::azure_federated`).

use chrono::Utc;
use cloudconn_infra::{permissions::Grant, secrets::SecretFields};
use oauth2::AuthType;
use reqwest::Client;

use super::{Mint, MintRequest, MintedCredentials, access_token, field, grant, wrong_kind};
use crate::probe::{
    ProbeFailure,
    azure_federated::Credential,
    http,
    oauth::{self, TokenError},
};

const PROVIDER: &str = "Azure";

pub struct AzureMinter {
    /// `CLOUDCONN_AZURE_AUTHORITY`.
    pub authority: String,
    pub client: Client,
}

#[async_trait::async_trait]
impl Mint for AzureMinter {
    async fn mint(&self, request: &MintRequest, credentials: &SecretFields) -> Result<MintedCredentials, ProbeFailure> {
        let Grant::AzureResource(resource) = grant(request)? else {
            return Err(wrong_kind(request, "an Azure token"));
        };
        let scope = format!("{resource}/.default");
        let tenant = field(credentials, "tenant_id");
        // Re-checked and encoded as one path segment, as in the probe.
        let tenant = http::path_segment("tenant_id", &tenant)?;
        let token_url = http::url(PROVIDER, &self.authority, &[tenant, "oauth2", "v2.0", "token"])?;
        let asked = Utc::now();
        let credential = Credential::of(credentials, &request.keyless).await?;
        let token = oauth::client_credentials(
            &self.client,
            PROVIDER,
            token_url.as_str(),
            &field(credentials, "client_id"),
            credential.auth(),
            Some(&scope),
            AuthType::RequestBody,
        )
        .await
        .map_err(|e| match e {
            TokenError::Rejected { description, .. } => credential.refusal(&description),
            TokenError::Failed(failure) => failure,
        })?;
        Ok(access_token(token, asked, Some(&scope), resource))
    }
}
