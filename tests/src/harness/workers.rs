//! The validation workers of a test app: in process (with the scripted or
//! the real probes) or as a separate process a test can kill.

use std::{sync::Arc, time::Duration};

use cloudconn_infra::vault::VaultStore;
use cloudconn_server::config::ServerConfig;
use cloudconn_worker::{
    Worker,
    config::{ExternalIdCheck, WorkerConfig},
    probe::{Bounded, Probes, aws::AwsProbe},
};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use super::app::TestApp;

/// The in-process worker's configuration: the app's RabbitMQ and Vault,
/// and short timeouts so retry and timeout paths finish quickly.
pub(crate) fn worker_config(server: &ServerConfig) -> WorkerConfig {
    WorkerConfig {
        worker_concurrency: 8,
        probe_concurrency_per_provider: 64,
        metrics_listen: None,
        probe_timeout_ms: 1_000,
        probe_attempts: 3,
        probe_retry_base_ms: 20,
        // The shared moto of the test stack accepts every AssumeRole (it
        // cannot evaluate trust policies while open), so the confused-deputy
        // check would fail every AWS validation there. The IAM-enforcing
        // moto (`with_aws_platform_key`) turns it back to `fail`.
        aws_external_id_check: ExternalIdCheck::Warn,
        atlas_project_user_cap: cloudconn_worker::mint::mongodb_atlas::DEFAULT_PROJECT_USER_CAP,
        atlas_users_per_consumer: cloudconn_worker::mint::mongodb_atlas::DEFAULT_USERS_PER_CONSUMER,
        endpoints: Default::default(),
        aws_platform_key: None,
        amqp: server.amqp.clone(),
        // Through the Vault proxy too, when the test has one.
        vault: server.vault.clone(),
        timeouts: server.timeouts.clone(),
        transport: server.transport.clone(),
        vault_denied_requeue_ms: 120_000,
        vault_liveness_ms: 300_000,
        issue_max_ttl_ms: server.issue_max_ttl_ms,
        oidc: server.oidc.clone(),
    }
}

impl TestApp {
    /// Starts an in-process worker with the scripted probe.
    pub fn start_worker(&mut self) {
        let secrets = VaultStore::new(&self.worker_config.vault, Duration::from_secs(2)).expect("worker vault");
        let probes = if self.real_probes {
            let c = &self.worker_config;
            let probes = Probes::production(c);
            match &self.aws_platform_key {
                Some(key) => {
                    let aws = AwsProbe::new(c.endpoints.aws_endpoint.clone(), c.probe_timeout())
                        .with_platform_key(&key.id, &key.secret)
                        .with_external_id_check(c.aws_external_id_check);
                    probes.with("aws", Arc::new(Bounded::new(Arc::new(aws), c.probe_concurrency_per_provider)))
                }
                None => probes,
            }
        } else {
            ["aws", "gcp", "azure", "mongodb_atlas", "neo4j_aura"]
                .into_iter()
                .fold(Probes::default(), |p, name| p.with(name, self.probe.clone()))
        };
        let secrets = Arc::new(secrets);
        // Keyless connections' tokens, signed with the test's transit key.
        let issuer = cloudconn_infra::oidc::transit::issuer(&self.worker_config.oidc, secrets.clone());
        let probes = probes.keyless(issuer.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind worker endpoint");
        listener.set_nonblocking(true).expect("nonblocking");
        self.worker_metrics_addr = Some(listener.local_addr().expect("addr"));
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        // The minters sign AWS calls as the platform user, like the probe.
        let mut minting = self.worker_config.clone();
        if let Some(key) = &self.aws_platform_key {
            minting.aws_platform_key = Some(cloudconn_worker::config::PlatformKey {
                access_key_id: key.id.clone(),
                secret_access_key: key.secret.clone(),
            });
        }
        let minters = self
            .minters
            .clone()
            .unwrap_or_else(|| cloudconn_worker::mint::Minters::production(&minting))
            .keyless(issuer);
        let worker = Worker::new(self.worker_config.clone(), secrets.clone(), probes, minters)
            .with_endpoint(listener, Some(secrets));
        let stop = CancellationToken::new();
        let handle = tokio::spawn(worker.run(stop.clone()));
        self.workers.push((stop, handle));
    }

    /// Stops the in-process workers and waits for them (jobs in flight are
    /// finished or given back).
    pub async fn stop_workers(&mut self) {
        for (stop, handle) in self.workers.drain(..) {
            stop.cancel();
            tokio::time::timeout(Duration::from_secs(15), handle)
                .await
                .expect("worker stops within 15 s")
                .expect("worker task")
                .expect("worker ran cleanly");
        }
    }

    /// Starts a worker as a separate process (`binary`: the test crate's
    /// `scripted-worker`, the real worker with the scripted probe; an
    /// integration test knows its path as `CARGO_BIN_EXE_scripted-worker`),
    /// so a test can kill -9 it.
    pub fn spawn_worker_process(&self, binary: &str, concurrency: usize) -> tokio::process::Child {
        let c = &self.worker_config;
        let keys = self.message_keys.write_worker_files(&self.scratch.join("worker-keys"));
        tokio::process::Command::new(binary)
            .env("CLOUDCONN_AMQP_SIGNING_KEY_FILE", &keys.signing_key)
            .env("CLOUDCONN_AMQP_PEER_KEYS_FILE", &keys.peer_keys)
            .env(
                "CLOUDCONN_AMQP_URL",
                c.amqp.amqp_url.as_ref().map(|u| u.expose_secret().to_owned()).unwrap_or_default(),
            )
            .env("CLOUDCONN_AMQP_PREFIX", &c.amqp.amqp_prefix)
            .env("CLOUDCONN_VAULT_ADDR", c.vault.vault_addr.clone().unwrap_or_default())
            .env(
                "CLOUDCONN_VAULT_TOKEN",
                c.vault.vault_token.as_ref().map(|t| t.expose_secret().to_owned()).unwrap_or_default(),
            )
            .env(
                "CLOUDCONN_VAULT_TOKEN_FILE",
                c.vault.vault_token_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            )
            .env("CLOUDCONN_VAULT_PREFIX", &c.vault.vault_prefix)
            .env("CLOUDCONN_WORKER_CONCURRENCY", concurrency.to_string())
            .env("CLOUDCONN_PROBE_TIMEOUT_MS", "5000")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start scripted-worker")
    }
}
