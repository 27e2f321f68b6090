//! Running cloudconn: dependency health and the operator's HTTP endpoint.
//!
//! - [`health`]: checks PostgreSQL, Vault and RabbitMQ; flips gRPC health
//!   (`grpc.health.v1`) and readiness.
//! - [`metrics`]: Prometheus series and `/metrics`, `/healthz`, `/readyz`
//!   on `CLOUDCONN_METRICS_LISTEN`.

pub mod health;
pub mod metrics;
