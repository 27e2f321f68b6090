//! The builder's options: what a test changes from production's settings.

use super::*;

impl TestAppBuilder {
    pub fn sqlite(mut self) -> Self {
        self.backend = Backend::Sqlite;
        self
    }

    /// `--dev`: SQLite and the encrypted file secret store, no Vault at all.
    /// `--dev` as a user runs it: the real probes aimed at the provider
    /// sandbox (`--providers sandbox`, the default), not a scripted probe.
    pub fn with_provider_sandbox(mut self) -> Self {
        self.mode = Mode::Dev;
        self.provider_sandbox = true;
        self
    }

    /// `CLOUDCONN_AWS_PLATFORM_PRINCIPAL` (the setup kit's trust policies).
    pub fn with_aws_platform_principal(mut self, principal: &str) -> Self {
        self.aws_platform_principal = Some(principal.to_owned());
        self
    }

    /// cloudconn as an OpenID Connect issuer (`CLOUDCONN_OIDC_ISSUER` =
    /// `https://issuer.test/<vault prefix>`), signing with a transit key of
    /// the test's own, its JWKS cacheable for `jwks_max_age`.
    pub fn with_oidc(mut self, jwks_max_age: Duration) -> Self {
        self.oidc = Some(jwks_max_age);
        self
    }

    /// `CLOUDCONN_WORKBENCH=false`.
    pub fn without_workbench(mut self) -> Self {
        self.workbench = false;
        self
    }

    /// `CLOUDCONN_CORS_ORIGINS`.
    pub fn with_cors_origins(mut self, origins: &str) -> Self {
        self.cors_origins = Some(origins.to_owned());
        self
    }

    pub fn dev(mut self) -> Self {
        self.mode = Mode::Dev;
        self.backend = Backend::Sqlite;
        self
    }

    /// Puts a chaos proxy between the server and Vault.
    /// Starts the server while OpenBao is unreachable (through a proxy
    /// that is down; `vault_proxy.up()` brings it back).
    pub fn with_vault_down_at_start(mut self) -> Self {
        self.vault_down_at_start = true;
        self.with_vault_proxy()
    }

    pub fn with_vault_proxy(mut self) -> Self {
        self.vault_proxy = true;
        self
    }

    /// No worker: jobs stay queued until the test starts one
    /// ([`TestApp::start_worker`]).
    pub fn without_worker(mut self) -> Self {
        self.worker = false;
        self
    }

    /// The worker runs the product's provider probes against `endpoints`
    /// (emulators, moto) instead of the scripted probe.
    pub fn with_real_probes(mut self, endpoints: Endpoints) -> Self {
        self.real_probes = Some(endpoints);
        self
    }

    /// The AWS probe signs as this key (one a private moto issued) instead
    /// of the standard credential chain. That moto evaluates trust
    /// policies, so the confused-deputy check runs as in production (`fail`).
    pub fn with_aws_platform_key(mut self, key: AccessKey) -> Self {
        self.aws_platform_key = Some(key);
        self
    }

    /// Verify tokens with the JWKS in this file (re-read every 200 ms)
    /// instead of the HS256 secret; `client` then has no valid token.
    pub fn with_jwks(mut self, path: PathBuf) -> Self {
        self.jwks = Some(path.display().to_string());
        self
    }

    /// As [`TestAppBuilder::with_jwks`], fetching the JWKS from `url`.
    pub fn with_jwks_url(mut self, url: String) -> Self {
        self.jwks = Some(url);
        self
    }

    /// How often the JWKS is re-read (default 200 ms), and how long keys
    /// that could not be refreshed stay trusted (default 1 h).
    pub fn with_jwks_timing(mut self, refresh: Duration, max_stale: Duration) -> Self {
        self.jwks_refresh = refresh;
        self.jwks_max_stale = max_stale;
        self
    }

    /// The server and the worker read their Vault tokens from files
    /// (`CLOUDCONN_VAULT_TOKEN_FILE`), as with a Vault Agent sink; the
    /// paths are `TestApp::server_token_file` / `worker_token_file`.
    pub fn with_vault_token_files(mut self) -> Self {
        self.token_files = true;
        self
    }

    /// Serve TLS only, requiring client certificates from a test CA; the
    /// harness client presents one (see `TestApp::tls`).
    pub fn with_mtls(mut self) -> Self {
        self.mtls = true;
        self
    }

    /// The server logs in with AppRole (server policy, tokens living 2 s,
    /// renewable to 4 s) instead of the root token.
    pub fn with_approle(mut self) -> Self {
        self.approle = true;
        self
    }

    /// Bound on one probe attempt (default 1 s: emulators answer at once).
    pub fn with_probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// Validations unfinished for this long end as TIMEOUT.
    /// Workers (and `--dev`) mint with these instead of the product's
    /// minters (a scripted one that counts calls, say).
    pub fn with_minters(mut self, minters: cloudconn_worker::mint::Minters) -> Self {
        self.minters = Some(minters);
        self
    }

    /// How long IssueCredentials waits for a worker.
    pub fn with_issue_timeout(mut self, timeout: Duration) -> Self {
        self.issue_timeout = timeout;
        self
    }

    /// `CLOUDCONN_ISSUE_CACHE_ENTRIES` (default 10,000): a small cache
    /// makes repeat issues mint again.
    pub fn with_issue_cache_entries(mut self, entries: usize) -> Self {
        self.issue_cache_entries.0 = entries;
        self
    }

    /// Scheduled re-validation every `interval` (± 10 %; zero: off), at
    /// most `rate` started per provider per second (default: production's,
    /// 24 h and 10).
    pub fn with_revalidation(mut self, interval: Duration, rate: u32) -> Self {
        self.revalidation = (interval, rate);
        self
    }

    pub fn with_validation_deadline(mut self, deadline: Duration) -> Self {
        self.validation_deadline = deadline;
        self
    }

    /// Published outbox rows are deleted this long after they were sent.
    /// `CLOUDCONN_AUDIT_RETENTION_MS`.
    pub fn with_audit_retention(mut self, retention: Duration) -> Self {
        self.audit_retention = retention;
        self
    }

    pub fn with_outbox_retention(mut self, retention: Duration) -> Self {
        self.outbox_retention = retention;
        self
    }

    /// The event subscription ends this long after the last watcher left.
    pub fn with_watch_idle(mut self, idle: Duration) -> Self {
        self.watch_idle = idle;
        self
    }

    /// RabbitMQ as deployed: the server connects with `server_url`, workers
    /// with `worker_url`, both on `prefix` (see `harness::rabbitmq`).
    pub fn with_amqp_identities(mut self, prefix: &str, server_url: &str, worker_url: &str) -> Self {
        self.amqp_identities = Some((prefix.to_owned(), server_url.to_owned(), worker_url.to_owned()));
        self
    }

    /// Uses the existing PostgreSQL database `name` (the test creates and
    /// drops it), so several apps can share one, as replicas do.
    pub fn on_database(mut self, name: &str) -> Self {
        self.database = Some(name.to_owned());
        self
    }

    pub fn with_quotas(mut self, quotas: QuotaConfig) -> Self {
        self.quotas = quotas;
        self
    }

    /// How old a replica's copy of a connection row may be when a repeat is
    /// answered from it (default 1 s, production's).
    pub fn with_issue_row_max_age(mut self, max_age: Duration) -> Self {
        self.issue_row_max_age = max_age;
        self
    }

    /// The issue cache's bounds: in all, and for one workspace.
    pub fn with_issue_cache(mut self, entries: usize, per_workspace: usize) -> Self {
        self.issue_cache_entries = (entries, per_workspace);
        self
    }

    /// Serves without authentication (`CLOUDCONN_AUTH_DISABLED=true`);
    /// `allow_issue` is `CLOUDCONN_AUTH_DISABLED_ALLOW_ISSUE`.
    pub fn with_auth_disabled(mut self, allow_issue: bool) -> Self {
        self.auth_disabled = Some(allow_issue);
        self
    }

    pub fn with_amqp_proxy(mut self) -> Self {
        self.amqp_proxy = true;
        self
    }

    /// Another replica of `first`'s deployment, as one more pod of the same
    /// Deployment would be: the same PostgreSQL database, RabbitMQ prefix
    /// (and logins, with `with_amqp_identities`), Vault prefix and
    /// policies, message signing keys (every server and worker of the
    /// deployment trusts every other's signatures) and token secret (a token
    /// of one replica works on all). What is per process stays its own: the
    /// listeners, the workers (`without_worker` for a replica without one),
    /// the scripted probe and its count, the metrics, the tuning set on this
    /// builder. `finish` on a joined app stops it and leaves the shared
    /// database, queues and Vault prefix alone; `first` must be finished
    /// last, since finishing it removes them.
    pub fn joining(mut self, first: &TestApp) -> Self {
        self.joined = Some(first.deployment());
        self
    }
}
