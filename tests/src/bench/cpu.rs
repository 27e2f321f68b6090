//! Where the machine's CPU went during a run, process by process.
//!
//! On two shared cores every rate is bounded by the CPU of *all* the
//! processes taking part: the benchmark's own client, cloudconn, and the
//! backends. A scenario's rate next to its baseline's says how much
//! cloudconn adds; this says who spent the difference. Read from
//! `/proc/<pid>/stat` (user + system time) before and after a run.

use serde::Serialize;

/// CPU seconds used so far, by who.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Shares {
    /// The server and the worker.
    pub cloudconn: f64,
    /// This process: the gRPC client (or the baseline's client library)
    /// and the provider emulator.
    pub bench: f64,
    pub postgres: f64,
    pub rabbitmq: f64,
    pub openbao: f64,
}

impl Shares {
    /// Now, with `cloudconn` the server's and worker's pids.
    pub fn now(cloudconn: &[u32]) -> Self {
        let mut shares = Self {
            cloudconn: cloudconn.iter().map(|&pid| own(pid)).sum(),
            bench: own(std::process::id()),
            ..Self::default()
        };
        // The backends are whole process families: PostgreSQL forks a
        // backend per connection, so count what every process of the name
        // used, plus what its exited children used (their parent's
        // cutime/cstime), or a closed connection's CPU would vanish.
        for pid in all_pids() {
            let slot = match comm(pid).as_deref() {
                Some("postgres") => &mut shares.postgres,
                Some("beam.smp") => &mut shares.rabbitmq,
                Some("bao") => &mut shares.openbao,
                _ => continue,
            };
            *slot += own(pid) + reaped_children(pid);
        }
        shares
    }

    /// What was used between `earlier` and `self`, in milliseconds per
    /// operation.
    pub fn per_op_since(&self, earlier: &Self, ops: usize) -> Self {
        let ms = |now: f64, then: f64| (now - then).max(0.0) * 1000.0 / ops.max(1) as f64;
        Self {
            cloudconn: ms(self.cloudconn, earlier.cloudconn),
            bench: ms(self.bench, earlier.bench),
            postgres: ms(self.postgres, earlier.postgres),
            rabbitmq: ms(self.rabbitmq, earlier.rabbitmq),
            openbao: ms(self.openbao, earlier.openbao),
        }
    }

    pub fn total(&self) -> f64 {
        self.cloudconn + self.bench + self.postgres + self.rabbitmq + self.openbao
    }

    /// `cloudconn 0.25 · bench 0.31 · …`, leaving out who spent nothing.
    pub fn describe(&self) -> String {
        [
            ("cloudconn", self.cloudconn),
            ("bench", self.bench),
            ("postgres", self.postgres),
            ("rabbitmq", self.rabbitmq),
            ("openbao", self.openbao),
        ]
        .iter()
        .filter(|(_, ms)| *ms >= 0.005)
        .map(|(who, ms)| format!("{who} {ms:.2}"))
        .chain(std::iter::once(format!("= {:.2}", self.total())))
        .collect::<Vec<_>>()
        .join(" · ")
    }
}

/// Fields of `/proc/<pid>/stat` after the command name (which may hold
/// spaces, so split after its closing parenthesis), in clock ticks.
fn stat_ticks(pid: u32, fields: [usize; 2]) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let values: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| values.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // USER_HZ is 100 on Linux.
    (tick(fields[0]) + tick(fields[1])) / 100.0
}

/// utime + stime (fields 14 and 15), in seconds.
pub fn own(pid: u32) -> f64 {
    stat_ticks(pid, [11, 12])
}

/// cutime + cstime (fields 16 and 17): exited children the process waited
/// for.
fn reaped_children(pid: u32) -> f64 {
    stat_ticks(pid, [13, 14])
}

fn comm(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).ok().map(|s| s.trim_end().to_owned())
}

fn all_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|dir| dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default()
}
