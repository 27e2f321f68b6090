//! `cloudconn-server --dev`'s provider sandbox: the five emulators in
//! sandbox mode, each on its own loopback port, for the unchanged probes
//! to be pointed at. Dropping it stops them.

use std::sync::Arc;

use crate::{Emulator, aws, azure, gcp, mongodb_atlas, neo4j_aura, oidc::Verifier, serve};

/// The access key id the worker signs `AssumeRole` with in the sandbox;
/// its secret is [`PLATFORM_SECRET`]. Neither is a secret: the sandbox
/// checks who signs, not the signature.
pub const PLATFORM_KEY: &str = "AKIASANDBOXPLATFORM0";
pub const PLATFORM_SECRET: &str = "cloudconn-sandbox-platform-secret";

/// Where the probes must connect, by provider.
pub struct Sandbox {
    pub aws: Emulator,
    pub gcp: Emulator,
    pub azure: Emulator,
    pub atlas: Emulator,
    pub aura: Emulator,
    /// What the stand-ins hold (issued tokens, database users, the
    /// `AssumeRole` calls), for tests to look at.
    pub state: State,
}

/// The five stand-ins' state.
pub struct State {
    pub aws: Arc<aws::Aws>,
    pub gcp: Arc<gcp::Gcp>,
    pub azure: Arc<azure::Azure>,
    pub atlas: Arc<mongodb_atlas::Atlas>,
    pub aura: Arc<neo4j_aura::Aura>,
}

impl Sandbox {
    /// Starts the five stand-ins on free loopback ports, with no issuer
    /// for keyless connections: their tokens are refused as unknown.
    pub async fn start() -> Self {
        Self::start_with_issuer(None).await
    }

    /// Starts the five stand-ins; with `issuer` (`(issuer URL, fetch
    /// base)`, see [`Verifier::new`]), keyless connections' tokens are
    /// verified against it ([`Sandbox::trust_issuer`]).
    pub async fn start_with_issuer(issuer: Option<(String, String)>) -> Self {
        let google = Arc::new(gcp::Gcp::sandbox());
        let gcp = serve(gcp::router(google.clone())).await;
        // Assertions must be addressed to the token URL, as at Google.
        *google.audience.lock().unwrap_or_else(|e| e.into_inner()) = Self::gcp_token_url_of(&gcp);
        let state = State {
            aws: Arc::new(aws::Aws::new(PLATFORM_KEY)),
            gcp: google,
            azure: Arc::new(azure::Azure::sandbox()),
            atlas: Arc::new(mongodb_atlas::Atlas::sandbox()),
            aura: Arc::new(neo4j_aura::Aura::sandbox()),
        };
        let sandbox = Self {
            aws: serve(aws::router(state.aws.clone())).await,
            gcp,
            azure: serve(azure::router(state.azure.clone())).await,
            atlas: serve(mongodb_atlas::router(state.atlas.clone())).await,
            aura: serve(neo4j_aura::router(state.aura.clone())).await,
            state,
        };
        if let Some((issuer, fetch_base)) = issuer {
            sandbox.trust_issuer(&issuer, &fetch_base);
        }
        sandbox
    }

    /// Keyless connections' tokens of `issuer` (its documents fetched from
    /// `fetch_base`) are verified for real from now on, by AWS's OIDC
    /// provider, Google's workload identity providers and Entra ID's
    /// federated credentials alike; each account trusts the first subject
    /// presented to it, with the cloud's default audience, unless its name
    /// says otherwise ([`crate::magic`]). For a server that knows its own
    /// address only once it listens.
    pub fn trust_issuer(&self, issuer: &str, fetch_base: &str) {
        let verifier = std::sync::Arc::new(Verifier::new(issuer, fetch_base));
        self.state.aws.sandbox_oidc_provider(verifier.clone());
        self.state.gcp.sandbox_workload_identity(verifier.clone());
        self.state.azure.sandbox_federated_credentials(verifier);
    }

    /// `CLOUDCONN_GCP_TOKEN_URL`'s value in the sandbox.
    pub fn gcp_token_url(&self) -> String {
        Self::gcp_token_url_of(&self.gcp)
    }

    fn gcp_token_url_of(gcp: &Emulator) -> String {
        format!("{}/token", gcp.url())
    }
}
