//! Starting the app a builder describes: its database, broker prefix,
//! Vault prefix and policies, the server, and (in production mode) a worker.

use super::*;

impl TestAppBuilder {
    pub async fn spawn(self) -> TestApp {
        logs::init();
        cloudconn_infra::tls::install_crypto_provider();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let scratch = std::env::temp_dir().join(format!("cc_test_{id}"));
        std::fs::create_dir_all(&scratch).expect("scratch dir");

        if self.joined.is_some() {
            assert!(
                self.backend == Backend::Postgres && self.mode == Mode::Production,
                "only PostgreSQL production apps run as replicas"
            );
        }
        let database = self.joined.as_ref().map(|d| d.database.clone()).or(self.database.clone());
        let (database_url, pg_database) = match self.backend {
            Backend::Postgres if database.is_some() => {
                (with_database(&env::admin_database_url(), database.as_deref().unwrap_or_default()), None)
            }
            Backend::Postgres => {
                let name = format!("cc_test_{id}");
                let admin = Database::connect(env::admin_database_url())
                    .await
                    .expect("connect to PostgreSQL (is the test stack up? deploy/stack.sh up)");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                admin.close().await.ok();
                (with_database(&env::admin_database_url(), &name), Some(name))
            }
            Backend::Sqlite => (format!("sqlite://{}?mode=rwc", scratch.join("cloudconn.db").display()), None),
        };

        let vault_upstream: SocketAddr = env::vault_addr()
            .trim_start_matches("http://")
            .parse()
            .expect("CLOUDCONN_TEST_VAULT_ADDR is http://host:port");
        let vault_proxy =
            if self.vault_proxy { Some(ChaosProxy::start(vault_upstream).await.expect("proxy")) } else { None };
        if self.vault_down_at_start {
            vault_proxy.as_ref().expect("proxy").down();
        }
        let vault_addr = match &vault_proxy {
            Some(p) => format!("http://{}", p.addr()),
            None => env::vault_addr(),
        };
        let vault_prefix = self.joined.as_ref().map_or_else(|| format!("cc_test_{id}"), |d| d.vault_prefix.clone());
        let amqp_proxy = if self.amqp_proxy {
            let upstream: SocketAddr = "127.0.0.1:5672".parse().expect("addr");
            Some(ChaosProxy::start(upstream).await.expect("proxy"))
        } else {
            None
        };
        let amqp_url = match &amqp_proxy {
            Some(p) => env::amqp_url().replace("127.0.0.1:5672", &p.addr().to_string()),
            None => env::amqp_url(),
        };
        let message_keys = self
            .joined
            .as_ref()
            .map_or_else(crate::harness::message_keys::KeyPairs::generate, |d| d.message_keys.clone());
        let amqp_identities =
            self.amqp_identities.clone().or_else(|| self.joined.as_ref().and_then(|d| d.amqp_identities.clone()));
        let amqp_prefix = self.joined.as_ref().map_or_else(|| format!("cc_test_{id}"), |d| d.amqp_prefix.clone());
        let amqp = match &amqp_identities {
            Some((prefix, server_url, _)) => AmqpConfig {
                amqp_url: Some(SecretString::from(server_url.clone())),
                amqp_prefix: prefix.clone(),
                keys: Some(message_keys.server_keys()),
                ..AmqpConfig::default()
            },
            None => AmqpConfig {
                amqp_url: Some(SecretString::from(amqp_url)),
                amqp_prefix,
                keys: Some(message_keys.server_keys()),
                ..AmqpConfig::default()
            },
        };
        let topology = amqp.topology();

        let auth_secret = self.joined.as_ref().map_or_else(
            || format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()),
            |d| d.auth_secret.clone(),
        );
        let auth = match (self.mode, self.auth_disabled) {
            (_, Some(allow_issue)) => {
                AuthConfig { auth_disabled: true, auth_disabled_allow_issue: allow_issue, ..AuthConfig::default() }
            }
            // --dev generates its own key and token.
            (Mode::Dev, None) => AuthConfig::default(),
            // Production requires an audience (and an issuer with a JWKS).
            (Mode::Production, None) => match &self.jwks {
                Some(source) => AuthConfig {
                    auth_jwks: Some(source.clone()),
                    auth_issuer: Some(crate::harness::auth::ISSUER.into()),
                    auth_audience: Some(crate::harness::auth::AUDIENCE.into()),
                    ..AuthConfig::default()
                },
                None => AuthConfig {
                    auth_hs256_secret: Some(SecretString::from(auth_secret.clone())),
                    auth_audience: Some(crate::harness::auth::AUDIENCE.into()),
                    ..AuthConfig::default()
                },
            },
        };
        let tls = self.mtls.then(crate::harness::tls::generate);
        let tls_file = |name: &str, content: &str| {
            let path = scratch.join(name);
            std::fs::write(&path, content).expect("write tls file");
            Some(path)
        };
        let (tls_cert, tls_key, tls_client_ca) = match &tls {
            Some(t) => (
                tls_file("server.crt", &t.server.cert),
                tls_file("server.key", &t.server.key),
                tls_file("ca.crt", &t.ca),
            ),
            None => (None, None, None),
        };
        let config = ServerConfig {
            tls_cert,
            tls_key,
            tls_client_ca,
            auth,
            auth_jwks_refresh_ms: self.jwks_refresh.as_millis() as u64,
            auth_jwks_max_stale_ms: self.jwks_max_stale.as_millis() as u64,
            transport: Default::default(),
            listen: "127.0.0.1:0".into(),
            database_url: Some(SecretString::from(database_url.clone())),
            database_pool_size: 8,
            vault: VaultConfig {
                vault_addr: Some(vault_addr),
                vault_token: Some(SecretString::from(env::vault_token())),
                vault_mount: "secret".into(),
                vault_prefix: vault_prefix.clone(),
                ..VaultConfig::default()
            },
            amqp,
            endpoints: Default::default(),
            providers: self.provider_sandbox.then_some(cloudconn_server::config::Providers::Sandbox),
            // The tests' --dev runs on their own fresh database, on purpose.
            dev_database: self.mode == Mode::Dev,
            timeouts: TimeoutConfig { dependency_timeout_ms: self.dependency_timeout.as_millis() as u64 },
            dev_data_dir: scratch.join("dev"),
            purge_interval_ms: 200,
            outbox_poll_ms: 200,
            cors_origins: self.cors_origins.clone(),
            aws_platform_principal: self.aws_platform_principal.clone(),
            egress_addresses: None,
            workbench: self.workbench,
            issue_max_ttl_ms: 3_600_000,
            issue_timeout_ms: self.issue_timeout.as_millis() as u64,
            issue_cache_entries: self.issue_cache_entries.0,
            issue_cache_entries_per_workspace: self.issue_cache_entries.1,
            issue_row_max_age_ms: self.issue_row_max_age.as_millis() as u64,
            metrics_listen: Some("127.0.0.1:0".into()),
            health_interval_ms: 200,
            validation_deadline_ms: self.validation_deadline.as_millis() as u64,
            revalidate_interval_ms: self.revalidation.0.as_millis() as u64,
            revalidate_rate: self.revalidation.1,
            expiry_warning_ms: 2_592_000_000,
            outbox_retention_ms: self.outbox_retention.as_millis() as u64,
            audit_retention_ms: self.audit_retention.as_millis() as u64,
            watch_idle_ms: self.watch_idle.as_millis() as u64,
            quotas: self.quotas.clone(),
            oidc: Default::default(),
        };
        // Least privilege, as deployed: the project's own policies on this
        // test's prefix. The worker always runs with the read-only one.
        let root = vault_client();
        let (server_policy, worker_policy) = (format!("{vault_prefix}-server"), format!("{vault_prefix}-worker"));
        crate::harness::vault::write_policy(&root, &server_policy, crate::harness::vault::SERVER_POLICY, &vault_prefix)
            .await;
        crate::harness::vault::write_policy(&root, &worker_policy, crate::harness::vault::WORKER_POLICY, &vault_prefix)
            .await;
        let mut config = config;
        if let Some(max_age) = self.oidc {
            config.oidc = crate::harness::vault::oidc_key(&root, &vault_prefix, max_age).await;
        }
        if self.approle {
            let (role_id, secret_id) =
                crate::harness::vault::approle(&root, &vault_prefix, &server_policy, "2s", "4s").await;
            config.vault.vault_token = None;
            config.vault.vault_role_id = Some(SecretString::from(role_id));
            config.vault.vault_secret_id = Some(SecretString::from(secret_id));
        }
        let mut server_token_file = None;
        if self.token_files && !self.approle {
            let path = scratch.join("server-token");
            std::fs::write(&path, format!("{}\n", crate::harness::vault::token_with(&root, &server_policy).await))
                .expect("write token file");
            config.vault.vault_token = None;
            config.vault.vault_token_file = Some(path.clone());
            server_token_file = Some(path);
        }
        let mut worker_config = crate::harness::workers::worker_config(&config);
        let worker_token = crate::harness::vault::token_with(&root, &worker_policy).await;
        let mut worker_token_file = None;
        if self.token_files {
            let path = scratch.join("worker-token");
            std::fs::write(&path, format!("{worker_token}\n")).expect("write token file");
            worker_config.vault.vault_token = None;
            worker_config.vault.vault_token_file = Some(path.clone());
            worker_token_file = Some(path);
        } else {
            worker_config.vault.vault_token = Some(SecretString::from(worker_token));
            worker_config.vault.vault_token_file = None;
        }
        worker_config.vault.vault_role_id = None;
        worker_config.vault.vault_secret_id = None;
        if let Some((_, _, worker_url)) = &amqp_identities {
            worker_config.amqp.amqp_url = Some(SecretString::from(worker_url.clone()));
        }
        worker_config.amqp.keys = Some(message_keys.worker_keys());
        worker_config.probe_timeout_ms = self.probe_timeout.as_millis() as u64;
        if let Some(endpoints) = &self.real_probes {
            worker_config.endpoints = endpoints.clone();
        }
        if self.aws_platform_key.is_some() {
            worker_config.aws_external_id_check = cloudconn_worker::config::ExternalIdCheck::Fail;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (probe, probes) = ScriptedProbe::everywhere();
        let app = if self.provider_sandbox {
            App::build(&config, self.mode, listener).await.expect("build app")
        } else {
            // `--dev` mints in process with the worker's minters, aimed where
            // the probes are (production workers build their own).
            let minters =
                self.minters.clone().unwrap_or_else(|| cloudconn_worker::mint::Minters::production(&worker_config));
            App::build_with_probes(&config, self.mode, listener, probes, minters).await.expect("build app")
        };
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr().expect("metrics endpoint");
        let admin_token =
            app.dev_token.clone().unwrap_or_else(|| crate::harness::auth::mint(&auth_secret, &TokenSpec::default()));
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(app.run(shutdown.clone()));

        // The socket is already bound: connecting needs no retry or sleep.
        let channel = match &tls {
            Some(t) => crate::harness::tls::channel(addr.port(), &t.ca, Some(&t.client)).await.expect("TLS connect"),
            None => Channel::from_shared(format!("http://{addr}")).expect("uri").connect().await.expect("connect"),
        };
        let db = Database::connect(database_url).await.expect("inspect database");
        let mut app = TestApp {
            client: ConnectionServiceClient::with_interceptor(channel.clone(), Bearer::new(&admin_token)),
            auth_secret,
            metrics_addr,
            worker_metrics_addr: None,
            server_token_file,
            worker_token_file,
            tls,
            channel,
            addr,
            db,
            vault: vault_client(),
            vault_prefix,
            vault_proxy,
            amqp_proxy,
            pg_database,
            database,
            amqp_identities,
            joined: self.joined.is_some(),
            scratch,
            message_keys,
            shutdown,
            server: Some(server),
            mode: self.mode,
            topology,
            worker_config,
            probe,
            real_probes: self.real_probes.is_some(),
            minters: self.minters,
            aws_platform_key: self.aws_platform_key,
            workers: Vec::new(),
        };
        if self.worker && self.mode == Mode::Production {
            app.start_worker();
        }
        app
    }
}

fn with_database(url: &str, name: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    format!("{base}/{name}")
}
