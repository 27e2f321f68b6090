//! What the CLI prints: tables and key/value views for people, proto3 JSON
//! (the contract's own descriptor, camelCase, enum names) for scripts, and
//! the seed's lower-case words for providers, statuses and states.
//!
//! Tables and key/value views have two layouts ([`Layout`]): aligned, with
//! a header, on a terminal (or with `-o table`); plain when stdout is a
//! pipe or a file (or with `-o plain`): one tab-separated line per row, no
//! header, so `cut -f1` and `awk -F'\t'` need no skipping or splitting on
//! blanks (as `gh` does).

use std::sync::OnceLock;

use cloudconn_proto::v1 as pb;
use comfy_table::{Table, presets::NOTHING};
use prost_reflect::{DescriptorPool, DynamicMessage};

use crate::exit::Failure;

mod when;
use when::{expiry, time, upcoming, utc};

/// `println!` that survives a closed pipe: `cloudconn connections list | head`
/// ends the process quietly (as SIGPIPE ends a C tool) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write_line(format_args!($($arg)*)) };
}
pub(crate) use out;

pub fn write_line(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing the output: {e}");
        std::process::exit(1);
    }
}

/// `PROVIDER_MONGODB_ATLAS` → `mongodb_atlas`.
pub fn provider_word(provider: pb::Provider) -> String {
    word(provider.as_str_name(), "PROVIDER_")
}

/// `CONNECTION_STATUS_ACTIVE` → `active`.
pub fn status_word(status: pb::ConnectionStatus) -> String {
    word(status.as_str_name(), "CONNECTION_STATUS_")
}

/// `VALIDATION_STATE_SUCCEEDED` → `succeeded`.
pub fn state_word(state: pb::ValidationState) -> String {
    word(state.as_str_name(), "VALIDATION_STATE_")
}

/// `VALIDATION_TRIGGER_SCHEDULED` → `scheduled`.
pub fn trigger_word(trigger: pb::ValidationTrigger) -> String {
    word(trigger.as_str_name(), "VALIDATION_TRIGGER_")
}

fn word(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_lowercase()
}

/// Prints `message` (of proto type `full_name`) as pretty proto3 JSON.
pub fn print_json<M: prost::Message>(message: &M, full_name: &str) -> Result<(), Failure> {
    out!("{}", to_json(message, full_name, true)?);
    Ok(())
}

/// One line of proto3 JSON (for streams: one event per line).
pub fn print_json_line<M: prost::Message>(message: &M, full_name: &str) -> Result<(), Failure> {
    out!("{}", to_json(message, full_name, false)?);
    Ok(())
}

fn to_json<M: prost::Message>(message: &M, full_name: &str, pretty: bool) -> Result<String, Failure> {
    // Re-decoding through the descriptor gives the exact proto3 JSON mapping
    // (json_name camelCase, enum names, int64 as strings, Timestamp as RFC
    // 3339) without hand-written serde for each generated type.
    let pool = DescriptorPool::decode(cloudconn_proto::FILE_DESCRIPTOR_SET)
        .map_err(|e| Failure::Other(format!("descriptor set: {e}")))?;
    let descriptor =
        pool.get_message_by_name(full_name).ok_or_else(|| Failure::Other(format!("no message {full_name}")))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .map_err(|e| Failure::Other(format!("re-decoding {full_name}: {e}")))?;
    let text = if pretty { serde_json::to_string_pretty(&dynamic) } else { serde_json::to_string(&dynamic) };
    text.map_err(|e| Failure::Other(format!("JSON: {e}")))
}

/// How tables and key/value views are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Columns aligned with blanks, tables with an upper-case header.
    Aligned,
    /// `cell<TAB>cell` rows without a header, `key<TAB>value` lines.
    Plain,
}

static LAYOUT: OnceLock<Layout> = OnceLock::new();

/// Chosen once, in `main`, before anything prints.
pub fn set_layout(layout: Layout) {
    let _ = LAYOUT.set(layout);
}

fn layout() -> Layout {
    LAYOUT.get().copied().unwrap_or(Layout::Aligned)
}

fn print_lines(lines: Vec<String>) {
    for line in lines {
        out!("{line}");
    }
}

/// A cell of a plain line: a tab or a line break inside it would read as
/// a new column or row, so each becomes a blank.
fn plain_cell(cell: &str) -> String {
    cell.replace(['\t', '\n', '\r'], " ")
}

fn render_table(layout: Layout, header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    match layout {
        Layout::Plain => {
            rows.iter().map(|row| row.iter().map(|c| plain_cell(c)).collect::<Vec<_>>().join("\t")).collect()
        }
        Layout::Aligned => {
            let mut table = Table::new();
            table.load_preset(NOTHING).set_header(header.iter().map(|h| h.to_uppercase()));
            for row in rows {
                table.add_row(row);
            }
            // comfy-table pads every line to the column widths; trailing
            // blanks only get in the way of `grep`/`awk`. The preset pads
            // every cell by one blank on each side: drop the outer ones so
            // the first column starts at the margin.
            table.to_string().lines().map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned()).collect()
        }
    }
}

pub fn providers_table(providers: &[pb::ProviderSpec]) {
    let rows: Vec<Vec<String>> = providers
        .iter()
        .map(|p| {
            let fields: Vec<String> =
                p.fields.iter().map(|f| if f.secret { format!("{}*", f.name) } else { f.name.clone() }).collect();
            vec![provider_word(p.provider()), p.display_name.clone(), p.scopes.join(","), fields.join(" ")]
        })
        .collect();
    print_lines(render_table(layout(), &["provider", "name", "scopes", "fields (* secret)"], &rows));
}

pub fn connections_table(connections: &[pb::Connection]) {
    let rows: Vec<Vec<String>> = connections
        .iter()
        .map(|c| {
            vec![
                c.tag.clone(),
                provider_word(c.provider()),
                status_word(c.status()),
                c.scopes.join(","),
                c.credentials.as_ref().map_or_else(|| "-".to_owned(), revision),
                c.display_name.clone(),
            ]
        })
        .collect();
    let header = ["tag", "provider", "status", "scopes", "revision", "display name"];
    print_lines(render_table(layout(), &header, &rows));
}

/// `2 (active 1)`: the latest saved revision, and the one in use.
fn revision(view: &pb::CredentialsView) -> String {
    match (view.revision, view.active_revision) {
        (0, _) => "-".into(),
        (latest, 0) => format!("{latest} (none active)"),
        (latest, active) if latest == active => format!("{latest}"),
        (latest, active) => format!("{latest} (active {active})"),
    }
}

/// One connection, every field a person may need, one per line.
pub fn connection_view(c: &pb::Connection) {
    let mut rows: Vec<(&str, String)> = vec![
        ("tag", c.tag.clone()),
        ("workspace", c.workspace.clone()),
        ("provider", provider_word(c.provider())),
        ("status", status_word(c.status())),
        ("display name", c.display_name.clone()),
        ("description", c.description.clone()),
        ("scopes", c.scopes.join(", ")),
    ];
    if !c.external_id.is_empty() {
        rows.push(("external id", c.external_id.clone()));
    }
    if let Some(view) = &c.credentials {
        rows.push(("revision", revision(view)));
        for (name, value) in sorted(&view.fields) {
            rows.push(("field", format!("{name} = {value}")));
        }
        if !view.secret_fields_set.is_empty() {
            rows.push(("secrets set", view.secret_fields_set.join(", ")));
        }
    }
    rows.push(("etag", c.etag.clone()));
    rows.push(("created", time(c.create_time.as_ref())));
    rows.push(("updated", time(c.update_time.as_ref())));
    rows.push(("next validation", next_validation(c)));
    print_rows(&rows);
    if let Some(v) = &c.last_validation {
        // A blank line between the two on a terminal; plain output stays
        // `key<TAB>value` lines only.
        if layout() == Layout::Aligned {
            out!("");
        }
        validation_view(v);
    }
}

/// A validation: state, then the error in plain words, scope checks,
/// identity found and warnings.
pub fn validation_view(v: &pb::Validation) {
    let attempts = if v.attempts == 1 { "1 attempt".to_owned() } else { format!("{} attempts", v.attempts) };
    let mut rows: Vec<(&str, String)> =
        vec![("validation", format!("{} (revision {}, {attempts})", state_word(v.state()), v.revision))];
    // Unspecified: a validation recorded before triggers were.
    if v.trigger() != pb::ValidationTrigger::Unspecified {
        rows.push(("trigger", trigger_word(v.trigger())));
    }
    if let Some(e) = &v.error {
        rows.push(("error", e.code.clone()));
        rows.push(("message", e.message.clone()));
        rows.push(("hint", e.hint.clone()));
        if e.retryable {
            rows.push(("retryable", "yes: trying again later may succeed without a change".into()));
        }
        if !e.missing_permissions.is_empty() {
            rows.push(("missing", e.missing_permissions.join(", ")));
        }
    }
    for check in &v.scope_checks {
        let verdict = if check.granted {
            "granted".to_owned()
        } else {
            format!("missing {}", check.missing_permissions.join(", "))
        };
        rows.push(("scope", format!("{}: {verdict}", check.scope)));
    }
    for (key, value) in sorted(&v.identity) {
        if key == CREDENTIAL_EXPIRE_TIME {
            rows.push(("credential expires", expiry(value, chrono::Utc::now())));
        } else {
            rows.push(("identity", format!("{key} = {value}")));
        }
    }
    for warning in &v.warnings {
        rows.push(("warning", warning.clone()));
    }
    if v.end_time.is_some() {
        rows.push(("ended", time(v.end_time.as_ref())));
    }
    print_rows(&rows);
}

/// Where a validation left its connection: a sentence on a terminal,
/// `connection` and `status` lines when plain.
pub fn connection_status(c: &pb::Connection) {
    let next = next_validation(c);
    match layout() {
        Layout::Aligned if next.is_empty() => out!("connection {} is {}", c.tag, status_word(c.status())),
        Layout::Aligned => {
            out!("connection {} is {}; next scheduled validation {next}", c.tag, status_word(c.status()))
        }
        Layout::Plain => {
            print_rows(&[("connection", c.tag.clone()), ("status", status_word(c.status())), ("next validation", next)])
        }
    }
}

/// `time  type  tag  status` for one watched event (tab-separated when plain).
pub fn event_line(e: &pb::ConnectionEvent) {
    let kind = e.r#type.strip_prefix("cloudconn.connection.").and_then(|t| t.strip_suffix(".v1")).unwrap_or(&e.r#type);
    let (tag, status) = e.connection.as_ref().map(|c| (c.tag.clone(), status_word(c.status()))).unwrap_or_default();
    let time = time(e.time.as_ref());
    match layout() {
        Layout::Aligned => out!("{time}  {kind:<20} {tag:<24} {status}"),
        Layout::Plain => out!("{time}\t{kind}\t{}\t{status}", plain_cell(&tag)),
    }
}

/// Key/value lines: `key  value` with the keys padded to one width, or
/// `key<TAB>value`. Rows with an empty value are left out.
fn print_rows(rows: &[(&str, String)]) {
    print_lines(render_rows(layout(), rows));
}

fn render_rows(layout: Layout, rows: &[(&str, String)]) -> Vec<String> {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let shown = rows.iter().filter(|(_, v)| !v.is_empty());
    match layout {
        Layout::Aligned => shown.map(|(key, value)| format!("{key:<width$}  {value}")).collect(),
        Layout::Plain => shown.map(|(key, value)| format!("{key}\t{}", plain_cell(value))).collect(),
    }
}

fn sorted(map: &std::collections::HashMap<String, String>) -> Vec<(&String, &String)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort();
    entries
}

/// The identity key under which a provider's answer says when the
/// credential stops working (an RFC 3339 time).
const CREDENTIAL_EXPIRE_TIME: &str = "credential_expire_time";

/// When the schedule validates `c` again; empty when it is not scheduled.
fn next_validation(c: &pb::Connection) -> String {
    c.next_validation_time.as_ref().and_then(utc).map(|at| upcoming(at, chrono::Utc::now())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_print_as_the_seeds_words() {
        assert_eq!(provider_word(pb::Provider::MongodbAtlas), "mongodb_atlas");
        assert_eq!(provider_word(pb::Provider::Neo4jAura), "neo4j_aura");
        assert_eq!(status_word(pb::ConnectionStatus::Active), "active");
        assert_eq!(state_word(pb::ValidationState::Succeeded), "succeeded");
        assert_eq!(trigger_word(pb::ValidationTrigger::Scheduled), "scheduled");
    }

    #[test]
    fn plain_tables_are_tab_separated_rows_without_a_header() {
        let rows = vec![
            vec!["prod_aws".to_owned(), "aws".to_owned(), "Production AWS".to_owned()],
            vec!["b".to_owned(), "gcp".to_owned(), "tab\there\nand a line".to_owned()],
        ];
        assert_eq!(
            render_table(Layout::Plain, &["tag", "provider", "display name"], &rows),
            ["prod_aws\taws\tProduction AWS", "b\tgcp\ttab here and a line"]
        );
        let aligned = render_table(Layout::Aligned, &["tag", "provider", "display name"], &rows[..1]);
        assert_eq!(aligned[0].split_whitespace().collect::<Vec<_>>(), ["TAG", "PROVIDER", "DISPLAY", "NAME"]);
        assert!(aligned[1].starts_with("prod_aws ") && !aligned[1].ends_with(' '), "{aligned:?}");
    }

    #[test]
    fn plain_views_are_key_tab_value_lines() {
        let rows = [("tag", "prod_aws".to_owned()), ("description", String::new()), ("display name", "A B".into())];
        assert_eq!(render_rows(Layout::Plain, &rows), ["tag\tprod_aws", "display name\tA B"]);
        assert_eq!(render_rows(Layout::Aligned, &rows), ["tag           prod_aws", "display name  A B"]);
    }

    #[test]
    fn json_is_proto3_json() {
        let c = pb::Connection {
            tag: "prod_aws".into(),
            display_name: "Prod".into(),
            status: pb::ConnectionStatus::Active.into(),
            ..Default::default()
        };
        let json: serde_json::Value =
            serde_json::from_str(&to_json(&c, "cloudconn.v1.Connection", false).expect("json")).expect("parses");
        assert_eq!(json["displayName"], "Prod");
        assert_eq!(json["status"], "CONNECTION_STATUS_ACTIVE");
    }
}
