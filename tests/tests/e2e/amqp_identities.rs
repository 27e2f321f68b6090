//! `deploy/rabbitmq/apply.sh` against the real broker: the worker's
//! RabbitMQ identity can take jobs and issue requests and send results and
//! replies through `<p>.replies`, and nothing else — it declares nothing,
//! cannot use the default exchange (so cannot put a job or an issue request
//! in any queue), cannot publish jobs or events, nor read results, events
//! or dead-lettered jobs, nor bind a queue anywhere; the server's
//! identity can do everything the server does; KEDA's can only see queue
//! lengths; the results queue is capped and dead-lettered by policy; and a
//! validation succeeds end to end with the server and the worker each on
//! its own identity.

use std::time::Duration;

use cloudconn_infra::amqp::{
    publisher::{Outgoing, Publisher},
    topology::{RESULTS_KEY, Topology, VALIDATE_KEY},
};
use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{app::TestApp, fixtures, rabbitmq::Identities};
use futures_lite::StreamExt;
use lapin::{
    BasicProperties, Channel, Connection, ErrorKind,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions,
        QueueBindOptions, QueueDeclareOptions,
    },
    types::FieldTable,
};
use secrecy::SecretString;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(10);

async fn connect(url: &str) -> Connection {
    cloudconn_infra::amqp::connect(&SecretString::from(url.to_owned()), "cloudconn-tests identities", WAIT)
        .await
        .expect("connect with the identity apply.sh wrote")
}

/// A fresh channel in confirm mode (a refused operation closes its channel).
async fn channel(connection: &Connection) -> Channel {
    let channel = connection.create_channel().await.expect("channel");
    channel.confirm_select(ConfirmSelectOptions::default()).await.expect("confirm mode");
    channel
}

fn is_access_refused(e: &lapin::Error) -> bool {
    matches!(e.kind(), ErrorKind::ProtocolError(amqp) if amqp.get_id() == 403)
}

#[track_caller]
fn assert_refused<T: std::fmt::Debug>(what: &str, result: lapin::Result<T>) {
    match result {
        Err(e) if is_access_refused(&e) => {}
        other => panic!("{what}: expected ACCESS_REFUSED, got {other:?}"),
    }
}

/// Publishes one persistent, mandatory message and waits for its confirm:
/// Ok(true) for an ack of a routed message, Ok(false) for a nack or a
/// return, Err for a channel the broker closed (a refused publish).
async fn publish(channel: &Channel, exchange: &str, routing_key: &str, body: &[u8]) -> lapin::Result<bool> {
    let confirm = channel
        .basic_publish(
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions { mandatory: true, ..Default::default() },
            body,
            BasicProperties::default().with_delivery_mode(2),
        )
        .await?;
    let confirmation = confirm.await?;
    Ok(confirmation.is_ack() && confirmation.take_message().is_none())
}

/// A publish the broker refuses closes the channel with ACCESS_REFUSED. The
/// close may arrive after the publish returned: the confirm (or a later
/// synchronous call) then carries it.
async fn assert_publish_refused(connection: &Connection, exchange: &str, routing_key: &str) {
    let channel = channel(connection).await;
    let result = match publish(&channel, exchange, routing_key, b"{}").await {
        Ok(routed) => {
            // Not closed yet: a synchronous round trip surfaces the close.
            let r = channel.basic_qos(1, Default::default()).await;
            r.map(|()| routed)
        }
        Err(e) => Err(e),
    };
    assert_refused(&format!("publish to {exchange:?} with key {routing_key:?}"), result);
}

async fn consume(connection: &Connection, queue: &str) -> lapin::Result<lapin::Consumer> {
    let channel = connection.create_channel().await?;
    channel
        .basic_consume(queue.into(), "cloudconn-tests".into(), BasicConsumeOptions::default(), FieldTable::default())
        .await
}

async fn next_body(consumer: &mut lapin::Consumer) -> Vec<u8> {
    let delivery = tokio::time::timeout(WAIT, consumer.next())
        .await
        .expect("a delivery within the timeout")
        .expect("consumer open")
        .expect("delivery");
    delivery.ack(BasicAckOptions::default()).await.expect("ack");
    delivery.data
}

#[tokio::test]
async fn each_identity_can_do_its_job_and_the_worker_nothing_more() {
    let ids = Identities::apply(&[("CLOUDCONN_RABBITMQ_RESULTS_MAX_BYTES", "20000")]);
    let t: &Topology = &ids.topology;

    // The server starts as it does in production: declares everything.
    let server = connect(&ids.server_url).await;
    let sc = channel(&server).await;
    t.declare(&sc).await.expect("the server declares the topology");

    // The worker starts: it declares nothing (its topology is `used_only`)
    // and could not (ACCESS_REFUSED); it consumes jobs and issue requests.
    let worker = connect(&ids.worker_url).await;
    assert_refused("the worker declares the topology", t.declare(&channel(&worker).await).await);
    t.clone().used_only().declare(&channel(&worker).await).await.expect("used_only declares nothing");
    let mut jobs = consume(&worker, &t.validate_queue()).await.expect("the worker consumes <p>.validate");
    let _issues = consume(&worker, &t.issue_queue()).await.expect("the worker consumes <p>.issue");

    // The server publishes a job (through the product's publisher, as the
    // relay does) and an event; the worker gets the job.
    let relay = Publisher::new(SecretString::from(ids.server_url.clone()), "tests relay", t.clone(), WAIT);
    let job = Outgoing {
        exchange: t.jobs_exchange(),
        routing_key: VALIDATE_KEY.into(),
        payload: br#"{"job":1}"#.to_vec(),
        message_id: "job-1".into(),
        content_type: "application/json",
        traceparent: None,
        mandatory: true,
    };
    relay.publish_all(std::slice::from_ref(&job)).await.expect("the server publishes a job");
    assert_eq!(next_body(&mut jobs).await, br#"{"job":1}"#);

    // The server subscribes to events (a server-named queue) and publishes one.
    let feed = channel(&server).await;
    let events_queue = t.subscribe_events(&feed, "#").await.expect("the server subscribes to events");
    let mut events = consume(&server, &events_queue).await.expect("the server consumes its event queue");
    assert!(publish(&sc, &t.events_exchange(), "acme.connection.created", b"event").await.expect("publish event"));
    assert_eq!(next_body(&mut events).await, b"event");

    // The worker reports a result the way it does: the replies exchange,
    // routing key `results`, mandatory, confirmed (worker/src/consumer.rs).
    let results =
        Publisher::new(SecretString::from(ids.worker_url.clone()), "tests worker results", t.clone().used_only(), WAIT);
    let result = Outgoing {
        exchange: t.replies_exchange(),
        routing_key: RESULTS_KEY.into(),
        payload: br#"{"result":1}"#.to_vec(),
        message_id: "job-1-result".into(),
        content_type: "application/json",
        traceparent: None,
        mandatory: true,
    };
    results.publish_all(std::slice::from_ref(&result)).await.expect("the worker publishes a result");
    let mut server_results = consume(&server, &t.results_queue()).await.expect("the server consumes <p>.results");
    assert_eq!(next_body(&mut server_results).await, br#"{"result":1}"#);

    // What the worker must not do. The default exchange routes to any
    // queue by name, so it is refused whatever the key.
    assert_publish_refused(&worker, &t.events_exchange(), "acme.connection.activated").await;
    assert_publish_refused(&worker, &t.jobs_exchange(), VALIDATE_KEY).await;
    assert_publish_refused(&worker, "", &t.validate_queue()).await;
    assert_publish_refused(&worker, "", &t.issue_queue()).await;
    assert_publish_refused(&worker, "", &t.results_queue()).await;
    assert_publish_refused(&worker, &t.dead_exchange(), VALIDATE_KEY).await;
    // Nor route the replies exchange to the job or issue queue.
    for queue in [t.validate_queue(), t.issue_queue()] {
        let wc = worker.create_channel().await.expect("channel");
        assert_refused(
            &format!("worker binds {queue} to <p>.replies"),
            wc.queue_bind(
                queue.clone().into(),
                t.replies_exchange().into(),
                "x".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await,
        );
    }
    assert_refused("worker consumes <p>.results", consume(&worker, &t.results_queue()).await);
    assert_refused("worker consumes <p>.validate.dead", consume(&worker, &t.dead_letter_queue()).await);
    let wc = worker.create_channel().await.expect("channel");
    assert_refused(
        "worker basic.get on <p>.results",
        wc.basic_get(t.results_queue().into(), BasicGetOptions::default()).await,
    );
    // No way to the events either: no queue of its own (server-named
    // queues need configure on amq.gen-*) and no binding from <p>.events.
    assert_refused("worker subscribes to events", t.subscribe_events(&channel(&worker).await, "#").await);
    let wc = worker.create_channel().await.expect("channel");
    assert_refused(
        "worker binds <p>.validate to <p>.events",
        wc.queue_bind(
            t.validate_queue().into(),
            t.events_exchange().into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await,
    );

    // KEDA's identity sees the queue length and nothing else.
    let keda = connect(&ids.keda_url).await;
    let kc = keda.create_channel().await.expect("channel");
    let passive = QueueDeclareOptions { passive: true, ..Default::default() };
    kc.queue_declare(t.validate_queue().into(), passive, FieldTable::default())
        .await
        .expect("KEDA reads the queue length (passive declare)");
    assert_refused("KEDA consumes <p>.validate", consume(&keda, &t.validate_queue()).await);
    assert_publish_refused(&keda, &t.jobs_exchange(), VALIDATE_KEY).await;

    // The results queue carries apply.sh's policy: over its byte cap
    // (20,000 here) the broker refuses new results (negative confirm)
    // instead of growing. (Closing the server's connection first: messages
    // pushed to a consumer do not count.)
    let _ = server.close(0, "done".into()).await;
    assert_eq!(ids.policy_of(&t.results_queue()).as_deref(), Some(format!("{}-results", ids.prefix).as_str()));
    let wp = channel(&worker).await;
    let big = vec![b'x'; 8_000];
    let mut refused = false;
    for _ in 0..10 {
        if !publish(&wp, &t.replies_exchange(), RESULTS_KEY, &big).await.expect("publish result") {
            refused = true;
            break;
        }
    }
    assert!(refused, "the results queue refuses messages beyond its byte cap");

    for c in [worker, keda] {
        let _ = c.close(0, "done".into()).await;
    }
}

/// The whole pipeline as deployed: the server on the server identity, the
/// worker on the worker identity; a validation, then credentials issued
/// (signed request, signed reply).
#[tokio::test]
async fn a_validation_and_an_issue_succeed_with_the_server_and_worker_identities() {
    let ids = Identities::apply(&[]);
    let mint = cloudconn_tests::harness::scripted_mint::ScriptedMint::new("issued-through-identities");
    let app = TestApp::builder()
        .with_amqp_identities(&ids.prefix, &ids.server_url, &ids.worker_url)
        .with_minters(mint.everywhere())
        .spawn()
        .await;
    create(&app, "acme", "azure_main", pb::Provider::Azure).await;
    complete(&app, "acme", "azure_main", fixtures::azure("good-secret")).await.expect("save credentials");
    let done = validate(&app, "azure_main", Duration::from_secs(15)).await.expect("validate");
    let validation = done.validation.expect("validation");
    assert_eq!(validation.state(), pb::ValidationState::Succeeded, "{validation:?}");
    assert_eq!(done.connection.expect("connection").status(), pb::ConnectionStatus::Active);
    let token = app.token(&cloudconn_tests::harness::auth::TokenSpec {
        workspaces: &["acme"],
        scope: "connections:use",
        ..Default::default()
    });
    let issued = app
        .client_with(cloudconn_tests::harness::auth::Bearer::new(&token))
        .issue_credentials(pb::IssueCredentialsRequest {
            workspace: "acme".into(),
            tag: "azure_main".into(),
            scope: "storage".into(),
            consumer: "etl".into(),
            ttl: None,
        })
        .await
        .expect("issue through the identities")
        .into_inner();
    assert!(format!("{issued:?}").contains("issued-through-identities"));
    assert_eq!(mint.calls(), 1);
    app.finish().await;
}
