//! Statements sent to the database, counted by kind: the metric
//! `cloudconn_db_statements_total{kind}`, and what the benchmark divides by
//! the operations it ran to print statements per call.
//!
//! Counted in sea-orm's per-statement callback, so every query and command
//! the server sends through its pool is seen, in transactions or not. The
//! transaction brackets (`BEGIN`, `COMMIT`) are not statements here:
//! PostgreSQL's own transaction count says those.

use std::sync::LazyLock;

use prometheus::{IntCounter, IntCounterVec, Opts};

/// The kinds a statement is counted as, by its first word.
const KINDS: [&str; 5] = ["select", "insert", "update", "delete", "other"];

pub struct Statements {
    pub vec: IntCounterVec,
    /// `vec`'s counters resolved once: the callback runs per statement and
    /// should not look labels up each time.
    by_kind: [IntCounter; 5],
}

pub static STATEMENTS: LazyLock<Statements> = LazyLock::new(|| {
    let vec = IntCounterVec::new(
        Opts::new("db_statements_total", "statements sent to the database, by their first word"),
        &["kind"],
    )
    .expect("metric");
    let by_kind = KINDS.map(|kind| vec.with_label_values(&[kind]));
    Statements { vec, by_kind }
});

impl Statements {
    pub fn count(&self, sql: &str) {
        let first = sql.trim_start().split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or_default();
        let kind = KINDS[..4].iter().position(|k| first.eq_ignore_ascii_case(k)).unwrap_or(4);
        self.by_kind[kind].inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_counted_by_their_first_word() {
        let before: Vec<u64> = STATEMENTS.by_kind.iter().map(IntCounter::get).collect();
        STATEMENTS.count("SELECT 1");
        STATEMENTS.count("  insert INTO t VALUES (1)");
        STATEMENTS.count("WITH x AS (SELECT 1) SELECT * FROM x");
        let after: Vec<u64> = STATEMENTS.by_kind.iter().map(IntCounter::get).collect();
        let added: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
        assert_eq!(added, [1, 1, 0, 0, 1]);
    }
}
