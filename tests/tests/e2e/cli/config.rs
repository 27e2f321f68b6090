//! Where the CLI sends its token, proved with listeners that record every
//! byte they are sent: a token the user gave never goes to the address of a
//! `.cloudconn-dev/client.json` found in the working directory; that file is
//! used only when it is the user's, private and local; a bare `host:port`
//! gets TLS unless its host is loopback as written; the token never comes
//! from argv.

use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use cloudconn_tests::harness::app::TestApp;
use tokio::{io::AsyncReadExt, net::TcpListener};

use super::harness::{Cli, Run};

/// A TCP listener that answers nothing and keeps what each connection sent.
struct Recorder {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    async fn on(ip: IpAddr) -> Self {
        let listener = TcpListener::bind((ip, 0)).await.expect("bind the recorder");
        let addr = listener.local_addr().expect("its address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let keep = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let keep = keep.clone();
                tokio::spawn(async move {
                    // Until the client pauses for 300 ms (its first bytes
                    // may take longer on a loaded machine).
                    let mut bytes = Vec::new();
                    let mut buf = [0u8; 16_384];
                    let mut wait = Duration::from_secs(5);
                    while let Ok(Ok(n @ 1..)) = tokio::time::timeout(wait, socket.read(&mut buf)).await {
                        bytes.extend_from_slice(&buf[..n]);
                        wait = Duration::from_millis(300);
                    }
                    keep.lock().expect("lock").push(bytes);
                });
            }
        });
        Self { addr, received, task }
    }

    /// What each connection sent, once the connections have been read.
    async fn connections(&self) -> Vec<Vec<u8>> {
        tokio::time::sleep(Duration::from_millis(700)).await;
        self.received.lock().expect("lock").clone()
    }

    async fn assert_untouched(&self, why: &str) {
        let seen = self.connections().await;
        assert!(seen.is_empty(), "{why}: {} connection(s) reached {}", seen.len(), self.addr);
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A name for this machine that the CLI cannot tell is loopback (it reads
/// the host as written and never resolves it) but that resolves to loopback
/// only: a listener on its address stands for "a server elsewhere" while
/// every byte stays on this machine. Debian's /etc/hosts maps the hostname
/// to 127.0.1.1. Without such a name this test fails rather than fall back
/// to an address off loopback, which tests must not send to.
fn loopback_alias() -> (String, IpAddr) {
    use std::net::ToSocketAddrs;
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("this machine's hostname").trim().to_owned();
    let resolved: Vec<IpAddr> =
        (name.as_str(), 0).to_socket_addrs().map(|a| a.map(|a| a.ip()).collect()).unwrap_or_default();
    assert!(
        !name.eq_ignore_ascii_case("localhost")
            && name.parse::<IpAddr>().is_err()
            && !resolved.is_empty()
            && resolved.iter().all(IpAddr::is_loopback),
        "this test needs the hostname to be a name other than localhost that resolves to loopback only, as \
         Debian's /etc/hosts line `127.0.1.1 {name}` makes it; {name:?} resolves to {resolved:?}"
    );
    (name, resolved[0])
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A directory holding `.cloudconn-dev/client.json` as `--dev` writes it
/// (or as someone planted it), with `mode`.
fn dev_dir_with(address: &str, mode: u32) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("cc_cli_cwd_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join(".cloudconn-dev")).expect("dir");
    let file = dir.join(".cloudconn-dev/client.json");
    let body = serde_json::json!({ "address": address, "token": "planted-dev-token" }).to_string();
    std::fs::write(&file, body).expect("write client.json");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).expect("chmod");
    (dir, file)
}

/// The CLI run in `cwd` with nothing configured but `vars` (no
/// `CLOUDCONN_DEV_DATA_DIR`: the working directory's `.cloudconn-dev`).
async fn run_in(cwd: &Path, args: &[&str], vars: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let cli = Cli { dev_dir: cwd.join(".cloudconn-dev"), explicit: None, seen: Default::default() };
    let mut command = cli.command(args);
    command.env_remove("CLOUDCONN_DEV_DATA_DIR").env_remove("CLOUDCONN_TOKEN_FILE").current_dir(cwd);
    command.envs(vars.iter().copied());
    cli.run_command(command, stdin).await
}

#[tokio::test]
async fn a_token_the_user_gave_never_goes_to_a_dev_file_found_in_the_working_directory() {
    let canary = format!("REAL-TOKEN-CANARY-{}", uuid::Uuid::new_v4().simple());
    let planted = Recorder::on([127, 0, 0, 1].into()).await;
    // A file that passes every check of its own: this user's, 0600, loopback.
    let (cwd, _) = dev_dir_with(&format!("http://{}", planted.addr), 0o600);
    let token_file = cwd.join("token");
    std::fs::write(&token_file, &canary).expect("token file");
    let creds = cwd.join("creds.json");
    std::fs::write(&creds, serde_json::json!({ "client_secret": format!("secret-{canary}") }).to_string()).unwrap();

    let with_variable = [("CLOUDCONN_TOKEN", canary.as_str())];
    let runs = [
        run_in(&cwd, &["connections", "list"], &with_variable, None).await,
        run_in(&cwd, &["connections", "complete", "az", "--from-file", "creds.json"], &with_variable, None).await,
        run_in(&cwd, &["--token-file", token_file.to_str().unwrap(), "providers"], &[], None).await,
        run_in(&cwd, &["providers"], &[("CLOUDCONN_TOKEN_FILE", token_file.to_str().unwrap())], None).await,
    ];
    for run in runs {
        let run = run.fails(2);
        assert!(run.stderr.contains("CLOUDCONN_ADDR") && run.stderr.contains("--addr"), "{}", run.stderr);
        assert!(!run.stderr.contains(&canary), "the token is never repeated: {}", run.stderr);
    }
    planted.assert_untouched("a token the user gave went to the planted address").await;

    // The listener works: with nothing given, that same file is used, as
    // after `cloudconn-server --dev` in this directory.
    run_in(&cwd, &["providers"], &[], None).await;
    let seen = planted.connections().await;
    assert!(seen.iter().any(|c| c.starts_with(b"PRI * HTTP/2.0")), "the dev file's own token goes to its address");
    assert!(!seen.iter().any(|c| contains(c, &canary)));
    std::fs::remove_dir_all(&cwd).ok();
}

#[tokio::test]
async fn a_dev_file_is_used_only_when_it_is_mine_private_and_local() {
    use std::os::unix::fs::PermissionsExt;
    let local = Recorder::on([127, 0, 0, 1].into()).await;

    let (cwd, file) = dev_dir_with(&format!("http://{}", local.addr), 0o644);
    let readable = run_in(&cwd, &["providers"], &[], None).await.fails(2);
    assert!(readable.stderr.contains("mode 644") && readable.stderr.contains("chmod 600"), "{}", readable.stderr);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o620)).unwrap();
    run_in(&cwd, &["providers"], &[], None).await.fails(2);

    // Another user's file (root may give it away; others cannot, and skip this).
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    match std::os::unix::fs::chown(&file, Some(65_534), None) {
        Ok(()) => {
            let foreign = run_in(&cwd, &["providers"], &[], None).await.fails(2);
            assert!(foreign.stderr.contains("another user (uid 65534)"), "{}", foreign.stderr);
        }
        Err(e) => eprintln!("not checking a file of another user: chown: {e}"),
    }
    local.assert_untouched("a dev file that is not private to this user was used").await;
    std::fs::remove_dir_all(&cwd).ok();

    // A private file naming another machine (a name the CLI does not resolve).
    let (name, ip) = loopback_alias();
    let remote = Recorder::on(ip).await;
    let (cwd, _) = dev_dir_with(&format!("http://{name}:{}", remote.addr.port()), 0o600);
    let away = run_in(&cwd, &["providers"], &[], None).await.fails(2);
    assert!(away.stderr.contains("not on this machine"), "{}", away.stderr);
    remote.assert_untouched("a dev file naming another machine was used").await;
    std::fs::remove_dir_all(&cwd).ok();
}

#[tokio::test]
async fn a_bare_address_gets_tls_unless_it_is_loopback() {
    let canary = format!("REAL-TOKEN-CANARY-{}", uuid::Uuid::new_v4().simple());
    let cwd = std::env::temp_dir();
    let vars = |addr: &str| [("CLOUDCONN_ADDR", addr.to_owned()), ("CLOUDCONN_TOKEN", canary.clone())];
    let run = |addr: String| {
        let vars = vars(&addr);
        let cwd = cwd.clone();
        async move {
            let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
            run_in(&cwd, &["--workspace", "acme", "providers"], &vars, None).await
        }
    };

    // host:port of another machine (a name the CLI does not resolve): a TLS
    // ClientHello (a handshake record, 0x16, TLS 1.x), never an HTTP/2
    // preface with the token.
    let (name, ip) = loopback_alias();
    let remote = Recorder::on(ip).await;
    let tls = run(format!("{name}:{}", remote.addr.port())).await;
    assert_ne!(tls.code, 0, "nothing answers TLS there");
    let seen = remote.connections().await;
    assert!(!seen.is_empty(), "the CLI connected: {}", tls.stderr);
    for bytes in &seen {
        assert_eq!(bytes.get(..2), Some(&[0x16, 0x03][..]), "a TLS handshake first: {:?}", bytes.get(..16));
        assert!(!contains(bytes, &canary), "the token crossed the network in clear");
    }
    assert!(!tls.stderr.contains("without TLS"), "{}", tls.stderr);

    // http:// is plaintext as asked, with a warning naming the host.
    let remote = Recorder::on(ip).await;
    let plain = run(format!("http://{name}:{}", remote.addr.port())).await;
    assert!(remote.connections().await.iter().any(|c| c.starts_with(b"PRI * HTTP/2.0")));
    let warning = format!("warning: the token goes to {name} without TLS");
    assert!(plain.stderr.contains(&warning), "{}", plain.stderr);

    // host:port on loopback: plaintext, no warning (a --dev server).
    let local = Recorder::on([127, 0, 0, 1].into()).await;
    let loopback = run(local.addr.to_string()).await;
    assert!(local.connections().await.iter().any(|c| c.starts_with(b"PRI * HTTP/2.0")));
    assert!(!loopback.stderr.contains("warning"), "{}", loopback.stderr);
}

#[tokio::test]
async fn the_token_comes_from_the_environment_or_a_file_never_from_argv() {
    let app = TestApp::builder().with_provider_sandbox().spawn().await;
    let explicit = Cli::explicit(&app, "acme");
    let (addr, token, _) = explicit.explicit.clone().expect("explicit configuration");
    let cli = Cli { dev_dir: explicit.dev_dir.clone(), explicit: None, seen: Default::default() };
    let vars = [("CLOUDCONN_ADDR", addr.as_str()), ("CLOUDCONN_WORKSPACE", "acme")];

    // On argv: refused before anything is sent, without repeating it.
    let refused = cli.run_with(&["connections", "list", "--token", &token], None, &vars).await.fails(2);
    assert!(
        refused.stderr.contains("CLOUDCONN_TOKEN") && refused.stderr.contains("--token-file"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains(&token));
    let help = cli.run(&["--help"]).await.ok();
    assert!(help.stdout.contains("--token-file") && !help.stdout.contains("--token <"), "{}", help.stdout);

    // From a file (a trailing newline is fine), or from the variable.
    let file = std::env::temp_dir().join(format!("cc_token_{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, format!("{token}\n")).expect("token file");
    let path = file.to_str().expect("utf-8");
    cli.run_with(
        &["connections", "create", "t1", "--provider", "aws", "--scope", "storage"],
        None,
        &[vars[0], vars[1], ("CLOUDCONN_TOKEN_FILE", path)],
    )
    .await
    .ok();
    let listed = cli.run_with(&["--token-file", path, "connections", "list"], None, &vars).await.ok();
    assert!(listed.stdout.starts_with("t1\t"), "{}", listed.stdout);
    cli.run_with(&["connections", "get", "t1"], None, &[vars[0], vars[1], ("CLOUDCONN_TOKEN", &token)]).await.ok();
    // The file wins over the variable.
    cli.run_with(
        &["--token-file", path, "connections", "get", "t1"],
        None,
        &[vars[0], vars[1], ("CLOUDCONN_TOKEN", "not-a-jwt")],
    )
    .await
    .ok();

    let missing = cli.run_with(&["--token-file", "/nonexistent/token", "providers"], None, &vars).await.fails(2);
    assert!(missing.stderr.contains("--token-file /nonexistent/token"), "{}", missing.stderr);
    std::fs::remove_file(&file).ok();
    cli.assert_never_printed(&token);
    app.finish().await;
}
