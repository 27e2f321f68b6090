//! A private moto server that enforces IAM, for the AWS denial tests.
//!
//! moto checks signatures, identity policies and role trust policies
//! (including a `StringEquals` on `sts:ExternalId`) only once its count of
//! unauthenticated requests is used up, and that switch is global to the
//! server. The shared moto of the test stack must stay open for the other
//! AWS test, so a test that wants enforcement gets its own server: it sets
//! up users and roles with plain unauthenticated calls, then turns
//! enforcement on ([`MotoIam::enforce`]); from then on every call must be
//! signed by a key it created.

use std::{process::Stdio, time::Duration};

use secrecy::SecretString;
use tokio::process::{Child, Command};

/// moto's default account.
pub const ACCOUNT: &str = "123456789012";

pub struct MotoIam {
    pub endpoint: String,
    http: reqwest::Client,
    _server: Child,
}

/// An access key moto issued.
pub struct AccessKey {
    pub id: String,
    pub secret: SecretString,
}

impl MotoIam {
    /// Starts `moto_server` (installed by `deploy/stack.sh`) on a free port.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // deploy/stack.sh says where it is (a venv under the cache dir, or PATH).
        let binary = std::env::var("CLOUDCONN_TEST_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let server = Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("moto_server on PATH (deploy/stack.sh up installs it)");
        let endpoint = format!("http://127.0.0.1:{port}");
        cloudconn_infra::tls::install_crypto_provider();
        let http = reqwest::Client::new();
        // A Python server importing its services: up to a few seconds.
        for _ in 0..300 {
            if http.get(format!("{endpoint}/moto-api/")).send().await.is_ok_and(|r| r.status().is_success()) {
                return Self { endpoint, http, _server: server };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto_server did not start on {endpoint}");
    }

    /// One unauthenticated IAM query-protocol call (only before
    /// [`enforce`](Self::enforce)); returns the XML answer. moto routes by
    /// the service named in the credential scope, so a well-formed but
    /// unsigned `Authorization` header is enough.
    pub async fn iam(&self, action: &str, params: &[(&str, &str)]) -> String {
        self.call("iam", "2010-05-08", action, params).await
    }

    /// One unauthenticated query-protocol call to `service` (as [`iam`](Self::iam)).
    pub async fn call(&self, service: &str, version: &str, action: &str, params: &[(&str, &str)]) -> String {
        let mut form = vec![("Action", action), ("Version", version)];
        form.extend_from_slice(params);
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=setup/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
        );
        let response = self
            .http
            .post(&self.endpoint)
            .header("Authorization", authorization)
            .form(&form)
            .send()
            .await
            .expect("moto answers");
        let status = response.status();
        let body = response.text().await.expect("moto body");
        assert!(status.is_success(), "{service} {action}: {status} {body}");
        body
    }

    /// A user whose identity policy allows exactly `actions`, with a key.
    pub async fn user(&self, name: &str, actions: &[&str]) -> AccessKey {
        self.iam("CreateUser", &[("UserName", name)]).await;
        self.iam("PutUserPolicy", &[("UserName", name), ("PolicyName", "allow"), ("PolicyDocument", &allow(actions))])
            .await;
        let key = self.iam("CreateAccessKey", &[("UserName", name)]).await;
        AccessKey { id: between(&key, "AccessKeyId"), secret: SecretString::from(between(&key, "SecretAccessKey")) }
    }

    /// A role that `user` may assume with `external_id` (`None`: with any
    /// external id or none, the confused-deputy hole), allowed `actions`;
    /// returns its ARN.
    pub async fn role(&self, name: &str, user: &str, external_id: Option<&str>, actions: &[&str]) -> String {
        let condition = external_id.map(|id| serde_json::json!({"StringEquals": {"sts:ExternalId": id}}));
        self.role_with_condition(name, user, condition, actions).await
    }

    /// As [`role`](Self::role), with any trust-policy `Condition` block.
    pub async fn role_with_condition(
        &self,
        name: &str,
        user: &str,
        condition: Option<serde_json::Value>,
        actions: &[&str],
    ) -> String {
        let mut statement = serde_json::json!({
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/{user}")},
            "Action": "sts:AssumeRole",
        });
        if let Some(condition) = condition {
            statement["Condition"] = condition;
        }
        let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [statement]}).to_string();
        self.iam("CreateRole", &[("RoleName", name), ("AssumeRolePolicyDocument", &trust)]).await;
        self.iam("PutRolePolicy", &[("RoleName", name), ("PolicyName", "allow"), ("PolicyDocument", &allow(actions))])
            .await;
        format!("arn:aws:iam::{ACCOUNT}:role/{name}")
    }

    /// From now on every request must be signed by a key moto issued and be
    /// allowed by the caller's policies (and, for AssumeRole, the trust
    /// policy).
    pub async fn enforce(&self) {
        let response =
            self.http.post(format!("{}/moto-api/reset-auth", self.endpoint)).body("0").send().await.expect("moto");
        assert!(response.status().is_success(), "reset-auth: {}", response.status());
    }
}

fn allow(actions: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
    })
    .to_string()
}

/// The text of the first `<tag>…</tag>` in an XML answer.
pub fn between(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).map(|i| i + open.len()).unwrap_or_else(|| panic!("no {tag} in {xml}"));
    let end = xml[start..].find("</").expect("closing tag") + start;
    xml[start..end].to_owned()
}
