//! What cloudconn's server and worker share, and nothing domain-specific.
//!
//! # Layout
//! - [`amqp`]: RabbitMQ topology, messages, trace headers, confirmed publishing.
//! - [`config`]: the layered loader (defaults → TOML file → `CLOUDCONN_*`)
//!   and the sections both binaries use (Vault, dependency timeouts).
//! - [`telemetry`]: the tracing subscriber, with the log sink as a parameter.
//! - [`shutdown`]: SIGINT/SIGTERM → a `CancellationToken`.
//! - [`secrets`]: the `SecretStore` interface: versioned credential values.
//! - [`vault`]: `SecretStore` on Vault / OpenBao KV v2 (vaultrs).
//! - [`oidc`]: cloudconn as an OpenID Connect issuer: tokens for keyless
//!   connections, the JWKS, the signing key's rotation schedule.
//! - [`tls`]: picks the process-wide rustls crypto provider.
//! - [`variables`]: every variable the binaries read (`--help`).

pub mod amqp;
pub mod config;
pub mod oidc;
pub mod permissions;
pub mod secrets;
pub mod shutdown;
pub mod telemetry;
pub mod tls;
pub mod variables;
pub mod vault;
