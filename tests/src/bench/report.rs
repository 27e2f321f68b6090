//! The benchmark's output: a plain table on stdout and a JSON file, one
//! entry per scenario, so runs can be compared.

use serde::Serialize;

use super::{Run, cpu::Shares};

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub scenario: String,
    pub concurrency: usize,
    pub ops: usize,
    pub ops_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    /// What the scenario is compared with, and its rate in this run.
    pub baseline: Option<String>,
    pub baseline_ops_per_sec: Option<f64>,
    /// The baseline run's p50 and p99 latency, where it was measured in
    /// this run: what a latency target can be held against.
    pub baseline_p50_p99_ms: Option<(f64, f64)>,
    /// `ops_per_sec / baseline_ops_per_sec`.
    pub ratio: Option<f64>,
    /// The target this ratio (or rate) is held to, in words.
    pub target: Option<String>,
    /// Resident set size of the process measured, where it applies.
    pub rss_mb: Option<f64>,
    /// CPU the cloudconn processes spent per operation (server, and the
    /// worker where one takes part), in milliseconds: on a shared machine
    /// a steadier measure of cost than the rate.
    pub cpu_ms_per_op: Option<f64>,
    /// CPU per operation of every process taking part (cloudconn, this
    /// benchmark, each backend), in milliseconds: who spent the machine.
    pub cpu_ms_per_op_by_process: Option<Shares>,
    /// The same for the baseline's run.
    pub baseline_cpu_ms_per_op_by_process: Option<Shares>,
    /// What the service's own database did per operation, where measured:
    /// counted by PostgreSQL, so the same however busy the machine is.
    pub database_per_op: Option<DatabasePerOp>,
    /// Statements the server sent to the database per operation (its
    /// `cloudconn_db_statements_total`; transaction brackets not counted).
    pub statements_per_op: Option<f64>,
}

/// Transactions and rows written in the service's database per operation
/// (PostgreSQL's `pg_stat_database`; a statement outside a transaction
/// counts as one).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DatabasePerOp {
    pub transactions: f64,
    pub rows_written: f64,
}

impl Entry {
    pub fn new(scenario: &str, run: &Run) -> Self {
        Self {
            scenario: scenario.to_owned(),
            concurrency: run.concurrency,
            ops: run.ops,
            ops_per_sec: run.ops_per_sec(),
            p50_ms: run.ms(0.5),
            p99_ms: run.ms(0.99),
            p999_ms: run.ms(0.999),
            baseline: None,
            baseline_ops_per_sec: None,
            baseline_p50_p99_ms: None,
            ratio: None,
            target: None,
            rss_mb: None,
            cpu_ms_per_op: None,
            cpu_ms_per_op_by_process: None,
            baseline_cpu_ms_per_op_by_process: None,
            database_per_op: None,
            statements_per_op: None,
        }
    }

    pub fn database_opt(mut self, per_op: Option<DatabasePerOp>) -> Self {
        self.database_per_op = per_op;
        self
    }

    /// A memory reading rather than a load run.
    pub fn memory(scenario: &str, rss_mb: f64, target: &str) -> Self {
        Self {
            scenario: scenario.to_owned(),
            concurrency: 0,
            ops: 0,
            ops_per_sec: 0.0,
            p50_ms: 0.0,
            p99_ms: 0.0,
            p999_ms: 0.0,
            baseline: None,
            baseline_ops_per_sec: None,
            baseline_p50_p99_ms: None,
            ratio: None,
            target: Some(target.to_owned()),
            rss_mb: Some(rss_mb),
            cpu_ms_per_op: None,
            cpu_ms_per_op_by_process: None,
            baseline_cpu_ms_per_op_by_process: None,
            database_per_op: None,
            statements_per_op: None,
        }
    }

    pub fn against(mut self, baseline: &str, rate: f64) -> Self {
        self.baseline = Some(baseline.to_owned());
        self.baseline_ops_per_sec = Some(rate);
        self.ratio = Some(self.ops_per_sec / rate);
        self
    }

    /// [`Self::against`] a measured baseline run and what it cost.
    pub fn against_run(mut self, baseline: &str, run: &Run, cpu: Shares) -> Self {
        self.baseline_cpu_ms_per_op_by_process = Some(cpu);
        self.baseline_p50_p99_ms = Some((run.ms(0.5), run.ms(0.99)));
        self.against(baseline, run.ops_per_sec())
    }

    pub fn target(mut self, target: &str) -> Self {
        self.target = Some(target.to_owned());
        self
    }

    /// What the run cost, per operation, process by process.
    pub fn cpu(mut self, per_op: Shares) -> Self {
        self.cpu_ms_per_op = Some(per_op.cloudconn);
        self.cpu_ms_per_op_by_process = Some(per_op);
        self
    }

    pub fn statements(mut self, per_op: f64) -> Self {
        self.statements_per_op = Some(per_op);
        self
    }

    pub fn rss(mut self, mb: f64) -> Self {
        self.rss_mb = Some(mb);
        self
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}")).unwrap_or_else(|| "-".into())
}

/// The table, one line per entry.
pub fn table(entries: &[Entry]) -> String {
    let mut out = format!(
        "{:<34} {:>5} {:>6} {:>9} {:>8} {:>8} {:>9} {:>10} {:>6} {:>7} {:>7}  {}\n",
        "scenario",
        "conc",
        "ops",
        "ops/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "base ops/s",
        "ratio",
        "RSS MB",
        "CPU ms",
        "target"
    );
    for e in entries {
        out += &format!(
            "{:<34} {:>5} {:>6} {:>9.1} {:>8.2} {:>8.2} {:>9.2} {:>10} {:>6} {:>7} {:>7}  {}\n",
            e.scenario,
            e.concurrency,
            e.ops,
            e.ops_per_sec,
            e.p50_ms,
            e.p99_ms,
            e.p999_ms,
            opt(e.baseline_ops_per_sec, 1),
            opt(e.ratio, 2),
            opt(e.rss_mb, 1),
            opt(e.cpu_ms_per_op, 3),
            e.target.as_deref().unwrap_or(""),
        );
        match (&e.baseline, e.baseline_p50_p99_ms) {
            (Some(b), Some((p50, p99))) => {
                out += &format!("{:<34} (baseline: {b}; its p50 {p50:.2} ms, p99 {p99:.2} ms)\n", "")
            }
            (Some(b), None) => out += &format!("{:<34} (baseline: {b})\n", ""),
            _ => {}
        }
        if let Some(cpu) = &e.cpu_ms_per_op_by_process {
            out += &format!("{:<34} CPU ms/op: {}\n", "", cpu.describe());
        }
        if let Some(cpu) = &e.baseline_cpu_ms_per_op_by_process {
            out += &format!("{:<34} baseline CPU ms/op: {}\n", "", cpu.describe());
        }
        if let Some(statements) = e.statements_per_op {
            out += &format!("{:<34} statements per op (server → PostgreSQL): {statements:.2}\n", "");
        }
        if let Some(db) = &e.database_per_op {
            out += &format!(
                "{:<34} database per op: {:.3} transactions, {:.3} rows written\n",
                "", db.transactions, db.rows_written
            );
        }
    }
    out
}
