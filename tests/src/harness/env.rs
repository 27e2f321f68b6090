//! Where the test stack is. `deploy/stack.sh up` starts (or finds) it and
//! writes these variables; the defaults match what it starts.

/// Connection string of a PostgreSQL role that may create databases.
pub fn admin_database_url() -> String {
    var("CLOUDCONN_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
}

/// OpenBao (Vault) address and root token of the dev server.
pub fn vault_addr() -> String {
    var("CLOUDCONN_TEST_VAULT_ADDR", "http://127.0.0.1:8200")
}

pub fn vault_token() -> String {
    var("CLOUDCONN_TEST_VAULT_TOKEN", "cloudconn-test-root")
}

fn var(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// RabbitMQ.
pub fn amqp_url() -> String {
    var("CLOUDCONN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f")
}

/// A Python with PyJWT (`deploy/stack.sh` installs it into its venv): an
/// OIDC library of someone else's, to verify cloudconn's tokens with.
pub fn python_jwt() -> String {
    std::env::var("CLOUDCONN_TEST_PYTHON_JWT")
        .expect("CLOUDCONN_TEST_PYTHON_JWT is unset: source the env file `deploy/stack.sh up` writes")
}

/// moto's address: the AWS endpoint for the AWS probe's tests.
pub fn aws_endpoint() -> String {
    var("CLOUDCONN_TEST_AWS_ENDPOINT", "http://127.0.0.1:5055")
}

/// A PostgreSQL database of its own for apps that share one, as replicas do
/// ([`crate::harness::app::TestAppBuilder::on_database`]); dropped by
/// [`SharedDatabase::drop_now`].
pub struct SharedDatabase {
    pub name: String,
    admin: sea_orm::DatabaseConnection,
}

impl SharedDatabase {
    pub async fn create() -> Self {
        use sea_orm::ConnectionTrait;
        let name = format!("cc_test_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(admin_database_url()).await.expect("the test PostgreSQL");
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("CREATE DATABASE");
        Self { name, admin }
    }

    /// Its connection string (the admin role's, on this database).
    pub fn url(&self) -> String {
        let admin = admin_database_url();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
        format!("{base}/{}", self.name)
    }

    /// Drops it, whoever is still connected.
    pub async fn drop_now(self) {
        use sea_orm::ConnectionTrait;
        let _ = self.admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).await;
    }
}
