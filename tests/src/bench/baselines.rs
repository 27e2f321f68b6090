//! What the backends do on their own, through the same client libraries
//! cloudconn uses (sqlx under sea-orm, vaultrs, lapin), with the same
//! concurrency as the scenario they are compared with.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use futures_lite::StreamExt;
use lapin::{
    BasicProperties, Channel, Connection,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
        QueueDeclareOptions, QueueDeleteOptions,
    },
};
use sqlx::postgres::{PgPool, PgPoolOptions};
use tokio::sync::oneshot;
use uuid::Uuid;
use vaultrs::{api::kv2::requests::SetSecretRequestOptions, client::VaultClient};

use super::{Run, closed_loop};

/// A pool of `size` connections to `url`, as the server has.
///
/// Checkouts are not pinged: under load cloudconn's pool pings only
/// connections idle for a second (`server/src/store/mod.rs`), so a baseline
/// pinging on every checkout (sqlx's default) would pay a round trip the
/// service does not.
pub async fn pg_pool(url: &str, size: u32) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new().max_connections(size).min_connections(size).test_before_acquire(false).connect(url).await?)
}

/// Primary-key SELECTs of the rows the scenario reads (`ids`), whole rows.
pub async fn pg_select(pool: PgPool, ids: Arc<Vec<Uuid>>, callers: usize, total: usize) -> anyhow::Result<Run> {
    closed_loop(callers, total, move |i| {
        let (pool, id) = (pool.clone(), ids[i % ids.len()]);
        async move {
            sqlx::query("SELECT * FROM connections WHERE id = $1").bind(id).fetch_one(&pool).await?;
            Ok(())
        }
    })
    .await
}

/// Single-row INSERT transactions (BEGIN; INSERT; COMMIT) into a table
/// shaped like a connection row.
pub async fn pg_insert(pool: PgPool, callers: usize, total: usize) -> anyhow::Result<Run> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_inserts (
            id uuid PRIMARY KEY, workspace text NOT NULL, tag text NOT NULL,
            body jsonb NOT NULL, created timestamptz NOT NULL DEFAULT now())",
    )
    .execute(&pool)
    .await?;
    closed_loop(callers, total, move |i| {
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO bench_inserts (id, workspace, tag, body) VALUES ($1, 'bench', $2, $3)")
                .bind(Uuid::new_v4())
                .bind(format!("raw_{i}"))
                .bind(serde_json::json!({"display_name": "raw", "scopes": ["storage"]}))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }
    })
    .await
}

/// KV v2 writes with check-and-set (`cas = 0`: the path must be new), as
/// CompleteConnection's first save does.
pub async fn vault_cas_writes(
    vault: Arc<VaultClient>,
    mount: String,
    prefix: String,
    callers: usize,
    total: usize,
) -> anyhow::Result<Run> {
    closed_loop(callers, total, move |i| {
        let (vault, mount, path) = (vault.clone(), mount.clone(), format!("{prefix}/raw/{i}"));
        async move {
            let data = HashMap::from([("client_secret", "raw-bench-value"), ("client_id", "raw")]);
            vaultrs::kv2::set_with_options(&*vault, &mount, &path, &data, SetSecretRequestOptions { cas: 0 }).await?;
            Ok(())
        }
    })
    .await
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<()>>>>;

/// A request/reply round trip over two quorum queues, as a validation
/// travels: publish with confirm → consume → ack → publish the reply with
/// confirm → consume it. The responder handles up to `callers` at once.
pub async fn amqp_round_trips(url: &str, prefix: &str, callers: usize, total: usize) -> anyhow::Result<Run> {
    let connection = Connection::connect(url, Default::default()).await?;
    let (requests, replies) = (format!("{prefix}.raw.requests"), format!("{prefix}.raw.replies"));
    let setup = connection.create_channel().await?;
    // Quorum queues, as the validation pipeline uses.
    let quorum = cloudconn_infra::amqp::topology::quorum();
    for queue in [&requests, &replies] {
        let durable = QueueDeclareOptions { durable: true, ..Default::default() };
        setup.queue_declare(queue.as_str().into(), durable, quorum.clone()).await?;
    }

    // The responder: what the worker does, minus the probe.
    let responder = confirming(&connection).await?;
    responder.basic_qos(callers.min(u16::MAX as usize) as u16, BasicQosOptions::default()).await?;
    let mut incoming = responder
        .basic_consume(requests.as_str().into(), "raw-responder".into(), Default::default(), Default::default())
        .await?;
    let reply_to = replies.clone();
    let responder_task = tokio::spawn(async move {
        while let Some(Ok(delivery)) = incoming.next().await {
            let (channel, reply_to) = (responder.clone(), reply_to.clone());
            tokio::spawn(async move {
                let id = delivery.properties.message_id().clone().unwrap_or_default();
                let _ = delivery.ack(BasicAckOptions::default()).await;
                let _ = publish(&channel, &reply_to, id.as_str()).await;
            });
        }
    });

    // The caller side: one publishing channel, one reply consumer.
    let pending: Pending = Arc::default();
    let replies_channel = connection.create_channel().await?;
    let mut answers = replies_channel
        .basic_consume(replies.as_str().into(), "raw-caller".into(), BasicConsumeOptions::default(), Default::default())
        .await?;
    let waiting = pending.clone();
    let dispatcher = tokio::spawn(async move {
        while let Some(Ok(delivery)) = answers.next().await {
            let _ = delivery.ack(BasicAckOptions::default()).await;
            let id = delivery.properties.message_id().clone().unwrap_or_default();
            if let Some(done) = waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(id.as_str()) {
                let _ = done.send(());
            }
        }
    });
    let publisher = confirming(&connection).await?;
    let run = closed_loop(callers, total, move |i| {
        let (publisher, pending, requests) = (publisher.clone(), pending.clone(), requests.clone());
        async move {
            let id = format!("raw-{i}");
            let (done, answered) = oneshot::channel();
            pending.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), done);
            publish(&publisher, &requests, &id).await?;
            answered.await?;
            Ok(())
        }
    })
    .await;
    responder_task.abort();
    dispatcher.abort();
    for queue in [format!("{prefix}.raw.requests"), format!("{prefix}.raw.replies")] {
        let _ = setup.queue_delete(queue.as_str().into(), QueueDeleteOptions::default()).await;
    }
    let _ = connection.close(200, "bench done".into()).await;
    run
}

async fn confirming(connection: &Connection) -> anyhow::Result<Channel> {
    let channel = connection.create_channel().await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    Ok(channel)
}

/// A persistent message with publisher confirm, as the relay and the worker
/// publish.
async fn publish(channel: &Channel, queue: &str, id: &str) -> anyhow::Result<()> {
    let properties = BasicProperties::default().with_message_id(id.into()).with_delivery_mode(2);
    let confirm = channel
        .basic_publish("".into(), queue.into(), BasicPublishOptions::default(), br#"{"bench":true}"#, properties)
        .await?;
    anyhow::ensure!(confirm.await?.is_ack(), "negative confirm");
    Ok(())
}
