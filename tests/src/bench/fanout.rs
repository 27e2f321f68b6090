//! Worker fan-out, the worker alone: jobs go straight onto its queue and
//! results are drained from its results queue, with no server in the loop,
//! so the figure is the worker's (the server's share of a validation is
//! what the ValidateConnection scenario measures). The worker is the
//! product binary with the real Aura probe, against a slow emulator.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::DateTime;
use cloudconn_infra::{
    amqp::{
        messages::{MESSAGE_VERSION, Outcome, ValidationJob, ValidationResult},
        publisher::{Outgoing, Publisher},
        topology::{Topology, VALIDATE_KEY},
    },
    config::VaultConfig,
    secrets::{SecretPath, SecretStore},
    vault::VaultStore,
};
use futures_lite::StreamExt;
use hdrhistogram::Histogram;
use lapin::options::{BasicAckOptions, BasicConsumeOptions};
use secrecy::SecretString;
use uuid::Uuid;

use super::closed_loop;
use crate::harness::env;

/// Saves credentials for `n` connections under `prefix` (as
/// CompleteConnection would) and returns one job per connection.
pub async fn prepare(prefix: &str, n: usize) -> anyhow::Result<Vec<ValidationJob>> {
    let config = VaultConfig {
        vault_addr: Some(env::vault_addr()),
        vault_token: Some(SecretString::from(env::vault_token())),
        vault_prefix: prefix.to_owned(),
        ..VaultConfig::default()
    };
    let vault = Arc::new(VaultStore::new(&config, Duration::from_secs(10))?);
    let uids: Arc<Vec<Uuid>> = Arc::new((0..n).map(|_| Uuid::new_v4()).collect());
    let ids = uids.clone();
    closed_loop(32, n, move |i| {
        let (vault, uid) = (vault.clone(), ids[i]);
        async move {
            let path = SecretPath { workspace: "bench".into(), uid: uid.to_string() };
            let fields = BTreeMap::from([
                ("aura_client_id".to_owned(), SecretString::from("bench-client")),
                ("aura_client_secret".to_owned(), SecretString::from("bench-secret")),
            ]);
            vault.write(&path, &fields, 0).await?;
            Ok(())
        }
    })
    .await?;
    Ok(uids
        .iter()
        .enumerate()
        .map(|(i, uid)| ValidationJob {
            version: MESSAGE_VERSION,
            validation_id: Uuid::new_v4().to_string(),
            connection_id: uid.to_string(),
            workspace: "bench".into(),
            tag: format!("f_{i}"),
            provider: "neo4j_aura".into(),
            revision: 1,
            scopes: vec!["database".into()],
            external_id: None,
            nonce: String::new(),
        })
        .collect())
}

/// What the fan-out measured.
pub struct FanOut {
    /// From the first publish to the last result.
    pub elapsed: Duration,
    /// Each job's time in the worker (the result's `end_time - start_time`:
    /// the Vault read and the probe), in microseconds: how far above the
    /// provider's own latency a probe ran.
    pub jobs: Histogram<u64>,
}

/// Publishes every job (with confirms) and waits for every result.
pub async fn run(prefix: &str, jobs: Vec<ValidationJob>) -> anyhow::Result<FanOut> {
    let topology = Topology::new(prefix);
    let connection = lapin::Connection::connect(&env::amqp_url(), Default::default()).await?;
    let channel = connection.create_channel().await?;
    topology.declare(&channel).await?;
    let mut results = channel
        .basic_consume(
            topology.results_queue().as_str().into(),
            "bench-results".into(),
            BasicConsumeOptions::default(),
            Default::default(),
        )
        .await?;
    let publisher =
        Publisher::new(SecretString::from(env::amqp_url()), "bench-jobs", topology.clone(), Duration::from_secs(10));
    let n = jobs.len();
    let started = Instant::now();
    for chunk in jobs.chunks(250) {
        let messages: Vec<Outgoing> = chunk
            .iter()
            .map(|job| Outgoing {
                exchange: topology.jobs_exchange(),
                routing_key: VALIDATE_KEY.into(),
                payload: serde_json::to_vec(job).unwrap_or_default(),
                message_id: job.validation_id.clone(),
                content_type: "application/json",
                traceparent: None,
                mandatory: true,
            })
            .collect();
        publisher.publish_all(&messages).await?;
    }
    let mut histogram = Histogram::<u64>::new(3)?;
    let mut done = 0;
    while done < n {
        let delivery = tokio::time::timeout(Duration::from_secs(120), results.next())
            .await
            .map_err(|_| anyhow::anyhow!("no result for 120 s ({done}/{n} done)"))?
            .ok_or_else(|| anyhow::anyhow!("results consumer closed"))??;
        delivery.ack(BasicAckOptions::default()).await?;
        let result: ValidationResult = serde_json::from_slice(&delivery.data)?;
        anyhow::ensure!(matches!(result.outcome, Outcome::Succeeded { .. }), "a probe failed: {:?}", result.outcome);
        let (start, end) =
            (DateTime::parse_from_rfc3339(&result.start_time)?, DateTime::parse_from_rfc3339(&result.end_time)?);
        histogram.record((end - start).num_microseconds().unwrap_or(0).max(0) as u64)?;
        done += 1;
    }
    let elapsed = started.elapsed();
    let _ = connection.close(200, "bench done".into()).await;
    crate::harness::amqp::delete_topology(&topology).await;
    Ok(FanOut { elapsed, jobs: histogram })
}
