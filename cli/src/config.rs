//! Where the server is, which token to send and which workspace to act in:
//! flags, then `CLOUDCONN_*` variables (clap reads both), then the dev
//! server's `client.json` in this directory.

use std::path::PathBuf;

use serde::Deserialize;

use crate::{args::Global, exit::Failure};

/// The workspace used against a dev server when none is given: the dev
/// token may act in every workspace, so one has to be picked, and a fixed
/// name keeps `connections list` showing what `connections create` made.
pub const DEV_WORKSPACE: &str = "default";

/// Where `cloudconn-server --dev` keeps its data unless told otherwise.
const DEV_DATA_DIR: &str = ".cloudconn-dev";

/// What every command needs to reach the server.
#[derive(Debug)]
pub struct Config {
    /// `http://…` or `https://…` (TLS).
    pub address: String,
    /// Sent as `authorization: Bearer …`; none: the server decides.
    pub token: Option<String>,
    pub workspace: String,
}

/// The file `--dev` writes at start (mode 600): its address and dev token.
#[derive(Debug, Deserialize)]
struct DevClientFile {
    address: String,
    token: String,
}

impl Config {
    pub fn resolve(global: &Global) -> Result<Self, Failure> {
        let (address, token, dev) = match &global.addr {
            Some(addr) => (normalise(addr), global.token.clone(), false),
            None => {
                let dev = read_dev_file()?;
                // A token given explicitly wins over the dev token; the dev
                // token is only ever sent to the dev server it came from.
                (dev.address, Some(global.token.clone().unwrap_or(dev.token)), true)
            }
        };
        let workspace = match (&global.workspace, dev) {
            (Some(ws), _) => ws.clone(),
            (None, true) => DEV_WORKSPACE.to_owned(),
            (None, false) => {
                return Err(Failure::usage("no workspace: pass --workspace or set CLOUDCONN_WORKSPACE"));
            }
        };
        Ok(Self { address, token: token.filter(|t| !t.is_empty()), workspace })
    }
}

/// `127.0.0.1:50051` means plaintext on that address, as grpcurl's
/// `-plaintext` would; a scheme given is kept.
fn normalise(addr: &str) -> String {
    if addr.contains("://") { addr.to_owned() } else { format!("http://{addr}") }
}

fn dev_file_path() -> PathBuf {
    let dir = std::env::var_os("CLOUDCONN_DEV_DATA_DIR").map_or_else(|| PathBuf::from(DEV_DATA_DIR), PathBuf::from);
    dir.join("client.json")
}

fn read_dev_file() -> Result<DevClientFile, Failure> {
    let path = dev_file_path();
    let bytes = std::fs::read(&path).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound { "not found".to_owned() } else { e.to_string() };
        Failure::usage(format!(
            "no server address: pass --addr or set CLOUDCONN_ADDR (no dev server here: {} {why}; \
             `cloudconn-server --dev` writes it)",
            path.display()
        ))
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Failure::usage(format!("{} is not a dev client file: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_host_and_port_means_plaintext() {
        assert_eq!(normalise("127.0.0.1:50051"), "http://127.0.0.1:50051");
        assert_eq!(normalise("https://cc.example.com"), "https://cc.example.com");
    }

    #[test]
    fn an_explicit_address_needs_an_explicit_workspace() {
        let global = Global { addr: Some("http://x:1".into()), token: None, workspace: None, output: None };
        assert!(matches!(Config::resolve(&global), Err(Failure::Usage(_))));
    }
}
