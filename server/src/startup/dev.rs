//! `--dev`'s backends: the encrypted file secret store, in-process channels
//! where production has RabbitMQ, the worker's own code in process (probes
//! and minting), the provider sandbox, and a dev key and token when no
//! issuer is configured.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use cloudconn_infra::{amqp::messages::ValidationJob, secrets::SecretStore};
use cloudconn_sandbox::sandbox::Sandbox;
use cloudconn_worker::{
    config::{ExternalIdCheck, WorkerConfig},
    consumer::JobRunner,
    issue::IssueRunner,
    mint::Minters,
    probe::Probes,
};
use tokio::sync::mpsc;

use super::{Messaging, Secrets};
use crate::{
    auth::AuthConfig,
    config::{Mode, Providers, ServerConfig},
    credentials::minter::{InProcessMinter, Minter},
    dev::secret_store::DevSecretStore,
    lifecycle::Lifecycle,
    outbox::broker::InProcessBroker,
    results::in_process::InProcessPipeline,
    watch::Hub,
};

/// The in-process worker's configuration, its probes aimed at the provider
/// sandbox when `--providers sandbox` (the sandbox is returned: it must run
/// as long as the pipeline).
pub(super) async fn worker(config: &ServerConfig, mode: Mode) -> (WorkerConfig, Option<Sandbox>) {
    let mut worker = worker_config(config);
    // Only --dev runs the sandbox; production's `providers` is always real.
    let sandbox = match config.providers(mode) {
        Providers::Sandbox => Some(Sandbox::start().await),
        Providers::Real => None,
    };
    if let Some(sandbox) = &sandbox {
        crate::dev::sandbox::aim(&mut worker, sandbox);
    }
    (worker, sandbox)
}

/// The encrypted file store in `CLOUDCONN_DEV_DATA_DIR`.
pub(super) fn secrets(config: &ServerConfig) -> anyhow::Result<Secrets> {
    let store = Arc::new(DevSecretStore::open(&config.dev_data_dir).context("opening the dev secret store")?);
    Ok(Secrets { store, vault: None, reached: true })
}

/// The relay's jobs for the in-process pipeline, and the way to send one
/// again.
pub(super) struct Jobs {
    resend: mpsc::UnboundedSender<ValidationJob>,
    received: mpsc::UnboundedReceiver<ValidationJob>,
}

/// Channels: events go straight to this process's watchers, jobs to the
/// in-process pipeline.
pub(super) fn messaging() -> Messaging {
    let (jobs, received) = mpsc::unbounded_channel();
    let watchers = Hub::in_process();
    Messaging {
        broker: Arc::new(InProcessBroker { events: watchers.sender(), jobs: jobs.clone() }),
        watchers,
        event_feed: None,
        results: None,
        jobs: Some(Jobs { resend: jobs, received }),
    }
}

/// The worker's own `IssueRunner`, called in process.
pub(super) fn minter(secrets: Arc<dyn SecretStore>, minters: Minters) -> Arc<dyn Minter> {
    Arc::new(InProcessMinter { runner: Arc::new(IssueRunner { secrets, minters }) })
}

/// The validation pipeline in one process: the relay's jobs, run by the
/// worker's own `JobRunner`, their results recorded through `lifecycle`.
pub(super) fn pipeline(
    config: &ServerConfig,
    jobs: Jobs,
    secrets: Arc<dyn SecretStore>,
    probes: Probes,
    lifecycle: &Lifecycle,
) -> InProcessPipeline {
    InProcessPipeline {
        runner: Arc::new(JobRunner { config: worker_config(config), secrets, probes, metrics: None }),
        lifecycle: lifecycle.clone(),
        jobs: jobs.received,
        resend: jobs.resend,
        concurrency: 8,
        sandbox: None,
    }
}

/// With no issuer configured: a dev key (made once, kept in the data
/// directory) and a token it signed that can do anything.
pub(super) fn auth(config: &ServerConfig) -> anyhow::Result<(AuthConfig, String)> {
    crate::dev::auth::dev_auth(&config.dev_data_dir)
}

/// Once the address is known: the client file the CLI reads (with the
/// sandbox's endpoints when it runs), and a warning when the dev server can
/// be reached from beyond this machine.
pub(super) fn listening(
    config: &ServerConfig,
    local_addr: SocketAddr,
    token: Option<&str>,
    sandbox: Option<&Sandbox>,
) -> anyhow::Result<()> {
    if let Some(token) = token {
        crate::dev::auth::write_client_file(&config.dev_data_dir, local_addr, token, sandbox.map(endpoints))
            .context("writing the dev client file")?;
    }
    if !local_addr.ip().is_loopback() {
        // The dev token printed at start can do anything, in any workspace.
        tracing::warn!(address = %local_addr, "--dev is listening beyond this machine: anyone who can reach it and \
             sees the dev token can read and change every workspace and mint its cloud credentials; use 127.0.0.1");
    }
    Ok(())
}

/// Where each stand-in listens, by provider word: a component trying the
/// run step in `--dev` points its cloud SDK's endpoint there (AWS's S3 and
/// STS, Google's storage JSON API and `/tokeninfo`, Azure's ARM).
fn endpoints(sandbox: &Sandbox) -> serde_json::Value {
    serde_json::json!({
        "aws": sandbox.aws.url(),
        "gcp": sandbox.gcp.url(),
        "azure": sandbox.azure.url(),
        "mongodb_atlas": sandbox.atlas.url(),
        "neo4j_aura": sandbox.aura.url(),
    })
}

/// The `--dev` in-process worker: the worker's defaults, the server's timeouts.
fn worker_config(config: &ServerConfig) -> WorkerConfig {
    WorkerConfig {
        worker_concurrency: 8,
        probe_concurrency_per_provider: 64,
        metrics_listen: None,
        probe_timeout_ms: 20_000,
        probe_attempts: 3,
        probe_retry_base_ms: 1_000,
        // `--dev` talks to real AWS (or what CLOUDCONN_AWS_ENDPOINT names):
        // an unenforced external id fails, as in production.
        aws_external_id_check: ExternalIdCheck::Fail,
        atlas_project_user_cap: cloudconn_worker::mint::mongodb_atlas::DEFAULT_PROJECT_USER_CAP,
        atlas_users_per_consumer: cloudconn_worker::mint::mongodb_atlas::DEFAULT_USERS_PER_CONSUMER,
        endpoints: config.endpoints.clone(),
        aws_platform_key: None,
        amqp: Default::default(),
        vault: Default::default(),
        oidc: config.oidc.clone(),
        timeouts: config.timeouts.clone(),
        transport: Default::default(),
        vault_denied_requeue_ms: 120_000,
        vault_liveness_ms: 300_000,
        issue_max_ttl_ms: config.issue_max_ttl_ms,
    }
}
