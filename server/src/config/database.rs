//! Which database the server uses, and what it says about it.
//!
//! `--dev` has its own SQLite file. A `CLOUDCONN_DATABASE_URL` reaching a
//! `--dev` process is most likely inherited (a shell or a pod that carries
//! production's variables), and a dev server on a shared database would
//! deliver that database's outbox in process, run its validation jobs
//! against the empty dev secret store and mark sandbox-validated connections
//! ACTIVE there. So `--dev` refuses a configured URL unless `--dev-database`
//! says it is meant, and the start-up banner names the database either way.

use cloudconn_infra::config::ConfigError;
use secrecy::{ExposeSecret, SecretString};

use super::{Mode, ServerConfig};

impl ServerConfig {
    /// The database to use: the configured one, or in dev mode the SQLite
    /// file in the data directory. `--dev` with a configured URL is refused
    /// by [`ServerConfig::validate`] unless `--dev-database` is given.
    pub fn database_url(&self, mode: Mode) -> Option<SecretString> {
        self.database_url.clone().or_else(|| (mode == Mode::Dev).then(|| SecretString::from(self.dev_sqlite_url())))
    }

    /// Where the database is, for a person: its kind, host, port and name
    /// or file, never its user name, password or parameters.
    pub fn database_in_use(&self, mode: Mode) -> String {
        match (&self.database_url, mode) {
            (None, Mode::Dev) => format!("the dev SQLite file {}", self.dev_sqlite_file().display()),
            (None, Mode::Production) => "none configured".to_owned(),
            (Some(url), Mode::Dev) => format!("{} (CLOUDCONN_DATABASE_URL, --dev-database)", describe(url)),
            (Some(url), Mode::Production) => describe(url),
        }
    }

    /// `--dev` with a configured database needs `--dev-database`.
    pub(super) fn check_dev_database(&self) -> Result<(), ConfigError> {
        match &self.database_url {
            Some(url) if !self.dev_database => Err(ConfigError::Invalid(format!(
                "--dev does not use the configured CLOUDCONN_DATABASE_URL ({}) unless told to: a dev server runs \
                 its sandbox validations and in-process relay on the rows of the database it is given. Unset \
                 CLOUDCONN_DATABASE_URL (and CLOUDCONN_DATABASE_URL_FILE, or database_url in the --config file) \
                 to use the dev SQLite file {}, or pass --dev-database if this database is meant for --dev",
                describe(url),
                self.dev_sqlite_file().display()
            ))),
            _ => Ok(()),
        }
    }

    fn dev_sqlite_file(&self) -> std::path::PathBuf {
        self.dev_data_dir.join("cloudconn.db")
    }

    fn dev_sqlite_url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.dev_sqlite_file().display())
    }
}

/// `postgres at db.internal:5432/cloudconn`, `SQLite file /var/cc.db`.
fn describe(url: &SecretString) -> String {
    let url = url.expose_secret();
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let file = rest.trim_start_matches("//");
        return format!("SQLite file {}", file.split('?').next().unwrap_or_default());
    }
    match url::Url::parse(url) {
        Ok(parsed) => {
            let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{} at {}{port}{}", parsed.scheme(), parsed.host_str().unwrap_or("(no host)"), parsed.path())
        }
        Err(_) => "a URL that does not parse".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use cloudconn_infra::config::Source;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> ServerConfig {
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        ServerConfig::from_source(&Source::load(None, vars).unwrap()).unwrap()
    }

    #[test]
    fn dev_refuses_a_configured_database_unless_told_and_names_both_ways_out() {
        let mut c = config(&[
            ("CLOUDCONN_DATABASE_URL", "postgres://cc:hunter2@db.internal:5432/cloudconn?sslmode=require"),
            ("CLOUDCONN_DEV_DATA_DIR", "/tmp/ccdev"),
        ]);
        let refused = c.validate(Mode::Dev).unwrap_err().to_string();
        for needed in
            ["CLOUDCONN_DATABASE_URL", "--dev-database", "postgres at db.internal:5432/cloudconn", "/tmp/ccdev"]
        {
            assert!(refused.contains(needed), "{needed} in {refused}");
        }
        assert!(!refused.contains("hunter2") && !refused.contains("cc:") && !refused.contains("sslmode"), "{refused}");
        c.dev_database = true;
        c.validate(Mode::Dev).unwrap();
        assert_eq!(
            c.database_in_use(Mode::Dev),
            "postgres at db.internal:5432/cloudconn (CLOUDCONN_DATABASE_URL, --dev-database)"
        );
    }

    #[test]
    fn dev_without_a_configured_database_names_its_sqlite_file() {
        let c = config(&[("CLOUDCONN_DEV_DATA_DIR", "/tmp/ccdev")]);
        c.validate(Mode::Dev).unwrap();
        assert_eq!(c.database_in_use(Mode::Dev), "the dev SQLite file /tmp/ccdev/cloudconn.db");
        assert_eq!(c.database_url(Mode::Dev).unwrap().expose_secret(), "sqlite:///tmp/ccdev/cloudconn.db?mode=rwc");
        let sqlite = config(&[("CLOUDCONN_DATABASE_URL", "sqlite:///var/cc.db?mode=rwc")]);
        assert_eq!(sqlite.database_in_use(Mode::Production), "SQLite file /var/cc.db");
    }
}
