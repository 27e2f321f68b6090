//! The scale scenario's growth table: each figure at every size, and how
//! much it grew from the smallest size to the largest.

use super::{report::Entry, scale::Measured};

/// One figure at every size, and how much it grew from the smallest to
/// the largest: largest ÷ smallest for a cost (latency, CPU, memory),
/// smallest ÷ largest for a rate, so above 1 is always "got worse".
#[derive(Debug, serde::Serialize)]
pub struct Growth {
    pub figure: String,
    pub values: Vec<f64>,
    pub growth: f64,
    pub flat: bool,
}

/// The target: a request may cost at most this much more at the largest
/// size than at the smallest.
const FLAT: f64 = 1.3;

pub fn growth(all: &[Measured]) -> Vec<Growth> {
    type Figure = (&'static str, bool, fn(&Measured) -> f64);
    let figures: [Figure; 23] = [
        ("Get p50 ms", false, |m| m.get.p50_ms),
        ("Get p99 ms", false, |m| m.get.p99_ms),
        ("Get ops/s", true, |m| m.get.ops_per_sec),
        ("Get CPU ms/op, cloudconn", false, |m| m.get.cpu_ms_per_op.unwrap_or(0.0)),
        ("Get CPU ms/op, PostgreSQL", false, |m| m.get.cpu_ms_per_op_by_process.map(|c| c.postgres).unwrap_or(0.0)),
        ("Get CPU ms/op, all processes", false, |m| m.get.cpu_ms_per_op_by_process.map(|c| c.total()).unwrap_or(0.0)),
        ("Get / raw SELECT (ratio)", true, |m| m.get.ratio.unwrap_or(0.0)),
        ("Get CPU ms/op, bench (gRPC client)", false, |m| {
            m.get.cpu_ms_per_op_by_process.map(|c| c.bench).unwrap_or(0.0)
        }),
        ("Get: blocks read into shared buffers", false, |m| m.get_blocks_read_hit.map(|b| b.0).unwrap_or(0.0)),
        ("raw SELECT: blocks read", false, |m| m.select_blocks_read_hit.map(|b| b.0).unwrap_or(0.0)),
        ("List first page: blocks read", false, |m| m.list_blocks_read_hit[0].map(|b| b.0).unwrap_or(0.0)),
        ("List deep page: blocks read", false, |m| m.list_blocks_read_hit[1].map(|b| b.0).unwrap_or(0.0)),
        ("gRPC floor p50 ms (control)", false, |m| m.grpc_floor.p50_ms),
        ("gRPC floor CPU ms/op, all (control)", false, |m| cpu_total(&m.grpc_floor)),
        ("raw PK SELECT p50 ms", false, |m| m.get.baseline_p50_p99_ms.map(|p| p.0).unwrap_or(0.0)),
        ("raw PK SELECT p99 ms", false, |m| m.get.baseline_p50_p99_ms.map(|p| p.1).unwrap_or(0.0)),
        ("raw PK SELECT ops/s", true, |m| m.get.baseline_ops_per_sec.unwrap_or(0.0)),
        ("List first page p50 ms", false, |m| m.list_first_page.p50_ms),
        ("List first page p99 ms", false, |m| m.list_first_page.p99_ms),
        ("List first page CPU ms/op, all", false, |m| cpu_total(&m.list_first_page)),
        ("List deep page p50 ms", false, |m| m.list_deep_page.p50_ms),
        ("List deep page p99 ms", false, |m| m.list_deep_page.p99_ms),
        ("List deep page CPU ms/op, all", false, |m| cpu_total(&m.list_deep_page)),
    ];
    let mut rows: Vec<Growth> = figures
        .iter()
        .map(|(figure, rate, read)| {
            let values: Vec<f64> = all.iter().map(read).collect();
            let (first, last) = (values.first().copied().unwrap_or(0.0), values.last().copied().unwrap_or(0.0));
            // Nothing at either end (a count not taken) did not grow.
            let growth = match (first, last) {
                (0.0, 0.0) => 1.0,
                _ if *rate => first / last,
                _ => last / first,
            };
            Growth { figure: (*figure).to_owned(), values, growth, flat: growth <= FLAT }
        })
        .collect();
    let rss: Vec<f64> = all.iter().map(|m| m.server_rss_mb).collect();
    let growth = rss.last().copied().unwrap_or(0.0) / rss.first().copied().unwrap_or(1.0);
    rows.push(Growth { figure: "server RSS MB after the runs".into(), values: rss, growth, flat: growth <= FLAT });
    rows
}

fn cpu_total(e: &Entry) -> f64 {
    e.cpu_ms_per_op_by_process.map(|c| c.total()).unwrap_or(0.0)
}

pub fn growth_table(all: &[Measured], rows: &[Growth]) -> String {
    let mut out = format!("growth, target flat: <= {FLAT}x from the smallest size to the largest\n{:<34}", "figure");
    for m in all {
        out += &format!(" {:>10}", m.connections);
    }
    out += &format!(" {:>7}  flat\n", "growth");
    for row in rows {
        out += &format!("{:<34}", row.figure);
        for v in &row.values {
            out += &format!(" {v:>10.3}");
        }
        out += &format!(" {:>6.2}x  {}\n", row.growth, if row.flat { "yes" } else { "NO" });
    }
    out
}
