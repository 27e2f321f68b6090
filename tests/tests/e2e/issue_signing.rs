//! The run step's messages are signed end to end (docs/security.md): a
//! party that can use the broker but holds neither the server's nor a
//! worker's signing key can neither have credentials minted nor hand a
//! caller credentials of its own. Driven with the test stack's broker
//! login, which may do anything a stolen worker login may (and more).

use std::time::Duration;

use cloudconn_infra::amqp::{
    issue::{ISSUE_VERSION, IssueAction, IssueReply, IssueRequest, Minted, WireSecret},
    signing::{Context, MessageSigner, PeerKeys, signature_headers, signature_of},
    topology::Topology,
};
use cloudconn_proto::v1::{self as pb, issued_credentials::Credentials};
use cloudconn_tests::harness::{
    amqp,
    app::TestApp,
    auth::{Bearer, TokenSpec},
    fixtures,
    scripted_mint::ScriptedMint,
};
use futures_lite::StreamExt;
use lapin::{BasicProperties, Channel, Consumer, message::Delivery, options::BasicConsumeOptions, types::FieldTable};
use tonic::Code;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(20);

fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis() as u64
}

fn aura_request() -> pb::IssueCredentialsRequest {
    pb::IssueCredentialsRequest {
        workspace: "acme".into(),
        tag: "prod_aura".into(),
        scope: "database".into(),
        consumer: "etl".into(),
        ttl: None,
    }
}

async fn active_aura(app: &TestApp) -> pb::Connection {
    create(app, "acme", "prod_aura", pb::Provider::Neo4jAura).await;
    complete(app, "acme", "prod_aura", fixtures::credentials(pb::Provider::Neo4jAura, "run")).await.unwrap();
    let done = validate(app, "prod_aura", WAIT).await.unwrap();
    let connection = done.connection.unwrap();
    assert_eq!(connection.status(), pb::ConnectionStatus::Active, "{connection:?}");
    connection
}

fn mint_request(connection: &pb::Connection, consumer: &str, ttl_secs: u64, deadline_unix_ms: u64) -> Vec<u8> {
    serde_json::to_vec(&IssueRequest {
        version: ISSUE_VERSION,
        tag: String::new(),
        workspace: "acme".into(),
        connection_id: connection.uid.clone(),
        provider: "neo4j_aura".into(),
        revision: 1,
        scope: "database".into(),
        consumer: consumer.into(),
        ttl_secs,
        external_id: None,
        deadline_unix_ms,
        action: IssueAction::Mint,
    })
    .unwrap()
}

/// A connection and channel consuming `queue` (no acks), or a reply
/// queue of our own bound like a server's when `None`.
async fn listen(topology: &Topology, queue: Option<String>) -> (lapin::Connection, Channel, String, Consumer) {
    let connection = amqp::connect().await;
    let channel = connection.create_channel().await.unwrap();
    let queue = match queue {
        Some(queue) => queue,
        None => topology.reply_queue(&channel).await.unwrap(),
    };
    let consumer = channel
        .basic_consume(
            queue.clone().into(),
            "tests listener".into(),
            BasicConsumeOptions { no_ack: true, ..Default::default() },
            FieldTable::default(),
        )
        .await
        .unwrap();
    (connection, channel, queue, consumer)
}

/// Publishes a message to `exchange` / `routing_key`, with a reply
/// address when it is a request, and a signature when given.
async fn publish(
    channel: &Channel,
    (exchange, routing_key): (String, &str),
    reply_to: Option<&str>,
    correlation: &str,
    body: &[u8],
    signature: Option<String>,
) {
    let mut properties = BasicProperties::default().with_correlation_id(correlation.into());
    if let Some(reply_to) = reply_to {
        properties = properties.with_reply_to(reply_to.into());
    }
    if let Some(signature) = signature {
        properties = properties.with_headers(signature_headers(signature));
    }
    channel
        .basic_publish(exchange.into(), routing_key.into(), Default::default(), body, properties)
        .await
        .unwrap()
        .await
        .unwrap();
}

/// Sends a request the way the server does: to `<p>.issue`.
async fn send(
    channel: &Channel,
    topology: &Topology,
    reply_to: &str,
    correlation: &str,
    body: &[u8],
    signature: Option<String>,
) {
    let issue = topology.issue_queue();
    publish(channel, (String::new(), &issue), Some(reply_to), correlation, body, signature).await;
}

/// What a party that may read `<p>.issue` sees: the server's requests.
async fn eavesdrop(topology: &Topology) -> (lapin::Connection, Channel, Consumer) {
    let (connection, channel, _, requests) = listen(topology, Some(topology.issue_queue())).await;
    (connection, channel, requests)
}

/// The address and correlation id a request names.
fn address_of(request: &Delivery) -> (String, String) {
    let reply_to = request.properties.reply_to().as_ref().unwrap().as_str().to_owned();
    let correlation = request.properties.correlation_id().as_ref().unwrap().as_str().to_owned();
    (reply_to, correlation)
}

/// An `issued` reply carrying `token`.
fn issued(token: &str) -> Vec<u8> {
    serde_json::to_vec(&IssueReply::Issued {
        version: ISSUE_VERSION,
        expire_time: (chrono::Utc::now() + chrono::Duration::minutes(15)).to_rfc3339(),
        credentials: Minted::AccessToken {
            access_token: WireSecret::new(token),
            token_type: "Bearer".into(),
            scopes: vec![],
            audience: String::new(),
        },
    })
    .unwrap()
}

/// Publishes a reply the way a worker does: through the replies exchange.
async fn reply(
    channel: &Channel,
    topology: &Topology,
    reply_to: &str,
    correlation: &str,
    body: &[u8],
    signature: Option<String>,
) {
    publish(channel, (topology.replies_exchange(), reply_to), None, correlation, body, signature).await;
}

async fn next(consumer: &mut Consumer, within: Duration) -> Option<Delivery> {
    tokio::time::timeout(within, consumer.next()).await.ok().flatten().map(|d| d.unwrap())
}

/// `cloudconn_worker_issue_requests_total{outcome=…}` of the app's worker.
async fn outcomes(app: &TestApp, outcome: &str) -> u64 {
    let metrics = format!("http://{}/metrics", app.worker_metrics_addr.unwrap());
    let body = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
    let prefix = format!(r#"cloudconn_worker_issue_requests_total{{outcome="{outcome}"}} "#);
    body.lines().find_map(|l| l.strip_prefix(&prefix)).map_or(0, |n| n.trim().parse().unwrap())
}

async fn wait_for_outcome(app: &TestApp, outcome: &str, count: u64) {
    let deadline = std::time::Instant::now() + WAIT;
    while outcomes(app, outcome).await < count {
        assert!(std::time::Instant::now() < deadline, "the worker never counted {count} {outcome}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_worker_acts_only_on_requests_the_server_signed_once_and_recently() {
    let mint = ScriptedMint::new("tok");
    let app = TestApp::builder().with_minters(mint.everywhere()).spawn().await;
    let connection = active_aura(&app).await;
    let (_amqp, channel, reply_to, mut replies) = listen(&app.topology, None).await;
    let server = &app.message_keys.server;
    let sign = |signer: &MessageSigner, reply_to: &str, correlation: &str, body: &[u8]| {
        Some(signer.sign(Context::IssueRequest, &[reply_to.as_bytes(), correlation.as_bytes(), body]))
    };
    let body = mint_request(&connection, "forger", 43_200, now_ms() + 15_000);

    // Positive control: signed with the server's key, it is minted and
    // answered, and the answer carries a worker's signature for it.
    send(&channel, &app.topology, &reply_to, "good", &body, sign(server, &reply_to, "good", &body)).await;
    let reply = next(&mut replies, WAIT).await.expect("a reply to the signed request");
    assert_eq!(reply.properties.correlation_id().as_ref().map(|c| c.as_str()), Some("good"));
    let workers = PeerKeys::from_pem(&app.message_keys.worker.public_pem()).unwrap();
    let signature = signature_of(reply.properties.headers().as_ref()).expect("the reply is signed");
    assert!(workers.verify(Context::IssueReply, &[b"good", &reply.data], &signature));
    assert_eq!(mint.calls(), 1);
    let asked = mint.requests.lock().unwrap()[0].ttl;
    assert_eq!(asked, Duration::from_secs(3600), "the worker caps the lifetime at its own maximum");

    // The same request again: a replay.
    send(&channel, &app.topology, &reply_to, "good", &body, sign(server, &reply_to, "good", &body)).await;
    wait_for_outcome(&app, "refused_replay", 1).await;
    // Unsigned; signed by someone else; signed but sent elsewhere; signed
    // but with another body; due an hour from now.
    send(&channel, &app.topology, &reply_to, "unsigned", &body, None).await;
    wait_for_outcome(&app, "refused_unsigned", 1).await;
    let stranger = MessageSigner::generate();
    send(&channel, &app.topology, &reply_to, "stranger", &body, sign(&stranger, &reply_to, "stranger", &body)).await;
    let moved = sign(server, "amq.gen-elsewhere", "moved", &body);
    send(&channel, &app.topology, &reply_to, "moved", &body, moved).await;
    let other = mint_request(&connection, "other", 900, now_ms() + 15_000);
    send(&channel, &app.topology, &reply_to, "changed", &other, sign(server, &reply_to, "changed", &body)).await;
    wait_for_outcome(&app, "refused_forged", 3).await;
    let later = mint_request(&connection, "later", 900, now_ms() + 3_600_000);
    send(&channel, &app.topology, &reply_to, "later", &later, sign(server, &reply_to, "later", &later)).await;
    wait_for_outcome(&app, "refused_deadline", 1).await;

    assert_eq!(mint.calls(), 1, "nothing but the signed request reached a provider");
    assert!(next(&mut replies, Duration::from_millis(300)).await.is_none(), "a refused request was answered");
    app.finish().await;
}

#[tokio::test]
async fn the_server_takes_only_the_reply_a_worker_signed_for_its_request() {
    // Validation runs on a worker: start one for it, then stop it, so the
    // issue request waits in the queue for us.
    let mut app = TestApp::builder().without_worker().with_issue_timeout(Duration::from_secs(10)).spawn().await;
    app.start_worker();
    let connection = active_aura(&app).await;
    app.stop_workers().await;

    let token = app.token(&TokenSpec {
        sub: "billing-api",
        workspaces: &["acme"],
        scope: "connections:use",
        ..TokenSpec::default()
    });
    let mut caller = app.client_with(Bearer::new(&token));
    let call = tokio::spawn(async move { caller.issue_credentials(aura_request()).await });

    // What a party reading `<p>.issue` learns: the reply address and the
    // correlation id (and every field of the request).
    let (listener, channel, mut requests) = eavesdrop(&app.topology).await;
    let request = next(&mut requests, WAIT).await.expect("the server's request");
    let (reply_to, correlation) = address_of(&request);
    assert!(signature_of(request.properties.headers().as_ref()).is_some(), "the server signs its requests");
    assert_eq!(serde_json::from_slice::<IssueRequest>(&request.data).unwrap().connection_id, connection.uid);

    // Substitutes: unsigned, signed by a stranger, and a worker's signature
    // for another request moved onto this one.
    let forged = issued("attacker-unsigned");
    reply(&channel, &app.topology, &reply_to, &correlation, &forged, None).await;
    let stranger = issued("attacker-stranger");
    let signature = MessageSigner::generate().sign(Context::IssueReply, &[correlation.as_bytes(), &stranger]);
    reply(&channel, &app.topology, &reply_to, &correlation, &stranger, Some(signature)).await;
    let moved = issued("attacker-moved");
    let signature = app.message_keys.worker.sign(Context::IssueReply, &[b"another-request", &moved]);
    reply(&channel, &app.topology, &reply_to, &correlation, &moved, Some(signature)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!call.is_finished(), "the server took a reply no worker signed for this request");

    // Positive control: a worker's signature over this request's reply.
    let real = issued("from-the-worker");
    let signature = app.message_keys.worker.sign(Context::IssueReply, &[correlation.as_bytes(), &real]);
    reply(&channel, &app.topology, &reply_to, &correlation, &real, Some(signature)).await;
    let issued = call.await.unwrap().expect("the signed reply is taken").into_inner();
    match issued.credentials {
        Some(Credentials::Neo4jAura(t)) => assert_eq!(t.access_token, "from-the-worker"),
        other => panic!("{other:?}"),
    }
    let _ = listener.close(0, "done".into()).await;
    app.finish().await;
}

#[tokio::test]
async fn without_a_signature_an_issue_call_times_out_rather_than_taking_a_forgery() {
    // The same, with only forgeries: the caller is told UNAVAILABLE at its
    // deadline, never handed the substitute credentials.
    let mut app = TestApp::builder().without_worker().with_issue_timeout(Duration::from_secs(3)).spawn().await;
    app.start_worker();
    active_aura(&app).await;
    app.stop_workers().await;
    let token = app.token(&TokenSpec { workspaces: &["acme"], scope: "connections:use", ..TokenSpec::default() });
    let mut caller = app.client_with(Bearer::new(&token));
    let topology = app.topology.clone();
    let forger = tokio::spawn(async move {
        let (listener, channel, mut requests) = eavesdrop(&topology).await;
        let request = next(&mut requests, WAIT).await.expect("the server's request");
        let (reply_to, correlation) = address_of(&request);
        reply(&channel, &topology, &reply_to, &correlation, &issued("attacker"), None).await;
        listener
    });
    let err = caller.issue_credentials(aura_request()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(!err.message().contains("attacker"));
    let _ = forger.await.unwrap().close(0, "done".into()).await;
    app.finish().await;
}
