//! Every exchange and queue name, derived from one prefix (docs/architecture.md), and
//! their idempotent declaration. Whoever needs the topology declares it at
//! start; declaring what exists with the same arguments is a no-op.
//!
//! ```text
//! <p>.jobs (direct) --"validate"--> <p>.validate (quorum, delivery limit)
//!                                        | dead-letter after the limit
//!                                        v
//!                     <p>.dead (direct) --"validate"--> <p>.validate.dead
//! worker --default exchange--> <p>.results (quorum) --> server
//! server --<ws>.connection.<event>--> <p>.events (topic) --> subscribers
//! server --default exchange--> <p>.issue (classic, bounded) --> worker
//! worker --default exchange--> amq.rabbitmq.reply-to.… (direct reply-to) --> server
//! ```

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
/// The pseudo-queue of RabbitMQ's direct reply-to: replies go straight to
/// the consumer on the requesting channel, with no queue to declare.
pub const DIRECT_REPLY_TO: &str = "amq.rabbitmq.reply-to";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    prefix: String,
}

impl Topology {
    pub fn new(prefix: &str) -> Self {
        Self { prefix: prefix.to_owned() }
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

    /// Every queue, for tests that clean up a prefix.
    pub fn queues(&self) -> [String; 4] {
        [self.validate_queue(), self.dead_letter_queue(), self.results_queue(), self.issue_queue()]
    }

    pub fn exchanges(&self) -> [String; 3] {
        [self.jobs_exchange(), self.dead_exchange(), self.events_exchange()]
    }

    /// Declares everything. Idempotent.
    pub async fn declare(&self, channel: &Channel) -> lapin::Result<()> {
        let durable = ExchangeDeclareOptions { durable: true, ..Default::default() };
        for (name, kind) in [
            (self.jobs_exchange(), ExchangeKind::Direct),
            (self.dead_exchange(), ExchangeKind::Direct),
            (self.events_exchange(), ExchangeKind::Topic),
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
        Ok(())
    }
}

impl Topology {
    /// Declares a server-named, exclusive, auto-deleted queue bound to the
    /// events exchange with `binding` (`#` for all): a live subscription that
    /// disappears with its connection. Returns the queue name.
    pub async fn subscribe_events(&self, channel: &Channel, binding: &str) -> lapin::Result<String> {
        // Live and best-effort: a subscriber that falls behind loses the
        // oldest events rather than letting the broker's memory grow.
        let mut arguments = FieldTable::default();
        arguments.insert("x-max-length".into(), AMQPValue::LongInt(LIVE_QUEUE_MAX_LENGTH));
        arguments.insert("x-overflow".into(), string("drop-head"));
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions { exclusive: true, auto_delete: true, ..Default::default() },
                arguments,
            )
            .await?;
        channel
            .queue_bind(
                queue.name().clone(),
                self.events_exchange().into(),
                binding.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(queue.name().as_str().to_owned())
    }
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
        assert!(t.queues().iter().chain(t.exchanges().iter()).all(|n| n.starts_with("cc_test_1.")));
    }
}
