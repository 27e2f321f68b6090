//! The product's AMQP publisher (`infra::amqp::publisher`) against the real
//! broker: what the relay and the worker rely on when they publish.

use std::{collections::HashMap, sync::Arc, time::Duration};

use cloudconn_infra::amqp::{
    FRAME_MAX,
    publisher::{Outgoing, Publisher},
    topology::Topology,
};
use cloudconn_tests::harness::{
    amqp::{EventSubscriber, delete_topology},
    env,
};
use secrecy::SecretString;

const WAIT: Duration = Duration::from_secs(10);

fn topology(what: &str) -> Topology {
    Topology::new(&format!("cc_test_{what}_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]))
}

fn publisher(topology: &Topology) -> Publisher {
    Publisher::new(SecretString::from(env::amqp_url()), "cloudconn-tests publisher", topology.clone(), WAIT)
}

/// An event-shaped message with a JSON body.
fn event(topology: &Topology, id: String, body: serde_json::Value) -> Outgoing {
    Outgoing {
        exchange: topology.events_exchange(),
        routing_key: "acme.connection.test".into(),
        payload: body.to_string().into_bytes(),
        message_id: id,
        content_type: "application/json",
        traceparent: None,
        mandatory: false,
    }
}

/// Our AMQP connections ask for 16 KiB frames (memory: lapin's buffers
/// scale with the frame size), so a larger message travels as several
/// frames. It must still arrive whole.
#[tokio::test]
async fn a_message_larger_than_one_amqp_frame_arrives_whole() {
    let topology = topology("frames");
    let mut subscriber = EventSubscriber::bind(&topology, "#").await;
    let body = serde_json::json!({ "pad": "x".repeat(4 * FRAME_MAX as usize + 123) });
    publisher(&topology).publish_all(&[event(&topology, "big".into(), body.clone())]).await.expect("confirmed");

    let received = subscriber.next(WAIT).await;
    assert_eq!(received.raw, body.to_string());
    delete_topology(&topology).await;
}

/// Callers share one channel and wait for their confirms side by side (a
/// worker publishes many results at once): every call must still succeed
/// only once its own messages are confirmed, each message arrive exactly
/// once, and each call's messages stay in their order.
#[tokio::test]
async fn concurrent_callers_each_get_their_messages_delivered_once_and_in_order() {
    const CALLERS: usize = 50;
    const PER_CALL: usize = 4;
    let topology = topology("concurrent");
    let mut subscriber = EventSubscriber::bind(&topology, "#").await;
    let publisher = Arc::new(publisher(&topology));
    let calls: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let (publisher, topology) = (publisher.clone(), topology.clone());
            tokio::spawn(async move {
                let batch: Vec<Outgoing> = (0..PER_CALL)
                    .map(|n| event(&topology, format!("{caller}-{n}"), serde_json::json!({ "caller": caller, "n": n })))
                    .collect();
                publisher.publish_all(&batch).await
            })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("every call confirmed");
    }

    let mut seen: HashMap<u64, Vec<u64>> = HashMap::new();
    for _ in 0..CALLERS * PER_CALL {
        let event = subscriber.next(WAIT).await;
        let (caller, n) = (event.body["caller"].as_u64().unwrap(), event.body["n"].as_u64().unwrap());
        seen.entry(caller).or_default().push(n);
    }
    assert_eq!(seen.len(), CALLERS);
    for (caller, ns) in &seen {
        assert_eq!(ns, &[0, 1, 2, 3], "caller {caller}: each message once, in order");
    }
    delete_topology(&topology).await;
}
