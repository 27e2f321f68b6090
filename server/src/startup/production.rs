//! Production's backends: Vault for the credential values; RabbitMQ for the
//! relay's jobs and events, the watchers' feed, the validation results and
//! the run step's request/reply to the workers.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use cloudconn_infra::{
    amqp::{consumer::ConsumerSettings, publisher::Publisher},
    secrets::SecretStoreError,
    vault::VaultStore,
};
use secrecy::SecretString;

use super::{Messaging, Secrets};
use crate::{
    config::ServerConfig,
    credentials::minter::{AmqpMinter, Minter},
    outbox::broker::AmqpBroker,
    watch::{Hub, feed::FeedSettings},
};

/// Vault, logged in if it answers.
pub(super) async fn secrets(config: &ServerConfig, timeout: Duration) -> anyhow::Result<Secrets> {
    let store = Arc::new(VaultStore::new(&config.vault, timeout).context("Vault configuration")?);
    let mut reached = true;
    // Like the broker, an unreachable Vault does not stop the
    // start: what needs no Vault is served, health says
    // NOT_SERVING, and the renewal loop logs in once it answers.
    // A credential Vault refuses is an operator's mistake: said
    // at once, unless a token file may bring a new one.
    match store.establish().await {
        Ok(()) => {}
        Err(SecretStoreError::Unavailable(e)) => {
            tracing::warn!(error = %e, "Vault is unreachable; starting without it (NOT_SERVING until it answers)");
            reached = false;
        }
        Err(e) if config.vault.vault_token_file.is_some() => {
            tracing::warn!(error = %e, "Vault refused the token; waiting for a new one in the token file");
            reached = false;
        }
        Err(e) => return Err(e).context("logging in to Vault"),
    }
    Ok(Secrets { store: store.clone(), vault: Some(store), reached })
}

/// RabbitMQ: the relay publishes with confirms, the watchers' hub subscribes
/// to the events while anyone watches, and the results are consumed.
pub(super) fn messaging(config: &ServerConfig, timeout: Duration) -> anyhow::Result<Messaging> {
    let url = config.amqp.amqp_url.clone().context("CLOUDCONN_AMQP_URL is required")?;
    config.amqp.install_trust()?;
    let topology = config.amqp.topology();
    let publisher = Publisher::new(url.clone(), "cloudconn-server relay", topology.clone(), timeout);
    let (watchers, feed) = Hub::with_feed(FeedSettings {
        url: url.clone(),
        topology: topology.clone(),
        timeout,
        idle: config.watch_idle(),
    });
    let results = ConsumerSettings {
        url,
        name: "cloudconn-server results".into(),
        queue: topology.results_queue(),
        topology,
        concurrency: 16,
        timeout,
    };
    Ok(Messaging {
        broker: Arc::new(AmqpBroker { publisher }),
        watchers,
        event_feed: Some(feed),
        results: Some(results),
        jobs: None,
    })
}

/// A worker, asked over RabbitMQ with signed requests.
pub(super) fn minter(config: &ServerConfig, url: &SecretString, timeout: Duration) -> anyhow::Result<Arc<dyn Minter>> {
    let keys = config.amqp.keys.clone().ok_or_else(|| {
        anyhow::anyhow!("CLOUDCONN_AMQP_SIGNING_KEY_FILE and CLOUDCONN_AMQP_PEER_KEYS_FILE are required")
    })?;
    Ok(Arc::new(AmqpMinter::new(url.clone(), config.amqp.topology(), keys, timeout)))
}
