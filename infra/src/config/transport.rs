//! Whether production may talk in plaintext, and the findings of a
//! configuration check: every problem at once, and the plaintext endpoints
//! the operator allowed (warned about at start).

use serde::Deserialize;

use super::ConfigError;

/// What a validation found: every problem (reported together, so one start
/// shows them all) and the plaintext endpoints allowed only because
/// `CLOUDCONN_ALLOW_INSECURE_TRANSPORT=true`.
#[derive(Debug, Default)]
pub struct Findings {
    problems: Vec<String>,
    /// (variable, `scheme://host:port`): never the credentials or the path.
    plaintext: Vec<(String, String)>,
}

impl Findings {
    pub fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(message.into());
    }

    /// Records the error of a check that stops at its first problem.
    pub fn check(&mut self, result: Result<(), ConfigError>) {
        if let Err(ConfigError::Invalid(message)) = result {
            self.problems.push(message);
        }
    }

    /// Checks that `value` of `variable`, a URL, uses `secure` rather than
    /// `plain` (https/http, amqps/amqp) unless its host is this machine.
    /// Unparsable values and other schemes are left to the section's own check.
    pub fn transport(&mut self, policy: &TransportConfig, variable: &str, value: &str, secure: &str, plain: &str) {
        let Ok(url) = url::Url::parse(value) else { return };
        if url.scheme() != plain || is_loopback(&url) {
            return;
        }
        let host = url.host_str().unwrap_or_default();
        let endpoint = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let problem =
            format!("{variable} uses {plain}:// to {endpoint}, which sends secrets unencrypted: use {secure}://");
        self.insecure(policy, variable, &format!("{plain}://{endpoint}"), problem);
    }

    /// A plaintext `endpoint` that `variable` configures: a problem, unless
    /// the operator allowed plaintext (then a warning at [`Findings::finish`]).
    pub fn insecure(&mut self, policy: &TransportConfig, variable: &str, endpoint: &str, problem: String) {
        if policy.allow_insecure_transport {
            self.plaintext.push((variable.to_owned(), endpoint.to_owned()));
        } else {
            self.problems.push(format!(
                "{problem} (or, for a network that is encrypted underneath, set CLOUDCONN_ALLOW_INSECURE_TRANSPORT=true)"
            ));
        }
    }

    /// Every problem in one error; or, when there is none, a warning for
    /// each plaintext endpoint that was allowed.
    pub fn finish(self) -> Result<(), ConfigError> {
        if !self.problems.is_empty() {
            return Err(ConfigError::Invalid(self.problems.join("; ")));
        }
        for (variable, endpoint) in &self.plaintext {
            tracing::warn!(
                variable = %variable,
                endpoint = %endpoint,
                "INSECURE TRANSPORT ALLOWED (CLOUDCONN_ALLOW_INSECURE_TRANSPORT=true): {variable} talks to {endpoint} \
                 unencrypted; secrets and tokens on this connection can be read by anyone on the network path"
            );
        }
        Ok(())
    }
}

/// Whether `url` points at this machine: `localhost`, 127.0.0.0/8 or ::1.
/// Traffic to it never leaves the host (a sidecar, a Vault Agent).
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        // For schemes the URL standard does not know (`amqp`), the host is
        // left as text, addresses included.
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost")
                || d.eq_ignore_ascii_case("localhost.")
                || d.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether production may talk to its dependencies in plaintext.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TransportConfig {
    /// `CLOUDCONN_ALLOW_INSECURE_TRANSPORT`: `true` lets production use
    /// `http://` (Vault, JWKS) and `amqp://` to hosts other than this
    /// machine, with a warning at start naming each. Default `false`: only
    /// loopback may be plaintext. Only for a network encrypted underneath
    /// (a service mesh with mTLS, WireGuard).
    #[serde(default)]
    pub allow_insecure_transport: bool,
}
