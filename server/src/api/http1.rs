//! HTTP/1.1 request bodies (gRPC-Web from browsers and Node).
//!
//! Nothing is read for a caller before its token is verified and its call
//! has a slot. Reading first, as this server once did so that a refusal
//! would reach Node intact, let anonymous connections make it hold 1 MiB
//! each (security review N2; 400 connections took the peak up by 272 MiB
//! in `tests/tests/e2e/http1_bodies.rs`). Two layers replace that:
//!
//! - [`EarlyAnswers`] (outermost, for every HTTP/1.x request): a call
//!   answered before its body was read — a bad token, no slot, no budget —
//!   is otherwise closed by hyper *without* saying so, and a client still
//!   sending its body (Node's `http` sends the headers first) may get
//!   EPIPE or a reset instead of the answer. So the rest of a short body (at most
//!   [`DRAIN_LIMIT`]) is read and dropped, which leaves the connection
//!   usable, and any longer one gets `Connection: close` on its answer.
//! - [`BodyBudget`] (behind the token check and the slot): the
//!   bytes of the bodies being read, every caller together, come out of
//!   one budget of [`HTTP1_BODY_BUDGET`]; a call that finds it spent is
//!   shed at once (UNAVAILABLE / `SERVER_BUSY`). A body's announced length
//!   is paid before any of it is read, a chunked body's bytes as they
//!   come, and none may exceed [`MAX_HTTP1_BODY`]. The bytes go back once
//!   tonic has read the message (it drops the body).
//!
//! HTTP/2 requests pass both untouched: HTTP/2 has flow control per
//! stream and connection, and answering early is part of the protocol.

use std::{
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, ready},
};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, header};
use http_body::Frame;
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Status, body::Body, server::NamedService};

use crate::error::AppError;

/// The most of a refused call's body read (and dropped) so that its
/// connection stays usable; a refused call that announces more is closed.
pub const DRAIN_LIMIT: usize = 4 * 1024;
/// The most an HTTP/1.1 request body may hold: one message of the largest
/// size the API decodes, with its frame header and some room.
pub const MAX_HTTP1_BODY: usize = super::limits::MAX_MESSAGE_BYTES + 1024;
/// Bytes of HTTP/1.1 request bodies being read at once, every caller
/// together: 32 bodies of the largest size, or thousands of usual ones.
pub const HTTP1_BODY_BUDGET: usize = 32 * 1024 * 1024;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

fn is_http1<B>(request: &Request<B>) -> bool {
    request.version() < http::Version::HTTP_2
}

/// The length a request's body announces (`content-length`), if it does.
/// Read from the body: tonic-web has removed the header by now.
fn declared_length(request: &Request<Body>) -> Option<u64> {
    http_body::Body::size_hint(request.body()).upper()
}

/// What a layer here does to an HTTP/1.x request: pass it on (changed),
/// with what to do to its answer, or answer it at once. HTTP/2 requests
/// pass untouched.
pub trait Http1Policy: Clone + Send + 'static {
    type After: Send + 'static;
    fn before(&self, request: Request<Body>) -> Result<(Request<Body>, Self::After), Response<Body>>;
    fn after(after: Self::After, response: Response<Body>) -> BoxFuture<Response<Body>>;
}

/// A layer applying its policy to HTTP/1.x requests.
#[derive(Clone)]
pub struct Http1Layer<P>(pub P);

impl<S, P: Clone> tower::Layer<S> for Http1Layer<P> {
    type Service = Http1<S, P>;
    fn layer(&self, inner: S) -> Self::Service {
        Http1 { inner, policy: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct Http1<S, P> {
    inner: S,
    policy: P,
}

/// Routed like the service it wraps.
impl<S: NamedService, P> NamedService for Http1<S, P> {
    const NAME: &'static str = S::NAME;
}

impl<S, P> tower::Service<Request<Body>> for Http1<S, P>
where
    S: tower::Service<Request<Body>, Response = Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    P: Http1Policy,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if !is_http1(&request) {
            return Box::pin(self.inner.call(request));
        }
        match self.policy.before(request) {
            Err(answer) => Box::pin(async move { Ok(answer) }),
            Ok((request, after)) => {
                let answer = self.inner.call(request);
                Box::pin(async move { Ok(P::after(after, answer.await?).await) })
            }
        }
    }
}

/// Gives every early answer to an HTTP/1.x request a clean end (see the
/// module comment).
#[derive(Clone, Copy)]
pub struct EarlyAnswers;

impl EarlyAnswers {
    pub fn layer() -> Http1Layer<Self> {
        Http1Layer(Self)
    }
}

impl Http1Policy for EarlyAnswers {
    /// What becomes of the body, and whether it was announced short.
    type After = (Arc<Seen>, bool);

    fn before(&self, request: Request<Body>) -> Result<(Request<Body>, Self::After), Response<Body>> {
        let short = declared_length(&request).is_none_or(|n| n <= DRAIN_LIMIT as u64);
        let seen = Arc::new(Seen::default());
        let request = request.map(|body| Body::new(Watched { inner: Some(body), seen: seen.clone() }));
        Ok((request, (seen, short)))
    }

    fn after((seen, short): Self::After, mut response: Response<Body>) -> BoxFuture<Response<Body>> {
        Box::pin(async move {
            if seen.ended.load(Ordering::Acquire) {
                return response;
            }
            let rest = seen.unread.lock().unwrap_or_else(|e| e.into_inner()).take();
            let drained = match rest {
                Some(rest) if short => drain(rest).await,
                // Long, or still held by the call (which answered anyway).
                _ => false,
            };
            if !drained {
                response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        })
    }
}

/// What [`EarlyAnswers`] learns of a body it handed on.
#[derive(Default)]
pub struct Seen {
    /// Read to its end.
    ended: AtomicBool,
    /// Dropped before its end: the rest, to drain.
    unread: Mutex<Option<Body>>,
}

/// A request body that reports its end, or hands back its rest when it
/// is dropped before it.
struct Watched {
    inner: Option<Body>,
    seen: Arc<Seen>,
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else { return Poll::Ready(None) };
        let frame = ready!(Pin::new(&mut *inner).poll_frame(cx));
        let ended = match &frame {
            None => true,
            Some(Ok(_)) => inner.is_end_stream(),
            Some(Err(_)) => false,
        };
        if ended {
            this.seen.ended.store(true, Ordering::Release);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.as_ref().map(http_body::Body::size_hint).unwrap_or_default()
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(rest) = self.inner.take()
            && !self.seen.ended.load(Ordering::Acquire)
        {
            *self.seen.unread.lock().unwrap_or_else(|e| e.into_inner()) = Some(rest);
        }
    }
}

/// Reads and drops at most [`DRAIN_LIMIT`] bytes of `rest`: whether that
/// was its end. Bounded in time by the body deadline (`admission`), which
/// is outside this layer.
async fn drain(mut rest: Body) -> bool {
    let mut read = 0;
    loop {
        if http_body::Body::is_end_stream(&rest) {
            return true;
        }
        match rest.frame().await {
            None => return true,
            Some(Err(_)) => return false,
            Some(Ok(frame)) => {
                read += frame.data_ref().map_or(0, Bytes::len);
                if read > DRAIN_LIMIT {
                    return false;
                }
            }
        }
    }
}

/// Holds the bodies of admitted HTTP/1.x calls to [`HTTP1_BODY_BUDGET`]
/// bytes together (see the module comment). Mounted behind the token
/// check and the call's slot, so only admitted callers spend it.
#[derive(Clone)]
pub struct BodyBudget(Arc<Semaphore>);

impl BodyBudget {
    pub fn layer() -> Http1Layer<Self> {
        Http1Layer(Self(Arc::new(Semaphore::new(HTTP1_BODY_BUDGET))))
    }
}

impl Http1Policy for BodyBudget {
    type After = ();

    fn before(&self, request: Request<Body>) -> Result<(Request<Body>, ()), Response<Body>> {
        // A body of known length is paid for before it is read (up to the
        // most a body may hold: tonic refuses a larger message itself);
        // a chunked one as it arrives.
        let declared = declared_length(&request).unwrap_or(0);
        let upfront = usize::try_from(declared).unwrap_or(usize::MAX).min(MAX_HTTP1_BODY);
        let mut held = None;
        spend(&self.0, &mut held, upfront).map_err(Status::into_http)?;
        let budget = self.0.clone();
        Ok((request.map(|body| Body::new(Budgeted { inner: body, budget, held, read: 0 })), ()))
    }

    fn after((): (), response: Response<Body>) -> BoxFuture<Response<Body>> {
        Box::pin(std::future::ready(response))
    }
}

fn too_large() -> Status {
    Status::resource_exhausted(format!("the request body is over {MAX_HTTP1_BODY} bytes"))
}

fn budget_spent() -> Status {
    AppError::ServerBusy(format!(
        "{} MiB of HTTP/1.1 request bodies are being received, its limit",
        HTTP1_BODY_BUDGET / (1024 * 1024)
    ))
    .into()
}

/// `n` more bytes from the budget, added to `held`.
fn spend(budget: &Arc<Semaphore>, held: &mut Option<OwnedSemaphorePermit>, n: usize) -> Result<(), Status> {
    let n = u32::try_from(n).map_err(|_| too_large())?;
    let more = budget.clone().try_acquire_many_owned(n).map_err(|_| budget_spent())?;
    match held {
        Some(held) => held.merge(more),
        None => *held = Some(more),
    }
    Ok(())
}

/// A request body whose bytes are paid from the budget until it is dropped.
struct Budgeted {
    inner: Body,
    budget: Arc<Semaphore>,
    held: Option<OwnedSemaphorePermit>,
    read: usize,
}

impl http_body::Body for Budgeted {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        if let Some(Ok(data)) = &frame {
            this.read += data.data_ref().map_or(0, Bytes::len);
            if this.read > MAX_HTTP1_BODY {
                return Poll::Ready(Some(Err(too_large())));
            }
            let paid = this.held.as_ref().map_or(0, |p| p.num_permits());
            if this.read > paid {
                spend(&this.budget, &mut this.held, this.read - paid)?;
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
