//! Where the server is, which token to send and which workspace to act in:
//! flags, then `CLOUDCONN_*` variables, then — only when neither an address
//! nor a token was given — the dev server's `client.json` in this directory.
//!
//! The token is a secret that can mint cloud credentials, so two rules
//! keep it where the user meant it to go:
//! - a token the user gave (`CLOUDCONN_TOKEN`, `--token-file`) goes only to
//!   an address the user gave: a `client.json` found in whatever directory
//!   the shell is in (a checkout, a download) never chooses its destination;
//! - a `client.json` is trusted only when it is this user's, private, and
//!   names this machine, as the `--dev` server writes it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{args::Global, exit::Failure};

mod address;

pub use address::{is_loopback, plaintext_off_machine};

/// The workspace used against a dev server when none is given: the dev
/// token may act in every workspace, so one has to be picked, and a fixed
/// name keeps `connections list` showing what `connections create` made.
pub const DEV_WORKSPACE: &str = "default";

/// Where `cloudconn-server --dev` keeps its data unless told otherwise.
const DEV_DATA_DIR: &str = ".cloudconn-dev";

/// What every command needs to reach the server.
#[derive(Debug)]
pub struct Config {
    /// `http://…` (plaintext) or `https://…` (TLS).
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
        let token = explicit_token(global)?;
        let addr = global.addr.as_deref().filter(|a| !a.is_empty());
        let (address, token, dev) = match (addr, token) {
            (Some(addr), token) => (address::normalise(addr)?, token, false),
            (None, Some(_)) => {
                return Err(Failure::usage(format!(
                    "a token was given (CLOUDCONN_TOKEN or --token-file) but no server address: pass --addr or set \
                     CLOUDCONN_ADDR (a token you give is never sent to the address in {})",
                    dev_file_path().display()
                )));
            }
            (None, None) => {
                let dev = read_dev_file()?;
                (dev.address, Some(dev.token), true)
            }
        };
        let workspace = match (&global.workspace, dev) {
            (Some(ws), _) => ws.clone(),
            (None, true) => DEV_WORKSPACE.to_owned(),
            (None, false) => {
                return Err(Failure::usage("no workspace: pass --workspace or set CLOUDCONN_WORKSPACE"));
            }
        };
        Ok(Self { address, token, workspace })
    }
}

/// The token the user gave: `--token-file` (or `CLOUDCONN_TOKEN_FILE`),
/// else `CLOUDCONN_TOKEN`. `--token <value>` is refused: argv is readable
/// by every user of the machine (`ps`) and lands in shell history.
fn explicit_token(global: &Global) -> Result<Option<String>, Failure> {
    if global.token.is_some() {
        return Err(Failure::usage(
            "--token is not accepted: a token on the command line shows in `ps` and shell history; set \
             CLOUDCONN_TOKEN or pass --token-file FILE",
        ));
    }
    if let Some(path) = &global.token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("--token-file {}: {e}", path.display())))?;
        let token = text.trim();
        if token.is_empty() {
            return Err(Failure::usage(format!("--token-file {}: the file is empty", path.display())));
        }
        return Ok(Some(token.to_owned()));
    }
    Ok(global.token_variable.clone().filter(|t| !t.is_empty()))
}

fn dev_file_path() -> PathBuf {
    let dir = std::env::var_os("CLOUDCONN_DEV_DATA_DIR").map_or_else(|| PathBuf::from(DEV_DATA_DIR), PathBuf::from);
    dir.join("client.json")
}

fn read_dev_file() -> Result<DevClientFile, Failure> {
    let path = dev_file_path();
    let file = std::fs::File::open(&path).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound { "not found".to_owned() } else { e.to_string() };
        Failure::usage(format!(
            "no server address: pass --addr or set CLOUDCONN_ADDR (no dev server here: {} {why}; \
             `cloudconn-server --dev` writes it)",
            path.display()
        ))
    })?;
    // The opened file's own metadata: the checked file is the one read.
    let meta = file.metadata().map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    check_private(&path, &meta)?;
    let mut dev: DevClientFile = serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|e| Failure::usage(format!("{} is not a dev client file: {e}", path.display())))?;
    dev.address = address::normalise(&dev.address)?;
    if !address::host_of(&dev.address).is_some_and(|host| is_loopback(&host)) {
        return Err(Failure::usage(format!(
            "refusing {}: its address is not on this machine (a dev server's is 127.0.0.1); pass --addr or set \
             CLOUDCONN_ADDR to use another server",
            path.display()
        )));
    }
    Ok(dev)
}

/// `--dev` writes the file 0600 as the user who ran it; anything else was
/// not written by this user's dev server, or others could have changed it.
#[cfg(unix)]
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), Failure> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(Failure::usage(format!(
            "refusing {}: it belongs to another user (uid {}), so it was not written by your dev server; pass \
             --addr or set CLOUDCONN_ADDR",
            path.display(),
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Failure::usage(format!(
            "refusing {}: other users may read or change it (mode {mode:o}); `chmod 600` it if it is your dev \
             server's, or pass --addr or set CLOUDCONN_ADDR",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path, _: &std::fs::Metadata) -> Result<(), Failure> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(addr: Option<&str>, token: Option<&str>) -> Global {
        Global {
            addr: addr.map(str::to_owned),
            token_file: None,
            token: None,
            token_variable: token.map(str::to_owned),
            workspace: None,
            output: None,
        }
    }

    #[test]
    fn an_explicit_address_needs_an_explicit_workspace() {
        assert!(matches!(Config::resolve(&global(Some("http://x:1"), None)), Err(Failure::Usage(_))));
    }

    #[test]
    fn an_explicit_token_needs_an_explicit_address() {
        let Err(Failure::Usage(message)) = Config::resolve(&global(None, Some("t"))) else {
            panic!("a token without an address must be a usage error");
        };
        assert!(message.contains("CLOUDCONN_ADDR") && message.contains("--addr"), "{message}");
    }

    #[test]
    fn a_token_on_the_command_line_is_refused_without_repeating_it() {
        let mut flags = global(Some("http://127.0.0.1:1"), None);
        flags.token = Some("canary-on-argv".into());
        let Err(Failure::Usage(message)) = Config::resolve(&flags) else { panic!("--token must be refused") };
        assert!(message.contains("CLOUDCONN_TOKEN") && message.contains("--token-file"), "{message}");
        assert!(!message.contains("canary-on-argv"));
    }
}
