//! The configuration's documentation cannot drift: what `--help` prints
//! (`infra/src/variables.rs`), the configuration tables of
//! docs/configuration.md, and the names the configuration code reads all
//! list the same variables.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use cloudconn_infra::variables::{self, Reader, VARIABLES};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn is_variable(name: &str) -> bool {
    (name.starts_with("CLOUDCONN_") || name.starts_with("OTEL_") || name == "RUST_LOG") && !name.ends_with('_')
}

/// The backticked variable names in a table cell.
fn names(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).filter(|n| is_variable(n)).map(str::to_owned).collect()
}

#[test]
fn the_docs_document_exactly_the_variables_help_lists() {
    let doc = std::fs::read_to_string(repo("docs/configuration.md")).expect("docs/configuration.md");
    let start = doc.find("## Variables").expect("a Variables section");
    let end = start + doc[start..].find("## Vault policies").expect("followed by Vault policies");
    let mut documented = BTreeSet::new();
    for row in doc[start..end].lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (first, default) = (cells[1], cells.get(2).copied().unwrap_or_default());
        for name in names(first) {
            if let Some(v) = VARIABLES.iter().find(|v| v.name == name) {
                assert!(
                    v.default.is_empty() || default.contains(v.default),
                    "docs/configuration.md gives {name} the default {default:?}; --help says {:?}",
                    v.default
                );
            }
            documented.insert(name);
        }
    }
    let listed: BTreeSet<String> = VARIABLES.iter().map(|v| v.name.to_owned()).collect();
    assert_eq!(documented, listed, "docs/configuration.md's tables and infra/src/variables.rs differ");
}

#[test]
fn every_variable_the_code_reads_is_listed_and_every_listed_one_is_read() {
    fn scan(dir: &Path, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("source dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                scan(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("variables.rs") {
                let text = std::fs::read_to_string(&path).expect("source file");
                for (i, _) in text.match_indices("CLOUDCONN_") {
                    let name: String = text[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                        .collect();
                    if is_variable(&name) {
                        found.insert(name);
                    }
                }
            }
        }
    }
    let mut read = BTreeSet::new();
    for dir in ["infra/src", "server/src", "worker/src"] {
        scan(&repo(dir), &mut read);
    }
    // The `_FILE` forms are derived from one list in the loader.
    for key in cloudconn_infra::config::SECRET_FILE_KEYS {
        read.insert(format!("CLOUDCONN_{}_FILE", key.to_uppercase()));
    }
    let listed: BTreeSet<String> =
        VARIABLES.iter().map(|v| v.name.to_owned()).filter(|n| n.starts_with("CLOUDCONN_")).collect();
    let unlisted: Vec<_> = read.difference(&listed).collect();
    assert!(unlisted.is_empty(), "read by the code but missing from --help: {unlisted:?}");
    let unread: Vec<_> = listed.difference(&read).collect();
    assert!(unread.is_empty(), "listed by --help but never mentioned by the code: {unread:?}");
}

#[test]
fn help_lists_each_binarys_variables_with_their_defaults() {
    let server = variables::help("usage: cloudconn-server", Reader::Server);
    assert!(server.contains("CLOUDCONN_LISTEN [default: 127.0.0.1:50051]"), "{server}");
    assert!(server.contains("CLOUDCONN_VAULT_ADDR") && !server.contains("CLOUDCONN_PROBE_ATTEMPTS"));
    let worker = variables::help("usage: cloudconn-worker", Reader::Worker);
    assert!(worker.contains("CLOUDCONN_PROBE_ATTEMPTS [default: 3]"), "{worker}");
    assert!(worker.contains("CLOUDCONN_AMQP_URL") && !worker.contains("CLOUDCONN_LISTEN"));
}

#[test]
fn the_documented_example_session_is_the_one_the_test_command_runs() {
    let doc = std::fs::read_to_string(repo("docs/example-session.md")).expect("docs/example-session.md");
    let script = std::fs::read_to_string(repo("deploy/example-session.sh")).expect("the example session script");
    let start = doc.find("# Example session").expect("an example session");
    let block = &doc[start..];
    let block = &block[block.find("```sh").expect("a shell block")..];
    let block = &block[..block[5..].find("```").expect("closed") + 5];
    let mut steps = 0;
    for line in block.lines() {
        // Each command as the doc shows it (comments after `#` aside).
        let command = line.split("  #").next().unwrap_or_default().trim_end().trim_end_matches(" &").trim_end();
        if command.starts_with("cc ") || command.starts_with("grpcurl ") || command.starts_with("cc() ") {
            let call = command.split(" -max-time").next().unwrap_or(command);
            assert!(script.contains(call.trim_end()), "step not in deploy/example-session.sh: {command}");
            steps += 1;
        }
    }
    assert!(steps >= 15, "docs/example-session.md has {steps} steps");
}
