//! Running the built `cloudconn` as a user would: its configuration in
//! `CLOUDCONN_*` variables, its stdout, stderr and exit code captured.

use std::{path::PathBuf, process::Stdio, time::Duration};

use cloudconn_tests::harness::app::TestApp;
use tokio::io::AsyncWriteExt;

use crate::helpers::built_binary;

/// One finished run of the CLI.
#[derive(Debug)]
pub(super) struct Run {
    pub(super) code: i32,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

impl Run {
    #[track_caller]
    pub(super) fn ok(self) -> Self {
        assert_eq!(self.code, 0, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub(super) fn fails(self, code: i32) -> Self {
        assert_eq!(self.code, code, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    pub(super) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

/// How the CLI is configured for a test: the app's dev data directory
/// (for dev defaults), or an explicit address, token and workspace.
pub(super) struct Cli {
    pub(super) dev_dir: PathBuf,
    pub(super) explicit: Option<(String, String, String)>,
    /// Everything every run printed, for the canary search.
    pub(super) seen: std::sync::Mutex<String>,
}

impl Cli {
    /// Configured through `CLOUDCONN_ADDR`, `CLOUDCONN_TOKEN` and
    /// `CLOUDCONN_WORKSPACE`.
    pub(super) fn explicit(app: &TestApp, workspace: &str) -> Self {
        let dev_dir = app.dev_data_dir().expect("a --dev app");
        let file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dev_dir.join("client.json")).expect("client.json")).expect("json");
        let token = file["token"].as_str().expect("token").to_owned();
        Self {
            dev_dir,
            explicit: Some((format!("http://{}", app.addr), token, workspace.into())),
            seen: Default::default(),
        }
    }

    /// Nothing configured but `CLOUDCONN_DEV_DATA_DIR`, as after
    /// `cloudconn-server --dev` in the same directory.
    pub(super) fn dev_defaults(app: &TestApp) -> Self {
        Self { dev_dir: app.dev_data_dir().expect("a --dev app"), explicit: None, seen: Default::default() }
    }

    pub(super) fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(built_binary("cloudconn"));
        command
            .args(args)
            .env_remove("CLOUDCONN_ADDR")
            .env_remove("CLOUDCONN_TOKEN")
            .env_remove("CLOUDCONN_WORKSPACE")
            .env_remove("CLOUDCONN_OUTPUT")
            .env("CLOUDCONN_DEV_DATA_DIR", &self.dev_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some((addr, token, workspace)) = &self.explicit {
            command.env("CLOUDCONN_ADDR", addr).env("CLOUDCONN_TOKEN", token).env("CLOUDCONN_WORKSPACE", workspace);
        }
        command
    }

    pub(super) async fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, &[]).await
    }

    pub(super) async fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        self.run_with(args, stdin, &[]).await
    }

    /// Runs with `stdin` piped in (or /dev/null: never a terminal here) and
    /// extra variables. Stdout is a pipe: plain output unless `-o` says.
    pub(super) async fn run_with(&self, args: &[&str], stdin: Option<&str>, vars: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        command.envs(vars.iter().copied());
        self.run_command(command, stdin).await
    }

    /// Runs a command made by [`Cli::command`] and changed by the caller.
    pub(super) async fn run_command(&self, mut command: tokio::process::Command, stdin: Option<&str>) -> Run {
        command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let mut child = command.spawn().expect("spawn cloudconn");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(text.as_bytes()).await.expect("write stdin");
        }
        let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
            .await
            .expect("cloudconn finishes")
            .expect("cloudconn ran");
        let run = Run {
            code: out.status.code().expect("exited, not killed"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        let mut seen = self.seen.lock().expect("lock");
        seen.push_str(&run.stdout);
        seen.push_str(&run.stderr);
        run
    }

    #[track_caller]
    pub(super) fn assert_never_printed(&self, canary: &str) {
        let seen = self.seen.lock().expect("lock");
        assert!(!seen.is_empty() && !seen.contains(canary), "a secret value appeared in the CLI's output");
    }
}

/// The row of `tag` in plain `list` output (what a pipe gets: no header,
/// tab-separated), split into its columns.
pub(super) fn row<'a>(table: &'a str, tag: &str) -> Vec<&'a str> {
    let line = table.lines().find(|l| l.split('\t').next() == Some(tag));
    line.unwrap_or_else(|| panic!("no row for {tag} in\n{table}")).split('\t').collect()
}

/// Whether plain output has the line `key<TAB>value`.
pub(super) fn has_line(text: &str, [key, value]: [&str; 2]) -> bool {
    text.lines().any(|l| l.split_once('\t') == Some((key, value)))
}

/// Whether a line of `text` has exactly these words (aligned output pads
/// its columns with blanks).
pub(super) fn has_words(text: &str, words: &[&str]) -> bool {
    text.lines().any(|l| l.split_whitespace().eq(words.iter().copied()))
}
