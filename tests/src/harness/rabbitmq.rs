//! The RabbitMQ identities of `deploy/rabbitmq/apply.sh`, applied to a
//! test's own vhost, users and prefix on the local broker (through
//! `rabbitmqctl`, which the test stack's broker answers as root), and
//! removed again when dropped.

use std::{path::PathBuf, process::Command};

use cloudconn_infra::amqp::topology::Topology;

/// What `apply.sh` made for one test.
pub struct Identities {
    pub vhost: String,
    pub topology: Topology,
    pub prefix: String,
    /// The AMQP URLs apply.sh wrote (loopback, plaintext: the test broker).
    pub server_url: String,
    pub worker_url: String,
    pub keda_url: String,
    users: [String; 3],
    out: PathBuf,
}

/// The script under test.
pub fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/rabbitmq/apply.sh")
}

fn rabbitmqctl(args: &[&str]) -> std::process::Output {
    Command::new("rabbitmqctl").arg("-q").args(args).output().expect("run rabbitmqctl (is RabbitMQ installed here?)")
}

impl Identities {
    /// Runs apply.sh for a fresh vhost, prefix and users; `extra` adds
    /// variables (e.g. a small results byte cap).
    pub fn apply(extra: &[(&str, &str)]) -> Self {
        let id = &uuid::Uuid::new_v4().simple().to_string()[..12];
        let name = format!("cc_test_ids_{id}");
        let out = std::env::temp_dir().join(format!("{name}_credentials"));
        let users = [format!("{name}-server"), format!("{name}-worker"), format!("{name}-keda")];
        let output = Command::new("bash")
            .arg(script())
            .env("CLOUDCONN_AMQP_PREFIX", &name)
            .env("CLOUDCONN_RABBITMQ_VHOST", &name)
            .env("CLOUDCONN_RABBITMQ_SERVER_USER", &users[0])
            .env("CLOUDCONN_RABBITMQ_WORKER_USER", &users[1])
            .env("CLOUDCONN_RABBITMQ_KEDA_USER", &users[2])
            .env("CLOUDCONN_RABBITMQ_URL_BASE", "amqp://127.0.0.1:5672")
            .env("CLOUDCONN_RABBITMQ_OUT", &out)
            .envs(extra.iter().copied())
            .output()
            .expect("run deploy/rabbitmq/apply.sh");
        let mut identities = Self {
            vhost: name.clone(),
            topology: Topology::new(&name),
            prefix: name,
            server_url: String::new(),
            worker_url: String::new(),
            keda_url: String::new(),
            users,
            out,
        };
        assert!(
            output.status.success(),
            "apply.sh failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.stdout.is_empty(), "apply.sh prints nothing on stdout (secrets go to files)");
        let read = |file: &str| {
            let path = identities.out.join(file);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).expect("credential file").permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{file} is private");
            }
            std::fs::read_to_string(path).expect("credential file").trim().to_owned()
        };
        let (server_url, worker_url, keda_url) =
            (read("amqp-url-server"), read("amqp-url-worker"), read("amqp-url-keda"));
        identities.server_url = server_url;
        identities.worker_url = worker_url;
        identities.keda_url = keda_url;
        identities
    }

    /// The policy `rabbitmqctl` reports for a queue of the vhost.
    pub fn policy_of(&self, queue: &str) -> Option<String> {
        let out = rabbitmqctl(&["list_queues", "-p", &self.vhost, "--no-table-headers", "name", "policy"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .find(|(name, _)| *name == queue)
            .map(|(_, policy)| policy.trim().to_owned())
            .filter(|p| !p.is_empty())
    }
}

impl Drop for Identities {
    fn drop(&mut self) {
        // Deleting the vhost removes its queues, exchanges, policies and permissions.
        rabbitmqctl(&["delete_vhost", &self.vhost]);
        for user in &self.users {
            rabbitmqctl(&["delete_user", user]);
        }
        let _ = std::fs::remove_dir_all(&self.out);
    }
}
