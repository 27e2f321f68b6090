//! Admission: how much work callers can make the server hold at once.
//!
//! A unary call's request body is read inside the handler's future, so a
//! caller that sends HEADERS and never the body holds whatever that future
//! holds — before this module, one of the server's 2,048 slots, forever
//! (security review H2). Three rules keep that bounded:
//!
//! - **Bodies arrive in time.** [`BodyDeadlineLayer`] ends a request whose
//!   body is not complete [`BODY_DEADLINE`] after its headers.
//! - **Shed, don't queue.** A call that finds no free slot is answered at
//!   once (UNAVAILABLE, with RetryInfo) instead of waiting without bound.
//! - **Separate pools.** Health checks and reflection, which need no token,
//!   have their own small pool ([`PublicCalls`]); ConnectionService calls take a
//!   slot only after the token is verified ([`ApiCalls`] sits inside the
//!   auth interceptor), from a global pool and from their subject's share
//!   of it, so neither anonymous traffic nor one tenant can starve others.

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
    quota::{Share, Shares},
};

/// How long after its headers a request's body must be complete.
pub const BODY_DEADLINE: Duration = Duration::from_secs(10);
/// ConnectionService calls in progress, every caller together.
pub const MAX_API_CALLS: usize = 2048;
/// ConnectionService calls in progress for one token subject.
pub const MAX_CALLS_PER_SUBJECT: usize = 256;
/// Health checks and reflection calls in progress, every caller together.
pub const MAX_PUBLIC_CALLS: usize = 64;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Ends every request whose body is not complete within [`BODY_DEADLINE`].
#[derive(Clone, Copy)]
pub struct BodyDeadlineLayer;

impl<S> tower::Layer<S> for BodyDeadlineLayer {
    type Service = tower::util::MapRequest<S, fn(Request<Body>) -> Request<Body>>;
    fn layer(&self, inner: S) -> Self::Service {
        tower::util::MapRequest::new(inner, with_body_deadline)
    }
}

fn with_body_deadline(request: Request<Body>) -> Request<Body> {
    request.map(|body| {
        Body::new(DeadlineBody { inner: body, deadline: Box::pin(tokio::time::sleep(BODY_DEADLINE)), done: false })
    })
}

/// A request body that fails once its deadline passes before its end.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
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
                return Poll::Ready(frame);
            }
            if this.deadline.as_mut().poll(cx).is_ready() {
                this.done = true;
                return Poll::Ready(Some(Err(Status::deadline_exceeded(format!(
                    "the request body did not arrive within {} s of its headers",
                    BODY_DEADLINE.as_secs()
                )))));
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
        self.0.clone().try_acquire_owned().map(Some).map_err(|_| AppError::ServerBusy)
    }
}

/// Authenticated ConnectionService calls: [`MAX_API_CALLS`] at once, at
/// most [`MAX_CALLS_PER_SUBJECT`] of them one token subject's.
#[derive(Clone)]
pub struct ApiCalls(Shares);

impl ApiCalls {
    pub fn layer() -> GateLayer<Self> {
        GateLayer(Self(Shares::new(MAX_API_CALLS, MAX_CALLS_PER_SUBJECT, "calls in progress")))
    }
}

impl Admit for ApiCalls {
    type Ticket = Share;
    fn admit(&self, request: &Request<Body>) -> Result<Share, AppError> {
        // The interceptor in front of this service has verified the token.
        let subject = request.extensions().get::<Caller>().map(|c| c.subject.as_str()).unwrap_or_default();
        self.0.take(subject)
    }
}
