//! [`Authenticated`]: verifies the token of every ConnectionService call
//! before the service sees it, and logs each refusal once.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use tonic::{Status, server::NamedService};

use super::Authenticator;
use crate::error::AppError;

/// The API service behind authentication: each request's token is verified
/// (the `Caller` then rides in its extensions) or the request is answered
/// UNAUTHENTICATED without reaching the service.
#[derive(Clone)]
pub struct Authenticated<S> {
    inner: S,
    auth: Authenticator,
}

impl<S> Authenticated<S> {
    pub fn new(inner: S, auth: Authenticator) -> Self {
        Self { inner, auth }
    }
}

impl<S: NamedService> NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tower::Service<http::Request<B>> for Authenticated<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The service that was polled ready goes with this request; a clone
        // stays for the next (tower's usual hand-over).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        Box::pin(async move {
            match auth.caller(request.headers()).await {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                    inner.call(request).await
                }
                Err(refused) => {
                    log_refusal(&request, &refused);
                    Ok(Status::from(refused).into_http())
                }
            }
        })
    }
}

/// One info line per refused call: the cause and the caller's address,
/// never the token. tonic puts the peer's `TcpConnectInfo` in the request
/// extensions (over TLS too, next to the `TlsConnectInfo`).
fn log_refusal<B>(request: &http::Request<B>, refused: &AppError) {
    let peer = request.extensions().get::<tonic::transport::server::TcpConnectInfo>().and_then(|i| i.remote_addr());
    let cause = match refused {
        AppError::Unauthenticated(failure) => failure.cause(),
        AppError::SigningKeysStale => "signing_keys_stale",
        _ => "other",
    };
    tracing::info!(
        peer = peer.map(|p| p.to_string()).as_deref().unwrap_or("unknown"),
        cause,
        "refused an unauthenticated call: {refused}"
    );
}
