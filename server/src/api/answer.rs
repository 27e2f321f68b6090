//! A layer that answers some plain `GET`s itself, in front of every other
//! layer: gRPC-Web's layer refuses plain HTTP/1.1 requests, and pages and
//! documents anyone may read need no token, so they never reach the API's
//! layers. Every other request passes through untouched (an unknown path
//! is still the gRPC server's: `UNIMPLEMENTED`). The Workbench's files and
//! the OpenID Connect issuer's documents are answered this way.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use http::{Method, Request, Response};
use tonic::body::Body;

/// What a `GET` (or `HEAD`) for `path` is answered with, if it is answered here.
pub trait Answer: Clone + Send + 'static {
    fn answer(&self, path: &str) -> Option<Response<Body>>;
}

#[derive(Clone)]
pub struct AnswerLayer<A>(pub A);

impl<S, A: Answer> tower::Layer<S> for AnswerLayer<A> {
    type Service = Answering<S, A>;
    fn layer(&self, inner: S) -> Self::Service {
        Answering { inner, answers: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct Answering<S, A> {
    inner: S,
    answers: A,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, A> tower::Service<Request<Body>> for Answering<S, A>
where
    S: tower::Service<Request<Body>, Response = Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    A: Answer,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let get = request.method() == Method::GET || request.method() == Method::HEAD;
        match get.then(|| self.answers.answer(request.uri().path())).flatten() {
            Some(response) => Box::pin(std::future::ready(Ok(response))),
            None => Box::pin(self.inner.call(request)),
        }
    }
}
