//! Neo4j Aura: the probe's client-credentials token for the Aura API. Aura
//! has no narrower grant than the API credential's own, and its tokens live
//! an hour whatever the TTL.

use chrono::Utc;
use cloudconn_infra::secrets::SecretFields;
use reqwest::Client;

use super::{Mint, MintRequest, MintedCredentials, access_token, field, grant};
use crate::probe::{ProbeFailure, http, neo4j_aura::AuraProbe};

pub struct AuraMinter {
    /// The probe's token request (`<base>/oauth/token`, HTTP Basic auth).
    aura: AuraProbe,
}

impl AuraMinter {
    /// `base`: `CLOUDCONN_AURA_BASE`.
    pub fn new(base: String, client: Client) -> Self {
        Self { aura: AuraProbe { base, client } }
    }
}

#[async_trait::async_trait]
impl Mint for AuraMinter {
    async fn mint(&self, request: &MintRequest, credentials: &SecretFields) -> Result<MintedCredentials, ProbeFailure> {
        grant(request)?;
        // Sent in HTTP Basic auth: re-checked as in the probe.
        let client_id = field(credentials, "aura_client_id");
        http::header_token("aura_client_id", &client_id)?;
        let asked = Utc::now();
        let token = self.aura.token(&client_id, &field(credentials, "aura_client_secret")).await?;
        Ok(access_token(token, asked, None, ""))
    }
}
