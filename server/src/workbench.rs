//! The Workbench (docs/workbench.md): the web page built in `workbench/`,
//! embedded in the binary and served at `/` on the gRPC port, so the
//! README's first command serves it with no extra step and no files to
//! install. It is a static page: everything it shows comes from the API
//! over gRPC-Web with the user's own token, like any other client.
//!
//! `CLOUDCONN_WORKBENCH=false` turns it off. Only `GET /` and
//! `GET /assets/…` are answered here; every other request goes on to the
//! gRPC services (an unknown method is still `UNIMPLEMENTED`).

use http::{HeaderValue, Response, StatusCode, header};
use tonic::body::Body;

use crate::api::answer::{Answer, AnswerLayer};

/// The built Workbench (`workbench/dist`, committed; the test command
/// rebuilds it and fails when the committed copy is stale).
#[derive(rust_embed::RustEmbed)]
#[folder = "../workbench/dist"]
struct Assets;

/// What the page may load and where it may connect: only this origin
/// (the API is the same server), no frames, no plugins. The token lives in
/// session storage and is sent only to this origin.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Serves the Workbench in front of everything else (see
/// [`crate::api::answer`]): `GET /`, `/index.html` and `/assets/…`.
#[derive(Clone, Copy)]
pub struct WorkbenchLayer;

impl WorkbenchLayer {
    pub fn layer() -> AnswerLayer<Self> {
        AnswerLayer(Self)
    }
}

impl Answer for WorkbenchLayer {
    fn answer(&self, path: &str) -> Option<Response<Body>> {
        match path {
            "/" | "/index.html" => Some(file("index.html", "no-cache")),
            // Hashed names: a new build is a new name, so they may be kept forever.
            _ => path
                .strip_prefix("/assets/")
                .map(|name| file(&format!("assets/{name}"), "public, max-age=31536000, immutable")),
        }
    }
}

fn file(path: &str, cache: &'static str) -> Response<Body> {
    let Some(file) = Assets::get(path) else {
        let mut missing = Response::new(Body::empty());
        *missing.status_mut() = StatusCode::NOT_FOUND;
        return missing;
    };
    let mut response = Response::new(Body::new(http_body_util::Full::new(bytes::Bytes::from(file.data.into_owned()))));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
