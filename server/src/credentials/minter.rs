//! Who mints: a worker, asked over RabbitMQ (production), or the worker's
//! code in process (`--dev`, [`InProcessMinter`]).
//!
//! # Request/reply over RabbitMQ
//! Each connection declares one server-named, exclusive reply queue bound
//! to `<p>.replies` under its own name; requests name it as `reply_to`.
//! It lives and dies with the connection, so a reply whose requester has
//! gone is dropped by the broker. (RabbitMQ's direct reply-to would need
//! no queue, but a worker answers it through the default exchange, and a
//! login that may write there may write to any queue: see
//! `cloudconn_infra::amqp::topology`.) Not RPC through the database: a
//! reply carries secrets that must never be stored.
//!
//! Both directions are signed (`cloudconn_infra::amqp::signing`): the
//! server signs each request with its key, and takes a reply only when a
//! worker's key signed it for that request's correlation id. A broker
//! login alone can neither have credentials minted nor substitute its own.
//!
//! Each request carries its deadline twice: as the message's `expiration`
//! (the broker discards it unconsumed once passed) and in the body (a worker
//! that picks it up late drops it). The caller waits until the deadline and
//! no longer; replies match requests by `correlation_id`. The queue is
//! bounded: when it is full the broker nacks the publish, and the caller is
//! told UNAVAILABLE at once.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use cloudconn_infra::amqp::{
    self as amqp, error_kind,
    issue::{IssueReply, IssueRequest},
    signing::{Context, MessageKeys, signature_headers, signature_of},
    topology::Topology,
};
use cloudconn_worker::issue::IssueRunner;
use futures_lite::StreamExt as _;
use lapin::{
    BasicProperties, Channel, Connection,
    options::{BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions},
    types::FieldTable,
};
use secrecy::SecretString;
use tokio::{sync::oneshot, time::Instant};

/// Why there is no answer.
#[derive(Debug, Clone)]
pub enum NoAnswer {
    /// Nobody answered before the deadline.
    Timeout,
    /// The request could not be handed to the broker (down, or the queue full).
    Unreachable(String),
}

#[async_trait::async_trait]
pub trait Minter: Send + Sync + 'static {
    /// The worker's reply to `request`, waiting until `deadline` at most.
    async fn mint(&self, request: IssueRequest, deadline: Instant) -> Result<IssueReply, NoAnswer>;
}

/// Requests a replica may have in flight at once: each holds a waiting
/// caller and an entry here.
const MAX_IN_FLIGHT: usize = 4096;

/// The RabbitMQ minter. One connection, rebuilt on demand after a failure.
pub struct AmqpMinter {
    url: SecretString,
    topology: Topology,
    keys: Arc<MessageKeys>,
    timeout: Duration,
    live: tokio::sync::Mutex<Option<Live>>,
    /// Callers waiting, by correlation id, with the generation of the
    /// connection their request went out on.
    waiting: Arc<Mutex<HashMap<String, (u64, oneshot::Sender<IssueReply>)>>>,
    generations: std::sync::atomic::AtomicU64,
}

struct Live {
    connection: Connection,
    channel: Channel,
    /// This connection's reply queue: the requests' `reply_to`.
    reply_to: String,
    generation: u64,
}

impl AmqpMinter {
    pub fn new(url: SecretString, topology: Topology, keys: MessageKeys, timeout: Duration) -> Self {
        Self {
            url,
            topology,
            keys: Arc::new(keys),
            timeout,
            live: tokio::sync::Mutex::new(None),
            waiting: Arc::new(Mutex::new(HashMap::new())),
            generations: Default::default(),
        }
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, oneshot::Sender<IssueReply>)>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes the request on the live channel (opened if needed) and
    /// waits for the broker to take it; returns the connection's generation.
    /// The lock is held only to pick the channel: concurrent requests wait
    /// for their confirms side by side.
    async fn send(&self, request: &IssueRequest, correlation: &str, expiration: Duration) -> Result<u64, String> {
        let (channel, reply_to, generation) = {
            let mut live = self.live.lock().await;
            if live.as_ref().is_none_or(|l| !l.connection.status().connected() || !l.channel.status().connected()) {
                *live = Some(self.open().await?);
            }
            let Some(l) = live.as_ref() else { return Err("no connection".into()) };
            (l.channel.clone(), l.reply_to.clone(), l.generation)
        };
        let payload = serde_json::to_vec(request).map_err(|e| e.to_string())?;
        let signature =
            self.keys.signer.sign(Context::IssueRequest, &[reply_to.as_bytes(), correlation.as_bytes(), &payload]);
        let properties = BasicProperties::default()
            .with_reply_to(reply_to.into())
            .with_correlation_id(correlation.to_owned().into())
            .with_content_type("application/json".into())
            .with_expiration(expiration.as_millis().max(1).to_string().into())
            .with_delivery_mode(1)
            .with_headers(signature_headers(signature));
        let published = async {
            let confirm = channel
                .basic_publish(
                    "".into(),
                    self.topology.issue_queue().into(),
                    BasicPublishOptions { mandatory: true, ..Default::default() },
                    &payload,
                    properties,
                )
                .await
                .map_err(|e| (true, error_kind(&e)))?;
            let confirmation = confirm.await.map_err(|e| (true, error_kind(&e)))?;
            if confirmation.is_nack() {
                return Err((false, "the issue queue is full".to_owned()));
            }
            if confirmation.take_message().is_some() {
                return Err((false, "the issue queue does not exist".to_owned()));
            }
            Ok(generation)
        };
        match tokio::time::timeout(self.timeout, published).await {
            Ok(Ok(g)) => Ok(g),
            Ok(Err((broken, e))) => {
                if broken {
                    self.reset(generation).await;
                }
                Err(e)
            }
            Err(_) => Err("the broker did not confirm the request in time".into()),
        }
    }

    /// After a channel error, start clean next time (unless another call
    /// has replaced the connection already).
    async fn reset(&self, generation: u64) {
        let mut live = self.live.lock().await;
        if let Some(l) = live.take_if(|l| l.generation == generation) {
            let _ = l.connection.close(0, "reset after error".into()).await;
        }
    }

    /// Connects, declares, starts consuming replies on the channel.
    async fn open(&self) -> Result<Live, String> {
        let connection =
            amqp::connect(&self.url, "cloudconn-server issue", self.timeout).await.map_err(|e| e.to_string())?;
        let channel = connection.create_channel().await.map_err(|e| error_kind(&e))?;
        self.topology.declare(&channel).await.map_err(|e| error_kind(&e))?;
        let reply_to = self.topology.reply_queue(&channel).await.map_err(|e| error_kind(&e))?;
        // no-ack: a reply is useful once, to a caller waiting now.
        let mut replies = channel
            .basic_consume(
                reply_to.clone().into(),
                "cloudconn-server issue replies".into(),
                BasicConsumeOptions { no_ack: true, ..Default::default() },
                FieldTable::default(),
            )
            .await
            .map_err(|e| error_kind(&e))?;
        channel.confirm_select(ConfirmSelectOptions::default()).await.map_err(|e| error_kind(&e))?;
        let generation = self.generations.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let waiting = self.waiting.clone();
        let keys = self.keys.clone();
        tokio::spawn(async move {
            while let Some(Ok(delivery)) = replies.next().await {
                let Some(correlation) = delivery.properties.correlation_id().as_ref().map(|c| c.as_str().to_owned())
                else {
                    continue;
                };
                let signed = signature_of(delivery.properties.headers().as_ref()).is_some_and(|signature| {
                    keys.peers.verify(Context::IssueReply, &[correlation.as_bytes(), &delivery.data], &signature)
                });
                if !signed {
                    // Not a worker's answer to this request: whoever sent
                    // it could read requests but holds no worker key.
                    tracing::error!("an issue reply without a valid worker signature was dropped");
                    continue;
                }
                let Ok(reply) = serde_json::from_slice::<IssueReply>(&delivery.data) else {
                    tracing::warn!("an undecodable issue reply was dropped");
                    continue;
                };
                let waiter = waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(&correlation);
                // No waiter: its deadline passed. The credentials expire.
                if let Some((_, tx)) = waiter {
                    let _ = tx.send(reply);
                }
            }
            // The channel is gone, and with it every reply to it: wake its
            // callers now rather than at their deadlines.
            waiting.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, (g, _)| *g != generation);
        });
        Ok(Live { connection, channel, reply_to, generation })
    }
}

#[async_trait::async_trait]
impl Minter for AmqpMinter {
    async fn mint(&self, request: IssueRequest, deadline: Instant) -> Result<IssueReply, NoAnswer> {
        let correlation = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        {
            let mut waiting = self.waiting();
            if waiting.len() >= MAX_IN_FLIGHT {
                return Err(NoAnswer::Unreachable("too many issue requests in flight on this replica".into()));
            }
            // Generation 0 until sent: a connection that dies meanwhile
            // must not drop this entry by mistake.
            waiting.insert(correlation.clone(), (0, tx));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let sent = tokio::time::timeout(left, self.send(&request, &correlation, left)).await;
        match sent {
            Ok(Ok(generation)) => {
                if let Some(entry) = self.waiting().get_mut(&correlation) {
                    entry.0 = generation;
                }
            }
            Ok(Err(why)) => {
                self.waiting().remove(&correlation);
                return Err(NoAnswer::Unreachable(why));
            }
            Err(_) => {
                self.waiting().remove(&correlation);
                return Err(NoAnswer::Timeout);
            }
        }
        let answer = tokio::time::timeout_at(deadline, rx).await;
        self.waiting().remove(&correlation);
        match answer {
            Ok(Ok(reply)) => Ok(reply),
            // The channel closed under it.
            Ok(Err(_)) => Err(NoAnswer::Unreachable("the connection to the broker was lost".into())),
            Err(_) => Err(NoAnswer::Timeout),
        }
    }
}

/// `--dev`: the run step in one process. Issue requests go straight to the
/// worker's own `IssueRunner` (the same code a worker runs on a delivery),
/// with the same deadline; no broker.
pub struct InProcessMinter {
    pub runner: Arc<IssueRunner>,
}

#[async_trait::async_trait]
impl Minter for InProcessMinter {
    async fn mint(&self, request: IssueRequest, deadline: Instant) -> Result<IssueReply, NoAnswer> {
        match tokio::time::timeout_at(deadline, self.runner.run(&request)).await {
            Ok(Some(reply)) => Ok(reply),
            // Past the deadline in the runner, or here.
            Ok(None) | Err(_) => Err(NoAnswer::Timeout),
        }
    }
}
