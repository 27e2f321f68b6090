//! Every exchange and queue name, derived from one prefix (docs/architecture.md), and
//! their idempotent declaration. Whoever needs the topology declares it at
//! start; declaring what exists with the same arguments is a no-op.
//!
//! ```text
//! <p>.jobs (direct) --"validate"--> <p>.validate (quorum, delivery limit)
//!                                        | dead-letter after the limit
//!                                        v
//!                     <p>.dead (direct) --"validate"--> <p>.validate.dead
//! worker --"results"--> <p>.replies (direct) --> <p>.results (quorum) --> server
//! server --<ws>.connection.<event>--> <p>.events (topic) --> subscribers
//! server --default exchange--> <p>.issue (classic, bounded) --> worker
//! worker --<reply queue>--> <p>.replies --> amq.gen-… (one per server channel) --> server
//! ```
//!
//! The worker publishes only to `<p>.replies`, never to the default
//! exchange: RabbitMQ cannot restrict the routing keys of the default
//! exchange, so a login allowed to write there may put a message in *any*
//! queue, the job and issue queues included. `<p>.replies` routes only to
//! the results queue and the servers' reply queues.
//!
//! Only the server declares ([`Topology::declare`]); a worker's topology is
//! [`Topology::used_only`]: declaring a queue needs grants on it (and on its
//! dead-letter exchange) that would let the worker bind queues to
//! exchanges it can write to, another way to inject jobs. A worker started
//! first waits (its consumers retry) until a server has declared.

use lapin::{
    Channel, ExchangeKind,
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable, LongString},
};

/// Deliveries of one job before RabbitMQ dead-letters it (a poison message
/// that crashes or stalls workers ends there instead of looping forever).
pub const DELIVERY_LIMIT: i32 = 5;

/// Routing key of validation jobs on the jobs exchange.
pub const VALIDATE_KEY: &str = "validate";
/// Events a live subscription queue holds before dropping the oldest.
pub const LIVE_QUEUE_MAX_LENGTH: i32 = 10_000;
/// Issue requests waiting for a worker before the broker refuses new ones
/// (the server's publish is then nacked and the caller told UNAVAILABLE).
pub const ISSUE_QUEUE_MAX_LENGTH: i32 = 10_000;
/// Routing key of validation results on the replies exchange.
pub const RESULTS_KEY: &str = "results";
/// How a server's reply queues are named (server-named queues): a worker
/// replies only to an address that looks like one.
pub const REPLY_QUEUE_PREFIX: &str = "amq.gen-";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    prefix: String,
    /// Whether [`Topology::declare`] declares (the server) or leaves it to
    /// the server (a worker).
    declares: bool,
}

impl Topology {
    pub fn new(prefix: &str) -> Self {
        Self { prefix: prefix.to_owned(), declares: true }
    }

    /// The same names, for a process that uses the topology but leaves
    /// declaring it to the server (a worker; see the module docs).
    pub fn used_only(mut self) -> Self {
        self.declares = false;
        self
    }

    pub fn jobs_exchange(&self) -> String {
        format!("{}.jobs", self.prefix)
    }
    pub fn validate_queue(&self) -> String {
        format!("{}.validate", self.prefix)
    }
    pub fn dead_exchange(&self) -> String {
        format!("{}.dead", self.prefix)
    }
    pub fn dead_letter_queue(&self) -> String {
        format!("{}.validate.dead", self.prefix)
    }
    pub fn results_queue(&self) -> String {
        format!("{}.results", self.prefix)
    }
    pub fn events_exchange(&self) -> String {
        format!("{}.events", self.prefix)
    }
    pub fn issue_queue(&self) -> String {
        format!("{}.issue", self.prefix)
    }
    pub fn replies_exchange(&self) -> String {
        format!("{}.replies", self.prefix)
    }

    /// Every queue, for tests that clean up a prefix.
    pub fn queues(&self) -> [String; 4] {
        [self.validate_queue(), self.dead_letter_queue(), self.results_queue(), self.issue_queue()]
    }

    pub fn exchanges(&self) -> [String; 4] {
        [self.jobs_exchange(), self.dead_exchange(), self.events_exchange(), self.replies_exchange()]
    }

    /// Declares everything (nothing for [`Topology::used_only`]). Idempotent.
    pub async fn declare(&self, channel: &Channel) -> lapin::Result<()> {
        if !self.declares {
            return Ok(());
        }
        let durable = ExchangeDeclareOptions { durable: true, ..Default::default() };
        for (name, kind) in [
            (self.jobs_exchange(), ExchangeKind::Direct),
            (self.dead_exchange(), ExchangeKind::Direct),
            (self.events_exchange(), ExchangeKind::Topic),
            (self.replies_exchange(), ExchangeKind::Direct),
        ] {
            channel.exchange_declare(name.into(), kind, durable, FieldTable::default()).await?;
        }

        // Quorum queues: replicated, durable, and they count deliveries, which
        // is what makes `x-delivery-limit` (poison-message protection) work.
        let queue = QueueDeclareOptions { durable: true, ..Default::default() };
        let mut validate = quorum();
        validate.insert("x-delivery-limit".into(), AMQPValue::LongInt(DELIVERY_LIMIT));
        validate.insert("x-dead-letter-exchange".into(), string(&self.dead_exchange()));
        validate.insert("x-dead-letter-routing-key".into(), string(VALIDATE_KEY));
        channel.queue_declare(self.validate_queue().into(), queue, validate).await?;
        channel.queue_declare(self.dead_letter_queue().into(), queue, quorum()).await?;
        channel.queue_declare(self.results_queue().into(), queue, quorum()).await?;
        // Issue requests live for seconds (each carries its deadline as a
        // per-message TTL) and are worthless after a broker restart: a
        // classic queue, bounded, refusing the newest when full.
        let mut issue = FieldTable::default();
        issue.insert("x-queue-type".into(), string("classic"));
        issue.insert("x-max-length".into(), AMQPValue::LongInt(ISSUE_QUEUE_MAX_LENGTH));
        issue.insert("x-overflow".into(), string("reject-publish"));
        channel.queue_declare(self.issue_queue().into(), queue, issue).await?;

        let bind = QueueBindOptions::default();
        channel
            .queue_bind(
                self.validate_queue().into(),
                self.jobs_exchange().into(),
                VALIDATE_KEY.into(),
                bind,
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_bind(
                self.dead_letter_queue().into(),
                self.dead_exchange().into(),
                VALIDATE_KEY.into(),
                bind,
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_bind(
                self.results_queue().into(),
                self.replies_exchange().into(),
                RESULTS_KEY.into(),
                bind,
                FieldTable::default(),
            )
            .await?;
        Ok(())
    }

    /// Declares a server-named, exclusive, auto-deleted queue for issue
    /// replies, bound to the replies exchange under its own name (the
    /// requests' `reply_to`). It disappears with its connection, and with
    /// it any late reply. Returns the queue name.
    pub async fn reply_queue(&self, channel: &Channel) -> lapin::Result<String> {
        // Replies are read as they come; a flood (of forged ones: anyone
        // who may publish replies can aim at this queue) drops the oldest.
        live_queue(channel, &self.replies_exchange(), None, ISSUE_QUEUE_MAX_LENGTH).await
    }
}

impl Topology {
    /// Declares a server-named, exclusive, auto-deleted queue bound to the
    /// events exchange with `binding` (`#` for all): a live subscription that
    /// disappears with its connection. Returns the queue name.
    pub async fn subscribe_events(&self, channel: &Channel, binding: &str) -> lapin::Result<String> {
        // Live and best-effort: a subscriber that falls behind loses the
        // oldest events rather than letting the broker's memory grow.
        live_queue(channel, &self.events_exchange(), Some(binding), LIVE_QUEUE_MAX_LENGTH).await
    }
}

/// A server-named, exclusive, auto-deleted queue holding at most
/// `max_length` messages (the oldest dropped first), bound to `exchange`
/// with `binding`, or with its own name when `None`. Returns its name.
async fn live_queue(
    channel: &Channel,
    exchange: &str,
    binding: Option<&str>,
    max_length: i32,
) -> lapin::Result<String> {
    let mut arguments = FieldTable::default();
    arguments.insert("x-max-length".into(), AMQPValue::LongInt(max_length));
    arguments.insert("x-overflow".into(), string("drop-head"));
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions { exclusive: true, auto_delete: true, ..Default::default() },
            arguments,
        )
        .await?;
    let name = queue.name().as_str().to_owned();
    let binding = binding.unwrap_or(&name).to_owned();
    channel
        .queue_bind(
            name.clone().into(),
            exchange.into(),
            binding.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok(name)
}

fn string(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s.as_bytes().to_vec()))
}

/// Arguments that make a declared queue a quorum queue.
pub fn quorum() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), string("quorum"));
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_prefix() {
        let t = Topology::new("cc_test_1");
        assert_eq!(t.jobs_exchange(), "cc_test_1.jobs");
        assert_eq!(t.validate_queue(), "cc_test_1.validate");
        assert_eq!(t.dead_letter_queue(), "cc_test_1.validate.dead");
        assert_eq!(t.results_queue(), "cc_test_1.results");
        assert_eq!(t.events_exchange(), "cc_test_1.events");
        assert_eq!(t.issue_queue(), "cc_test_1.issue");
        assert_eq!(t.replies_exchange(), "cc_test_1.replies");
        assert_eq!(t.clone().used_only().results_queue(), t.results_queue());
        assert!(t.queues().iter().chain(t.exchanges().iter()).all(|n| n.starts_with("cc_test_1.")));
    }
}
