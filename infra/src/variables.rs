//! Every variable the binaries read, with its default and meaning: what
//! `--help` prints. A test compares this table with the configuration
//! tables of docs/configuration.md and with the `CLOUDCONN_*` names the configuration
//! code mentions, so none of the three can drift from the others.

/// Which binary reads a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Server,
    Worker,
    Both,
}

pub struct Variable {
    pub name: &'static str,
    /// `""`: no default (unset unless given).
    pub default: &'static str,
    pub meaning: &'static str,
    pub reader: Reader,
}

const fn var(name: &'static str, default: &'static str, reader: Reader, meaning: &'static str) -> Variable {
    Variable { name, default, meaning, reader }
}

use Reader::{Both, Server, Worker};

pub const VARIABLES: &[Variable] = &[
    var("CLOUDCONN_LISTEN", "127.0.0.1:50051", Server, "gRPC address"),
    var(
        "CLOUDCONN_DATABASE_URL",
        "",
        Server,
        "postgres://… or sqlite://…?mode=rwc (required; --dev: its own SQLite file, and refuses this one unless --dev-database)",
    ),
    var("CLOUDCONN_DATABASE_URL_FILE", "", Server, "file holding CLOUDCONN_DATABASE_URL"),
    var("CLOUDCONN_DATABASE_POOL_SIZE", "16", Server, "database connections"),
    var("CLOUDCONN_VAULT_ADDR", "", Both, "Vault / OpenBao address (required; https:// in production)"),
    var("CLOUDCONN_VAULT_TOKEN", "", Both, "Vault token"),
    var(
        "CLOUDCONN_VAULT_TOKEN_FILE",
        "",
        Both,
        "file holding the Vault token (a Vault Agent sink), re-read on 401/403 and before renewal",
    ),
    var("CLOUDCONN_VAULT_ROLE_ID", "", Both, "AppRole role id (login instead of a token)"),
    var("CLOUDCONN_VAULT_SECRET_ID", "", Both, "AppRole secret id"),
    var("CLOUDCONN_VAULT_SECRET_ID_FILE", "", Both, "file holding CLOUDCONN_VAULT_SECRET_ID"),
    var("CLOUDCONN_VAULT_APPROLE_MOUNT", "approle", Both, "AppRole auth mount"),
    var("CLOUDCONN_VAULT_MOUNT", "secret", Both, "KV v2 mount"),
    var("CLOUDCONN_VAULT_PREFIX", "cloudconn", Both, "path prefix: <mount>/<prefix>/<workspace>/<connection uid>"),
    var("CLOUDCONN_VAULT_CA_CERT", "", Both, "PEM CA bundle that may sign Vault's certificate"),
    var("CLOUDCONN_AMQP_URL", "", Both, "RabbitMQ URL (required; amqps:// in production)"),
    var("CLOUDCONN_AMQP_URL_FILE", "", Both, "file holding CLOUDCONN_AMQP_URL"),
    var("CLOUDCONN_AMQP_PREFIX", "cloudconn", Both, "prefix of every exchange and queue"),
    var("CLOUDCONN_AMQP_CA_CERT", "", Both, "PEM CA bundle that may sign the broker's certificate (amqps://)"),
    var(
        "CLOUDCONN_AMQP_SIGNING_KEY_FILE",
        "",
        Both,
        "this process's Ed25519 key (PKCS#8 PEM) signing issue requests (server) or replies (worker)",
    ),
    var(
        "CLOUDCONN_AMQP_PEER_KEYS_FILE",
        "",
        Both,
        "the other side's Ed25519 public keys (SPKI PEM, one or more): the workers' or the server's",
    ),
    var(
        "CLOUDCONN_ALLOW_INSECURE_TRANSPORT",
        "false",
        Both,
        "true: allow plaintext off this machine (warned at start)",
    ),
    var("CLOUDCONN_DEPENDENCY_TIMEOUT_MS", "5000", Both, "bound on every database pool wait, Vault and broker call"),
    var("CLOUDCONN_OUTBOX_POLL_MS", "1000", Server, "how often the outbox relay sweeps for rows it was not woken for"),
    var(
        "CLOUDCONN_OUTBOX_RETENTION_MS",
        "604800000",
        Server,
        "published outbox rows are deleted this long after they were sent",
    ),
    var(
        "CLOUDCONN_AUDIT_RETENTION_MS",
        "34560000000",
        Server,
        "audit rows are deleted this long after they were written",
    ),
    var(
        "CLOUDCONN_VALIDATION_DEADLINE_MS",
        "600000",
        Server,
        "an unfinished validation ends FAILED / TIMEOUT after this long",
    ),
    var(
        "CLOUDCONN_REVALIDATE_INTERVAL_MS",
        "86400000",
        Server,
        "every ACTIVE connection is validated again this long (± 10 %) after its last outcome; 0: never",
    ),
    var(
        "CLOUDCONN_REVALIDATE_RATE",
        "10",
        Server,
        "scheduled validations one replica starts per provider per second at most",
    ),
    var(
        "CLOUDCONN_EXPIRY_WARNING_MS",
        "2592000000",
        Server,
        "a credential the provider says expires within this long gets a warning and an `expiring` event (again at 7 days and 1 day)",
    ),
    var(
        "CLOUDCONN_CORS_ORIGINS",
        "",
        Server,
        "browser origins (comma-separated, e.g. https://workbench.example.com) allowed to call over gRPC-Web",
    ),
    var(
        "CLOUDCONN_AWS_PLATFORM_PRINCIPAL",
        "",
        Server,
        "the AWS principal ARN the workers assume roles as, named in the setup kit's trust policies",
    ),
    var("CLOUDCONN_EGRESS_ADDRESSES", "", Server, "the workers' public addresses (comma-separated), for access lists"),
    var("CLOUDCONN_WORKBENCH", "true", Server, "serve the Workbench (the web page) at / on the gRPC port"),
    var("CLOUDCONN_WATCH_IDLE_MS", "30000", Server, "the event subscription outlives the last watcher this long"),
    var("CLOUDCONN_PURGE_INTERVAL_MS", "10000", Server, "how often queued secret purges are retried"),
    var("CLOUDCONN_DEV_DATA_DIR", ".cloudconn-dev", Server, "--dev state: SQLite file, keys, encrypted secrets"),
    var("CLOUDCONN_AUTH_HS256_SECRET", "", Server, "HS256 shared secret (>= 32 bytes) for bearer tokens"),
    var("CLOUDCONN_AUTH_HS256_SECRET_FILE", "", Server, "file holding CLOUDCONN_AUTH_HS256_SECRET"),
    var("CLOUDCONN_AUTH_JWKS", "", Server, "JWKS file path or https URL (RS256/ES256 keys)"),
    var("CLOUDCONN_AUTH_JWKS_REFRESH_MS", "300000", Server, "how often the JWKS is re-read"),
    var("CLOUDCONN_AUTH_JWKS_MAX_STALE_MS", "3600000", Server, "keys not refreshed this long are no longer trusted"),
    var("CLOUDCONN_AUTH_ISSUER", "", Server, "required iss (production, with a JWKS)"),
    var("CLOUDCONN_AUTH_AUDIENCE", "", Server, "required aud (production)"),
    var("CLOUDCONN_AUTH_DISABLED", "false", Server, "true: serve without authentication (trusted networks only)"),
    var(
        "CLOUDCONN_AUTH_DISABLED_ALLOW_ISSUE",
        "false",
        Server,
        "true: with authentication disabled, every caller may also issue cloud credentials",
    ),
    var("CLOUDCONN_TLS_CERT", "", Server, "PEM certificate chain for the gRPC listener (TLS only when set)"),
    var("CLOUDCONN_TLS_KEY", "", Server, "PEM private key for the gRPC listener"),
    var("CLOUDCONN_TLS_CLIENT_CA", "", Server, "PEM CA bundle: clients must present a certificate it signed"),
    var("CLOUDCONN_METRICS_LISTEN", "", Both, "HTTP address of /metrics, /healthz, /readyz (unset: not served)"),
    var("CLOUDCONN_HEALTH_INTERVAL_MS", "2000", Server, "how often the server checks its dependencies"),
    var(
        "CLOUDCONN_RATE_VALIDATE_PER_MINUTE",
        "120",
        Server,
        "validations one workspace may request per minute per replica",
    ),
    var(
        "CLOUDCONN_RATE_COMPLETE_PER_MINUTE",
        "120",
        Server,
        "credential saves one workspace may make per minute per replica",
    ),
    var("CLOUDCONN_MAX_CONNECTIONS_PER_WORKSPACE", "1000", Server, "connections one workspace may hold"),
    var("CLOUDCONN_MAX_WAITERS", "512", Server, "callers that may block in a wait on one replica"),
    var("CLOUDCONN_MAX_API_CALLS", "2048", Server, "ConnectionService calls in progress on one replica"),
    var("CLOUDCONN_MAX_CALLS_PER_SUBJECT", "256", Server, "of those, one token subject's"),
    var(
        "CLOUDCONN_MAX_CALLS_PER_WORKSPACE",
        "512",
        Server,
        "of those, one workspace's (the tokens for one set of workspaces, or all * tokens)",
    ),
    var(
        "CLOUDCONN_RATE_ISSUE_PER_MINUTE",
        "600",
        Server,
        "credentials one workspace may have minted per minute per replica (cache misses)",
    ),
    var(
        "CLOUDCONN_RATE_ISSUE_CALLS_PER_MINUTE",
        "6000",
        Server,
        "IssueCredentials calls one workspace may make per minute per replica (cache hits included)",
    ),
    var(
        "CLOUDCONN_ISSUE_MAX_TTL_MS",
        "3600000",
        Both,
        "longest lifetime IssueCredentials grants (a worker caps it too)",
    ),
    var("CLOUDCONN_ISSUE_TIMEOUT_MS", "10000", Server, "how long IssueCredentials waits for a worker's answer"),
    var("CLOUDCONN_ISSUE_CACHE_ENTRIES", "10000", Server, "issued credentials one replica keeps in memory"),
    var(
        "CLOUDCONN_ISSUE_CACHE_ENTRIES_PER_WORKSPACE",
        "1000",
        Server,
        "of those, the most one workspace may hold (it evicts its own least recently used)",
    ),
    var(
        "CLOUDCONN_ISSUE_ROW_MAX_AGE_MS",
        "1000",
        Server,
        "how old a replica's copy of a connection row may be when a repeat hit is answered from it (0: read it every call)",
    ),
    var("CLOUDCONN_WORKER_CONCURRENCY", "32", Worker, "jobs in flight (also the channel prefetch)"),
    var("CLOUDCONN_PROBE_TIMEOUT_MS", "20000", Worker, "bound on one probe attempt"),
    var("CLOUDCONN_PROBE_ATTEMPTS", "3", Worker, "attempts for transient failures"),
    var("CLOUDCONN_PROBE_RETRY_BASE_MS", "1000", Worker, "first back-off between attempts, doubling"),
    var("CLOUDCONN_PROBE_CONCURRENCY_PER_PROVIDER", "64", Worker, "probes of one provider in flight at once"),
    var(
        "CLOUDCONN_VAULT_DENIED_REQUEUE_MS",
        "120000",
        Worker,
        "a job Vault keeps refusing goes back to the queue after this long",
    ),
    var(
        "CLOUDCONN_VAULT_LIVENESS_MS",
        "300000",
        Worker,
        "/healthz fails after this long without a successful Vault read",
    ),
    var("CLOUDCONN_AWS_EXTERNAL_ID_CHECK", "fail", Worker, "fail | warn: a role that accepts a foreign external id"),
    var("CLOUDCONN_AWS_ENDPOINT", "", Both, "one endpoint for STS and the AWS scope checks (default: AWS's own)"),
    var("CLOUDCONN_ATLAS_BASE", "https://cloud.mongodb.com", Both, "MongoDB Atlas Administration API base"),
    var("CLOUDCONN_AURA_BASE", "https://api.neo4j.io", Both, "Neo4j Aura API base"),
    var(
        "CLOUDCONN_ATLAS_PROJECT_USER_CAP",
        "90",
        Worker,
        "database users an Atlas project may hold before new consumers are refused (QUOTA_EXCEEDED)",
    ),
    var(
        "CLOUDCONN_ATLAS_USERS_PER_CONSUMER",
        "2",
        Worker,
        "Atlas database users one consumer's mints take turns between (1-8)",
    ),
    var("CLOUDCONN_AZURE_AUTHORITY", "https://login.microsoftonline.com", Both, "Entra ID authority host"),
    var("CLOUDCONN_AZURE_ARM_BASE", "https://management.azure.com", Both, "Azure Resource Manager base"),
    var(
        "CLOUDCONN_GCP_TOKEN_URL",
        "https://oauth2.googleapis.com/token",
        Both,
        "Google's token endpoint (also the JWT audience)",
    ),
    var("CLOUDCONN_GCP_API_BASE", "https://cloudresourcemanager.googleapis.com", Both, "Resource Manager base"),
    var("CLOUDCONN_GCP_IAM_BASE", "https://iam.googleapis.com", Both, "IAM API base (a key's expiry)"),
    var(
        "CLOUDCONN_GCP_STS_URL",
        "https://sts.googleapis.com/v1/token",
        Both,
        "Google STS token endpoint (keyless: workload identity federation)",
    ),
    var(
        "CLOUDCONN_GCP_IAM_CREDENTIALS_BASE",
        "https://iamcredentials.googleapis.com",
        Both,
        "IAM Service Account Credentials API base (keyless: impersonation)",
    ),
    var(
        "CLOUDCONN_AZURE_GRAPH_BASE",
        "https://graph.microsoft.com",
        Both,
        "Microsoft Graph base (a client secret's expiry)",
    ),
    var(
        "CLOUDCONN_OIDC_ISSUER",
        "",
        Both,
        "OpenID Connect issuer URL (https://, no trailing slash); unset: keyless kinds off",
    ),
    var("CLOUDCONN_OIDC_AWS_AUDIENCE", "sts.amazonaws.com", Both, "the aud of tokens for AWS"),
    var("CLOUDCONN_OIDC_TRANSIT_MOUNT", "transit", Both, "Vault transit mount of the signing key"),
    var("CLOUDCONN_OIDC_KEY", "cloudconn-oidc", Both, "Vault transit key that signs tokens (RSA)"),
    var(
        "CLOUDCONN_OIDC_JWKS_MAX_AGE_MS",
        "3600000",
        Both,
        "how long verifiers may cache the JWKS; new key versions sign this long after creation",
    ),
    var("RUST_LOG", "warn,cloudconn_*=info", Both, "log filter (also decides which spans exist)"),
    var("OTEL_EXPORTER_OTLP_ENDPOINT", "", Both, "OTLP/gRPC collector for traces (unset: no export)"),
    var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", Both, "the same, for traces only"),
    var("OTEL_SERVICE_NAME", "", Both, "the service the spans are reported under (default: the binary's name)"),
    var("OTEL_RESOURCE_ATTRIBUTES", "", Both, "more resource attributes of the spans (key=value,…)"),
];

/// The `--help` text of a binary: its usage, then every variable it reads.
pub fn help(usage: &str, reader: Reader) -> String {
    let mut out =
        format!("{usage}\n\nEnvironment (or the same keys, lower case without CLOUDCONN_, in --config FILE):\n");
    for v in VARIABLES.iter().filter(|v| v.reader == reader || v.reader == Both) {
        let default = if v.default.is_empty() { String::new() } else { format!(" [default: {}]", v.default) };
        out.push_str(&format!("  {}{default}\n      {}\n", v.name, v.meaning));
    }
    out
}
