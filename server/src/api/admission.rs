//! Admission: how much work callers can make the server hold at once.
//!
//! A unary call's request body is read inside the handler's future, so a
//! caller that sends HEADERS and never the body holds whatever that future
//! holds — before this module, one of the server's 2,048 slots, forever
//! (security review H2). Four rules keep that bounded:
//!
//! - **Bodies arrive in time.** [`BodyDeadlineLayer`] ends a request whose
//!   body has not started [`FIRST_BODY_DEADLINE`] after its headers, or is
//!   not complete after [`BODY_DEADLINE`]. Every RPC here sends its one
//!   request message at once (none streams from the client; a server
//!   stream like WatchConnections is unaffected once its request is in).
//! - **Shed, don't queue.** A call that finds no free slot is answered at
//!   once (UNAVAILABLE, with RetryInfo) instead of waiting without bound.
//! - **Separate pools.** Health checks and reflection, which need no token,
//!   have their own small pool ([`PublicCalls`]); ConnectionService calls take a
//!   slot only after the token is verified ([`ApiCalls`] sits inside the
//!   auth interceptor), so anonymous traffic cannot starve them.
//! - **Shares.** Of the API pool, one token subject and one tenant (the
//!   token's workspaces, every subject together) each hold a bounded
//!   share, and the last quarter is kept for tenants that hold little
//!   (`quota::Shares`): a tenant with many tokens still cannot take the
//!   slots everyone else needs.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Frame;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Status, body::Body};

use super::methods::CONNECTION_SERVICE;
use crate::{
    auth::Caller,
    error::AppError,
    quota::{Caps, Share, Shares},
};

/// How long after its headers a request's body must start: a client
/// sends its one message with the headers, so only a caller holding a
/// slot on purpose waits longer.
pub const FIRST_BODY_DEADLINE: Duration = Duration::from_secs(3);
/// How long after its headers a request's body must be complete (a 1 MiB
/// message on a slow link).
pub const BODY_DEADLINE: Duration = Duration::from_secs(10);
/// Health checks and reflection calls in progress, every caller together.
pub const MAX_PUBLIC_CALLS: usize = 64;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Ends every request whose body has not started within
/// [`FIRST_BODY_DEADLINE`] or is not complete within [`BODY_DEADLINE`].
#[derive(Clone, Copy)]
pub struct BodyDeadlineLayer;

impl<S> tower::Layer<S> for BodyDeadlineLayer {
    type Service = tower::util::MapRequest<S, fn(Request<Body>) -> Request<Body>>;
    fn layer(&self, inner: S) -> Self::Service {
        tower::util::MapRequest::new(inner, with_body_deadline)
    }
}

fn with_body_deadline(request: Request<Body>) -> Request<Body> {
    let headers_at = tokio::time::Instant::now();
    request.map(|body| {
        Body::new(DeadlineBody {
            inner: body,
            headers_at,
            deadline: Box::pin(tokio::time::sleep_until(headers_at + FIRST_BODY_DEADLINE)),
            started: false,
            done: false,
        })
    })
}

/// A request body that fails once its deadline passes before its end.
struct DeadlineBody {
    inner: Body,
    headers_at: tokio::time::Instant,
    /// [`FIRST_BODY_DEADLINE`] until the first frame, then [`BODY_DEADLINE`].
    deadline: Pin<Box<tokio::time::Sleep>>,
    started: bool,
    done: bool,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        if !this.done {
            if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
                this.done = frame.is_none() || this.inner.is_end_stream();
                if !this.started {
                    this.started = true;
                    this.deadline.as_mut().reset(this.headers_at + BODY_DEADLINE);
                }
                return Poll::Ready(frame);
            }
            if this.deadline.as_mut().poll(cx).is_ready() {
                this.done = true;
                let message = if this.started {
                    format!("the request body did not arrive within {} s of its headers", BODY_DEADLINE.as_secs())
                } else {
                    format!("the request body did not start within {} s of its headers", FIRST_BODY_DEADLINE.as_secs())
                };
                return Poll::Ready(Some(Err(Status::deadline_exceeded(message))));
            }
            return Poll::Pending;
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Decides whether a call may start: the ticket it holds while it runs, or
/// the answer it gets at once instead.
pub trait Admit: Clone + Send + Sync + 'static {
    type Ticket: Send + 'static;
    fn admit(&self, request: &Request<Body>) -> Result<Self::Ticket, AppError>;
}

/// A layer that puts a [`Gate`] with this policy in front of a service.
#[derive(Clone)]
pub struct GateLayer<A>(pub A);

impl<S, A: Admit> tower::Layer<S> for GateLayer<A> {
    type Service = Gate<S, A>;
    fn layer(&self, inner: S) -> Self::Service {
        Gate { inner, policy: self.0.clone() }
    }
}

/// Admits calls by its policy; the ticket is dropped when the call's
/// future ends (for a stream, when the handler has returned it).
#[derive(Clone)]
pub struct Gate<S, A> {
    inner: S,
    policy: A,
}

/// Routed like the service it wraps.
impl<S: tonic::server::NamedService, A> tonic::server::NamedService for Gate<S, A> {
    const NAME: &'static str = S::NAME;
}

impl<S, A> tower::Service<Request<Body>> for Gate<S, A>
where
    S: tower::Service<Request<Body>, Response = Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    A: Admit,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let ticket = match self.policy.admit(&request) {
            Ok(ticket) => ticket,
            Err(refusal) => {
                let response = Status::from(refusal).into_http();
                return Box::pin(async move { Ok(response) });
            }
        };
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await;
            drop(ticket);
            response
        })
    }
}

/// Health checks and reflection, which need no token: at most
/// [`MAX_PUBLIC_CALLS`] at once. Other paths pass (ConnectionService has
/// [`ApiCalls`], behind the token check).
#[derive(Clone)]
pub struct PublicCalls(Arc<Semaphore>);

impl PublicCalls {
    pub fn layer() -> GateLayer<Self> {
        GateLayer(Self(Arc::new(Semaphore::new(MAX_PUBLIC_CALLS))))
    }
}

impl Admit for PublicCalls {
    type Ticket = Option<OwnedSemaphorePermit>;
    fn admit(&self, request: &Request<Body>) -> Result<Self::Ticket, AppError> {
        if request.uri().path().starts_with(CONNECTION_SERVICE) {
            return Ok(None);
        }
        self.0.clone().try_acquire_owned().map(Some).map_err(|_| {
            AppError::ServerBusy(format!("all {MAX_PUBLIC_CALLS} health and reflection calls in progress are taken"))
        })
    }
}

/// Authenticated ConnectionService calls, shared out by [`Caps`]
/// (`CLOUDCONN_MAX_API_CALLS`, `…_PER_SUBJECT`, `…_PER_WORKSPACE`).
#[derive(Clone)]
pub struct ApiCalls(Shares);

impl ApiCalls {
    pub fn layer(caps: Caps) -> GateLayer<Self> {
        GateLayer(Self(Shares::new(caps, "ConnectionService calls in progress")))
    }
}

impl Admit for ApiCalls {
    type Ticket = Share;
    fn admit(&self, request: &Request<Body>) -> Result<Share, AppError> {
        // The interceptor in front of this service has verified the token.
        match request.extensions().get::<Caller>() {
            Some(caller) => self.0.take(&caller.subject, &caller.tenant()),
            None => self.0.take("", ""),
        }
    }
}
