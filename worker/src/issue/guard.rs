//! What a worker checks before it acts on an issue request: that the
//! server sent it, to a server, recently, once.
//!
//! The broker login a worker consumes with proves nothing about who wrote a
//! message (docs/security.md): so a request is executed only when
//!
//! 1. it names a reply address that is a server's reply queue, and a
//!    correlation id;
//! 2. it carries a signature, by one of the server keys this worker trusts,
//!    over its body, reply address and correlation id — so none of the
//!    three can be changed, and a party without the server's private key
//!    cannot write one at all;
//! 3. it is current: not past its deadline, and not due so far ahead that
//!    it could be kept and replayed much later;
//! 4. this worker has not seen its correlation id before (until its
//!    deadline, after which (3) refuses it anyway).
//!
//! Whatever passes, the lifetime asked for is still capped by the worker's
//! own `CLOUDCONN_ISSUE_MAX_TTL_MS`: a signing key is a credential too, and
//! what it can obtain should be bounded where the credentials are made.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use cloudconn_infra::amqp::{
    issue::{ISSUE_VERSION, IssueRequest},
    signing::{Context, MessageKeys, signature_of},
    topology::REPLY_QUEUE_PREFIX,
};
use lapin::message::Delivery;

/// How far ahead of now a deadline may be. The server's requests live a
/// few seconds; this leaves room for clock skew between machines.
pub const MAX_AHEAD: Duration = Duration::from_secs(300);
/// Correlation ids remembered at most. Expired ones are forgotten first;
/// if all are live, new requests are refused (the requester times out and
/// asks again) rather than the memory growing.
pub const MAX_REMEMBERED: usize = 65_536;

/// A request that passed every check, with where to answer.
#[derive(Debug)]
pub struct Admitted {
    pub request: IssueRequest,
    pub reply_to: String,
    pub correlation: String,
}

/// Why a request was not acted on: the metric label and the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No correlation id, or a reply address that is not a server's.
    BadAddress,
    Unsigned,
    /// A signature that no trusted key made over these bytes.
    Forged,
    /// Signed, but not a request this worker understands.
    Malformed,
    Expired,
    TooFarAhead,
    Replayed,
    /// Too many live requests remembered.
    Busy,
}

impl Refusal {
    pub fn label(self) -> &'static str {
        match self {
            Refusal::BadAddress => "refused_address",
            Refusal::Unsigned => "refused_unsigned",
            Refusal::Forged => "refused_forged",
            Refusal::Malformed => "malformed",
            Refusal::Expired => "expired",
            Refusal::TooFarAhead => "refused_deadline",
            Refusal::Replayed => "refused_replay",
            Refusal::Busy => "refused_busy",
        }
    }
}

/// What the checks read of a delivery.
struct Message<'a> {
    reply_to: Option<&'a str>,
    correlation: Option<&'a str>,
    signature: Option<String>,
    body: &'a [u8],
}

pub struct RequestGuard {
    keys: MessageKeys,
    max_ttl: Duration,
    /// Correlation id → deadline (Unix ms) of the requests acted on.
    seen: Mutex<HashMap<String, u64>>,
}

impl RequestGuard {
    pub fn new(keys: MessageKeys, max_ttl: Duration) -> Self {
        Self { keys, max_ttl, seen: Mutex::new(HashMap::new()) }
    }

    pub fn keys(&self) -> &MessageKeys {
        &self.keys
    }

    /// Checks `delivery` at `now_unix_ms`; an admitted request's lifetime
    /// is already capped.
    pub fn admit(&self, delivery: &Delivery, now_unix_ms: u64) -> Result<Admitted, Refusal> {
        let properties = &delivery.properties;
        let message = Message {
            reply_to: properties.reply_to().as_ref().map(|s| s.as_str()),
            correlation: properties.correlation_id().as_ref().map(|s| s.as_str()),
            signature: signature_of(properties.headers().as_ref()),
            body: &delivery.data,
        };
        self.admit_message(message, now_unix_ms)
    }

    fn admit_message(&self, message: Message<'_>, now_unix_ms: u64) -> Result<Admitted, Refusal> {
        let (Some(reply_to), Some(correlation)) = (message.reply_to, message.correlation) else {
            return Err(Refusal::BadAddress);
        };
        if !reply_to.starts_with(REPLY_QUEUE_PREFIX) || correlation.is_empty() {
            return Err(Refusal::BadAddress);
        }
        let signature = message.signature.ok_or(Refusal::Unsigned)?;
        let parts: [&[u8]; 3] = [reply_to.as_bytes(), correlation.as_bytes(), message.body];
        if !self.keys.peers.verify(Context::IssueRequest, &parts, &signature) {
            return Err(Refusal::Forged);
        }
        let (reply_to, correlation) = (reply_to.to_owned(), correlation.to_owned());
        let mut request = serde_json::from_slice::<IssueRequest>(message.body)
            .ok()
            .filter(|r| r.version == ISSUE_VERSION && r.is_well_formed())
            .ok_or(Refusal::Malformed)?;
        if request.expired(now_unix_ms) {
            return Err(Refusal::Expired);
        }
        if request.deadline_unix_ms > now_unix_ms.saturating_add(MAX_AHEAD.as_millis() as u64) {
            return Err(Refusal::TooFarAhead);
        }
        self.remember(&correlation, request.deadline_unix_ms, now_unix_ms)?;
        request.ttl_secs = request.ttl_secs.min(self.max_ttl.as_secs());
        Ok(Admitted { request, reply_to, correlation })
    }

    fn remember(&self, correlation: &str, deadline: u64, now: u64) -> Result<(), Refusal> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains_key(correlation) {
            return Err(Refusal::Replayed);
        }
        if seen.len() >= MAX_REMEMBERED {
            // Past its deadline a request is refused as expired anyway.
            seen.retain(|_, d| *d > now);
            if seen.len() >= MAX_REMEMBERED {
                return Err(Refusal::Busy);
            }
        }
        seen.insert(correlation.to_owned(), deadline);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use cloudconn_infra::amqp::{
        issue::IssueAction,
        signing::{MessageSigner, PeerKeys},
    };

    use super::*;

    const NOW: u64 = 1_800_000_000_000;
    const REPLY: &str = "amq.gen-abc";

    fn request(deadline: u64, ttl_secs: u64) -> Vec<u8> {
        serde_json::to_vec(&IssueRequest {
            version: ISSUE_VERSION,
            tag: String::new(),
            workspace: "acme".into(),
            connection_id: "4e098c3f-fe71-466b-97f2-2e4926947752".into(),
            provider: "aws".into(),
            revision: 1,
            scope: "storage".into(),
            consumer: "billing".into(),
            ttl_secs,
            external_id: None,
            deadline_unix_ms: deadline,
            action: IssueAction::Mint,
        })
        .unwrap()
    }

    /// A guard trusting `server`, and a worker key of its own.
    fn guard(server: &MessageSigner) -> RequestGuard {
        let keys =
            MessageKeys { signer: MessageSigner::generate(), peers: PeerKeys::from_pem(&server.public_pem()).unwrap() };
        RequestGuard::new(keys, Duration::from_secs(3600))
    }

    fn check(
        guard: &RequestGuard,
        signer: Option<&MessageSigner>,
        reply: &str,
        corr: &str,
        body: &[u8],
    ) -> Result<Admitted, Refusal> {
        let signature = signer.map(|s| s.sign(Context::IssueRequest, &[reply.as_bytes(), corr.as_bytes(), body]));
        guard.admit_message(Message { reply_to: Some(reply), correlation: Some(corr), signature, body }, NOW)
    }

    #[test]
    fn only_a_current_request_signed_by_the_server_is_admitted_once() {
        let server = MessageSigner::generate();
        let g = guard(&server);
        let body = request(NOW + 5_000, 43_200);
        let admitted = check(&g, Some(&server), REPLY, "c1", &body).unwrap();
        assert_eq!(admitted.request.ttl_secs, 3600, "the worker caps the lifetime itself");
        assert_eq!(check(&g, Some(&server), REPLY, "c1", &body).unwrap_err(), Refusal::Replayed);
        assert_eq!(check(&g, None, REPLY, "c2", &body).unwrap_err(), Refusal::Unsigned);
        assert_eq!(check(&g, Some(&MessageSigner::generate()), REPLY, "c3", &body).unwrap_err(), Refusal::Forged);
        assert_eq!(check(&g, Some(&server), "amq.rabbitmq.reply-to.x", "c4", &body).unwrap_err(), Refusal::BadAddress);
        assert_eq!(check(&g, Some(&server), REPLY, "c5", &request(NOW, 900)).unwrap_err(), Refusal::Expired);
        assert_eq!(
            check(&g, Some(&server), REPLY, "c6", &request(NOW + 3_600_000, 900)).unwrap_err(),
            Refusal::TooFarAhead
        );
        assert_eq!(check(&g, Some(&server), REPLY, "c7", b"{}").unwrap_err(), Refusal::Malformed);
    }

    #[test]
    fn a_signature_does_not_carry_over_to_another_address_or_body() {
        let server = MessageSigner::generate();
        let g = guard(&server);
        let body = request(NOW + 5_000, 900);
        let signature = server.sign(Context::IssueRequest, &[REPLY.as_bytes(), b"c1", &body]);
        let moved = Message {
            reply_to: Some("amq.gen-attacker"),
            correlation: Some("c1"),
            signature: Some(signature.clone()),
            body: &body,
        };
        assert_eq!(g.admit_message(moved, NOW).unwrap_err(), Refusal::Forged);
        let other = request(NOW + 5_000, 43_200);
        let changed =
            Message { reply_to: Some(REPLY), correlation: Some("c1"), signature: Some(signature), body: &other };
        assert_eq!(g.admit_message(changed, NOW).unwrap_err(), Refusal::Forged);
    }
}
