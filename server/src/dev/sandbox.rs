//! `--dev --providers sandbox` (the default in dev mode): the in-process
//! worker's probes, unchanged, aimed at the `cloudconn-sandbox` stand-ins
//! instead of the clouds. Every result says it came from the sandbox.

use cloudconn_infra::amqp::messages::{Outcome, ValidationResult};
use cloudconn_sandbox::sandbox::{PLATFORM_KEY, PLATFORM_SECRET, Sandbox};
use cloudconn_worker::config::{Endpoints, ExternalIdCheck, PlatformKey, WorkerConfig};

/// Points `worker`'s probes at `sandbox`, with the sandbox's AWS platform
/// identity (a laptop has none of its own).
pub fn aim(worker: &mut WorkerConfig, sandbox: &Sandbox) {
    worker.endpoints = Endpoints {
        aws_endpoint: Some(sandbox.aws.url()),
        gcp_token_url: sandbox.gcp_token_url(),
        gcp_api_base: sandbox.gcp.url(),
        azure_authority: sandbox.azure.url(),
        azure_arm_base: sandbox.azure.url(),
        azure_graph_base: sandbox.azure.url(),
        gcp_iam_base: sandbox.gcp.url(),
        gcp_sts_url: format!("{}/v1/token", sandbox.gcp.url()),
        gcp_iam_credentials_base: sandbox.gcp.url(),
        atlas_base: sandbox.atlas.url(),
        aura_base: sandbox.aura.url(),
    };
    worker.aws_platform_key =
        Some(PlatformKey { access_key_id: PLATFORM_KEY.into(), secret_access_key: PLATFORM_SECRET.into() });
    // The sandbox's roles enforce the external id unless told otherwise
    // (`sandbox-open-trust`), so the check behaves as in production.
    worker.aws_external_id_check = ExternalIdCheck::Fail;
}

/// The warning every sandbox validation carries, so neither a person nor
/// a program can take it for the provider's word.
pub fn warning(provider: &str) -> String {
    let provider = crate::domain::provider::Provider::from_db(provider).map_or(provider, |p| p.display_name());
    format!(
        "Sandbox result: cloudconn --dev answered this validation with its provider sandbox, not {provider}; \
         nothing was checked with the real provider (run --dev --providers real for that)."
    )
}

/// Adds [`warning`] to `result`.
pub fn mark(result: &mut ValidationResult, provider: &str) {
    match &mut result.outcome {
        Outcome::Succeeded { warnings, .. } | Outcome::Failed { warnings, .. } => warnings.push(warning(provider)),
    }
}
