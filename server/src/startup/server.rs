//! The gRPC server: what it serves, the layers in front of it, the bounds on
//! what callers can make it hold, and how long it waits for calls at
//! shutdown.

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context;
use cloudconn_proto::v1::connection_service_server::ConnectionServiceServer;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic_health::pb::health_server::{Health, HealthServer};
use tower::Layer as _;

use super::SHUTDOWN_GRACE;
use crate::{
    api::{
        admission,
        http1::{BodyBudget, EarlyAnswers},
        service::Api,
    },
    auth::Authenticator,
    ops::metrics::Metrics,
    quota::Caps,
};

/// HTTP/2 streams one connection may have open.
const MAX_STREAMS_PER_CONNECTION: u32 = 256;
/// Ping an idle HTTP/2 connection this often; close it if the pong takes
/// longer than the timeout (a peer that vanished holds nothing for long).
const HTTP2_KEEPALIVE: Duration = Duration::from_secs(30);
const HTTP2_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections are asked to close (GOAWAY) after this long, then given the
/// grace to finish their calls: clients reconnect and load spreads over
/// replicas, and no connection lives forever. The grace outlasts the
/// longest `wait` (5 min).
const MAX_CONNECTION_AGE: Duration = Duration::from_secs(30 * 60);
const MAX_CONNECTION_AGE_GRACE: Duration = Duration::from_secs(6 * 60);
/// A TLS client must finish its handshake within this.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request message health checks and reflection decode.
const MAX_PUBLIC_MESSAGE_BYTES: usize = 4 * 1024;

/// Where and how the server listens.
pub(super) struct Listening {
    pub listener: TcpListener,
    /// TLS (and client verification), if configured.
    pub tls: Option<tonic::transport::ServerTlsConfig>,
    /// `CLOUDCONN_CORS_ORIGINS` as a layer, if any are configured.
    pub cors: Option<tower_http::cors::CorsLayer>,
    /// `CLOUDCONN_WORKBENCH`: serve the Workbench at `/`.
    pub workbench: bool,
    /// `CLOUDCONN_OIDC_ISSUER`: serve the issuer's discovery document and JWKS.
    pub oidc: Option<std::sync::Arc<cloudconn_infra::oidc::Issuer>>,
    pub metrics: Arc<Metrics>,
}

/// What is served: health and reflection, which need no token, and the API
/// behind the token check.
pub(super) fn routes(
    health: HealthServer<impl Health>,
    api: Api,
    auth: Authenticator,
    api_calls: Caps,
) -> anyhow::Result<Routes> {
    // Both reflection versions: grpcurl before 1.9 and many GUI clients
    // still speak only v1alpha.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(cloudconn_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            // google.rpc.ErrorInfo / BadRequest, so clients can decode error details.
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
    };
    // Anyone may call these: their requests are a few names, and the
    // server holds no more of one than that.
    let reflection_v1 = reflection().build_v1()?.max_decoding_message_size(MAX_PUBLIC_MESSAGE_BYTES);
    let reflection_v1alpha = reflection().build_v1alpha()?.max_decoding_message_size(MAX_PUBLIC_MESSAGE_BYTES);
    let health = health.max_decoding_message_size(MAX_PUBLIC_MESSAGE_BYTES);
    let api =
        crate::auth::Authenticated::new(
            // Inside the token check: only verified callers take a slot, and
            // only then is an HTTP/1.1 body read, within the budget.
            admission::ApiCalls::layer(api_calls).layer(BodyBudget::layer().layer(
                ConnectionServiceServer::new(api).max_decoding_message_size(crate::api::limits::MAX_MESSAGE_BYTES),
            )),
            // Health and reflection are mounted without it: they need no token.
            auth,
        );
    Ok(Routes::new(health).add_service(reflection_v1).add_service(reflection_v1alpha).add_service(api))
}

/// Serves `routes` until `stop_serving` ends, then lets in-flight RPCs
/// finish: for `SHUTDOWN_GRACE` after `shutdown` at most.
pub(super) async fn serve(
    listening: Listening,
    routes: Routes,
    stop_serving: impl Future<Output = ()>,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let mut server = tonic::transport::Server::builder();
    if let Some(tls) = listening.tls {
        server = server.tls_config(tls.timeout(TLS_HANDSHAKE_TIMEOUT)).context("TLS configuration")?;
    }
    let serving = server
        // gRPC-Web from browsers speaks HTTP/1.1 too (api::web).
        .accept_http1(true)
        // Bounds on what callers can make the server hold: streams per
        // HTTP/2 connection, how long a connection lives and stays
        // silent, and (api::admission) calls in progress.
        .max_concurrent_streams(Some(MAX_STREAMS_PER_CONNECTION))
        .http2_keepalive_interval(Some(HTTP2_KEEPALIVE))
        .http2_keepalive_timeout(Some(HTTP2_KEEPALIVE_TIMEOUT))
        .tcp_keepalive(Some(HTTP2_KEEPALIVE))
        .max_connection_age(MAX_CONNECTION_AGE)
        .max_connection_age_grace(MAX_CONNECTION_AGE_GRACE)
        .trace_fn(crate::api::trace::rpc_span)
        // Outermost: preflights are answered before anything else, and
        // gRPC-Web is gRPC by the time the other layers see it.
        .layer(tower::util::option_layer(listening.cors))
        .layer(tower::util::option_layer(listening.workbench.then(crate::workbench::WorkbenchLayer::layer)))
        .layer(tower::util::option_layer(listening.oidc.map(crate::oidc::OidcDocuments::layer)))
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(admission::BodyDeadlineLayer)
        .layer(EarlyAnswers::layer())
        .layer(admission::PublicCalls::layer())
        .layer(tower::util::MapResponseLayer::new(crate::api::limits::message_too_large))
        .layer(crate::api::metrics::RpcMetricsLayer(listening.metrics))
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming(listening.listener), stop_serving);
    // tonic waits for every in-flight RPC with no bound of its own; a
    // stuck one must not keep the process from stopping.
    let grace = async {
        shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = serving => served.context("gRPC server")?,
        _ = grace => tracing::warn!("RPCs still in flight after the grace period; stopping anyway"),
    }
    Ok(())
}

/// Accepted connections with Nagle's algorithm off. A gRPC answer is
/// several small HTTP/2 frames (headers, data, trailers); with Nagle on,
/// the last one waits for the client's delayed ACK, ~40 ms per call.
fn incoming(listener: TcpListener) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt as _;
    TcpListenerStream::new(listener).map(|accepted| {
        accepted.inspect(|stream| {
            let _ = stream.set_nodelay(true);
        })
    })
}
