//! `--dev`: the same API with no outside services, secrets encrypted on disk.

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{app::TestApp, fixtures};

use crate::helpers::*;

#[tokio::test]
async fn dev_mode_runs_the_lifecycle_for_every_provider_without_vault() {
    let app = TestApp::builder().dev().spawn().await;
    let canary = format!("CANARY{}", uuid::Uuid::new_v4().simple());
    for provider in fixtures::ALL_PROVIDERS {
        let tag = format!("d_{}", provider.as_str_name().to_lowercase());
        create(&app, "dev", &tag, provider).await;
        let done = complete(&app, "dev", &tag, fixtures::credentials(provider, &canary)).await.unwrap();
        assert_eq!(done.credentials.unwrap().revision, 1);
        // Blank fields keep the values stored in the dev store.
        let again = complete(&app, "dev", &tag, fixtures::blank(provider)).await.unwrap();
        assert_eq!(again.credentials.unwrap().revision, 2);
    }
    let list = app
        .client
        .clone()
        .list_connections(pb::ListConnectionsRequest { workspace: "dev".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.connections.len(), 5);
    // The dev store never writes the plaintext to disk.
    let dir = app.dev_data_dir().unwrap();
    for file in walk(&dir) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(&canary), "{} holds a secret", file.display());
    }
    for c in list.connections {
        app.client
            .clone()
            .delete_connection(pb::DeleteConnectionRequest { workspace: "dev".into(), tag: c.tag, etag: String::new() })
            .await
            .unwrap();
    }
    assert_eq!(app.pending_purges().await, 0, "dev store deletes are immediate");
    app.finish().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

#[tokio::test]
async fn dev_mode_validates_in_process() {
    let app = TestApp::builder().dev().spawn().await;
    create(&app, "dev", "azure_main", pb::Provider::Azure).await;
    complete(&app, "dev", "azure_main", fixtures::azure("good")).await.unwrap();
    let validate = |wait: u64| pb::ValidateConnectionRequest {
        workspace: "dev".into(),
        tag: "azure_main".into(),
        wait: Some(prost_types::Duration { seconds: i64::try_from(wait).unwrap(), nanos: 0 }),
    };
    let done = app.client.clone().validate_connection(validate(10)).await.unwrap().into_inner();
    assert_eq!(done.validation.unwrap().state(), pb::ValidationState::Succeeded);
    assert_eq!(done.connection.unwrap().status(), pb::ConnectionStatus::Active);

    complete(&app, "dev", "azure_main", fixtures::azure("bad")).await.unwrap();
    let failed = app.client.clone().validate_connection(validate(10)).await.unwrap().into_inner();
    assert_eq!(failed.validation.unwrap().error.unwrap().code, "INVALID_CREDENTIALS");
    assert_eq!(failed.connection.unwrap().status(), pb::ConnectionStatus::Active, "still on revision 1");
    app.finish().await;
}

/// `cloudconn-server --dev` as `main` runs it: `App::build` first thing in a
/// fresh process (nextest runs each test in its own), the printed dev token
/// accepted, a call without it refused.
#[tokio::test]
async fn the_dev_entry_point_serves_with_its_printed_token() {
    use cloudconn_server::{config::ServerConfig, startup::App};
    use cloudconn_tests::harness::auth::Bearer;
    use tonic::transport::Channel;

    let dir = std::env::temp_dir().join(format!("cc-dev-entry-{}", uuid::Uuid::new_v4().simple()));
    let source =
        cloudconn_infra::config::Source::load(None, [("CLOUDCONN_DEV_DATA_DIR".to_owned(), dir.display().to_string())])
            .unwrap();
    let config = ServerConfig::from_source(&source).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = App::build(&config, cloudconn_server::config::Mode::Dev, listener).await.unwrap();
    let (addr, token) = (app.local_addr(), app.dev_token.clone().expect("a dev token"));
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(app.run(stop.clone()));

    let channel = Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    let mut with =
        pb::connection_service_client::ConnectionServiceClient::with_interceptor(channel.clone(), Bearer::new(&token));
    let providers = with.list_providers(pb::ListProvidersRequest {}).await.unwrap().into_inner();
    assert_eq!(providers.providers.len(), 5);
    let mut without = pb::connection_service_client::ConnectionServiceClient::new(channel);
    let err = without.list_providers(pb::ListProvidersRequest {}).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);

    stop.cancel();
    server.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// The dev keys sign every token and encrypt every secret (review L2).
#[tokio::test]
async fn dev_keys_are_private_and_a_key_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::builder().dev().spawn().await;
    let dir = app.dev_data_dir().unwrap();
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "the data directory is private");
    assert_eq!(mode(&dir.join("auth.key")), 0o600);
    assert_eq!(mode(&dir.join("secret.key")), 0o600);
    app.finish().await;

    // A planted key anyone may read (or replace) is not trusted.
    let planted = std::env::temp_dir().join(format!("cc_dev_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&planted).unwrap();
    std::fs::write(planted.join("auth.key"), "0".repeat(64)).unwrap();
    std::fs::set_permissions(planted.join("auth.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = cloudconn_server::dev::auth::dev_auth(&planted).expect_err("a world-readable key is refused");
    assert!(refused.to_string().contains("chmod 600"), "{refused}");
    std::fs::remove_dir_all(&planted).unwrap();
}

/// Clients on this machine (the CLI) find the dev server and its token in
/// the data directory: the file names the listening address, carries a
/// token that works, and is private to this user.
#[tokio::test]
async fn dev_mode_tells_local_clients_where_it_is_in_a_private_file() {
    use cloudconn_tests::harness::auth::Bearer;
    let app = TestApp::builder().dev().spawn().await;
    let path = app.dev_data_dir().unwrap().join("client.json");
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(file["address"], format!("http://{}", app.addr));
    let token = file["token"].as_str().unwrap();
    let list = app
        .client_with(Bearer::new(token))
        .list_connections(pb::ListConnectionsRequest { workspace: "dev".into(), ..Default::default() })
        .await;
    assert!(list.is_ok(), "the file's token works: {list:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    app.finish().await;
}

/// `cloudconn-server --dev` as a user starts it, in a shell that carries a
/// `CLOUDCONN_DATABASE_URL` (review N11): refused, naming the variable and
/// `--dev-database`, with the database untouched; with `--dev-database` it
/// runs on that database and says so; without the variable it names its
/// own SQLite file.
#[tokio::test]
async fn dev_refuses_an_inherited_database_url_unless_told_and_says_which_database_it_uses() {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, BufReader};

    let dir = std::env::temp_dir().join(format!("cc-dev-db-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let shared = dir.join("shared.db");
    let url = format!("sqlite://{}?mode=rwc", shared.display());
    let server = |args: &[&str], database: Option<&str>| {
        let mut command = tokio::process::Command::new(built_binary("cloudconn-server"));
        command
            .args(args)
            .env("CLOUDCONN_DEV_DATA_DIR", dir.join("dev"))
            .env("CLOUDCONN_LISTEN", "127.0.0.1:0")
            .env_remove("CLOUDCONN_DATABASE_URL")
            .env_remove("CLOUDCONN_DATABASE_URL_FILE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = database {
            command.env("CLOUDCONN_DATABASE_URL", url);
        }
        command
    };
    // The line of the banner that names the database, once the server is up.
    async fn database_line(mut command: tokio::process::Command) -> String {
        let mut child = command.spawn().expect("spawn cloudconn-server");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                if let Some(rest) = line.strip_prefix("database: ") {
                    return rest.to_owned();
                }
            }
            panic!("the server ended without naming its database");
        })
        .await
        .expect("the banner within 60 s");
        child.kill().await.ok();
        line
    }

    let refused = tokio::time::timeout(std::time::Duration::from_secs(30), server(&["--dev"], Some(&url)).output())
        .await
        .expect("--dev must refuse the inherited database at once, not serve on it")
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "--dev with an inherited database must not start: {stderr}");
    assert!(stderr.contains("CLOUDCONN_DATABASE_URL") && stderr.contains("--dev-database"), "{stderr}");
    assert!(!shared.exists(), "the configured database was touched");

    let used = database_line(server(&["--dev", "--dev-database"], Some(&url))).await;
    assert_eq!(used, format!("SQLite file {} (CLOUDCONN_DATABASE_URL, --dev-database)", shared.display()));
    assert!(shared.exists(), "--dev-database runs on the configured database");

    let own = database_line(server(&["--dev"], None)).await;
    assert_eq!(own, format!("the dev SQLite file {}", dir.join("dev/cloudconn.db").display()));

    let production = server(&["--dev-database"], Some(&url)).output().await.unwrap();
    assert!(String::from_utf8_lossy(&production.stderr).contains("--dev-database goes with --dev only"));
    std::fs::remove_dir_all(&dir).ok();
}
