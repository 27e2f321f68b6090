//! The issuer's public documents (docs/keyless.md): `GET
//! /.well-known/openid-configuration` and the JWKS it names, on the gRPC
//! port, to anyone.
//!
//! The clouds fetch these while a customer's token exchange waits (AWS and
//! Google give up after about 5 s), so the answer never waits for Vault:
//! it comes from the key list [`Issuer::run_refresh`] keeps in memory, and
//! the last good list is served while Vault is away. Both documents are a
//! few hundred bytes built from that list; nothing a caller sends is read
//! beyond the request line, so they need no budget of their own beyond the
//! server's connection limits.
//!
//! Like the Workbench, these requests are answered in front of every other
//! layer (gRPC-Web refuses plain HTTP/1.1 GETs); anything else passes on.

use std::sync::Arc;

use bytes::Bytes;
use cloudconn_infra::oidc::{DISCOVERY_PATH, Issuer, JWKS_PATH};
use http::{HeaderValue, Response, StatusCode, header};
use tonic::body::Body;

use crate::api::answer::{Answer, AnswerLayer};

#[derive(Clone)]
pub struct OidcDocuments {
    issuer: Arc<Issuer>,
    /// The issuer URL's path ("" for a bare host): the documents are served
    /// under it, and at the root for a proxy that strips it.
    base: String,
}

impl OidcDocuments {
    pub fn layer(issuer: Arc<Issuer>) -> AnswerLayer<Self> {
        let base =
            url::Url::parse(issuer.issuer()).map(|u| u.path().trim_end_matches('/').to_owned()).unwrap_or_default();
        AnswerLayer(Self { issuer, base })
    }
}

/// Which document a path asks for.
enum Document {
    Discovery,
    Jwks,
}

impl Answer for OidcDocuments {
    fn answer(&self, path: &str) -> Option<Response<Body>> {
        let path = path.strip_prefix(self.base.as_str()).filter(|p| p.starts_with('/')).unwrap_or(path);
        match path {
            DISCOVERY_PATH => Some(self.document(Document::Discovery)),
            JWKS_PATH => Some(self.document(Document::Jwks)),
            _ => None,
        }
    }
}

impl OidcDocuments {
    fn document(&self, document: Document) -> Response<Body> {
        let body = match document {
            Document::Discovery => Some(self.issuer.discovery()),
            Document::Jwks => self.issuer.jwks_snapshot(),
        };
        let Some(body) = body else {
            // Not read yet (Vault unreachable since start): say when to
            // come back, and let nobody cache the refusal.
            let mut busy = Response::new(Body::empty());
            *busy.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            busy.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            busy.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return busy;
        };
        let bytes = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
        let mut response = Response::new(Body::new(http_body_util::Full::new(bytes)));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let max_age = self.issuer.jwks_max_age().as_secs().max(1);
        if let Ok(cache) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
            headers.insert(header::CACHE_CONTROL, cache);
        }
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        // Public documents: any origin may read them (browser-based tools).
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        response
    }
}
