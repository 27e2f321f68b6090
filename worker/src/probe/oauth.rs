//! OAuth 2.0 client-credentials tokens (RFC 6749 §4.4) through the `oauth2`
//! crate, over the probes' own HTTP client (`http.rs`): the crate builds the
//! request and parses the answer, including the provider's error response.

use std::{future::Future, pin::Pin};

use oauth2::{AuthType, ClientId, ClientSecret, RequestTokenError, Scope, TokenResponse, TokenUrl, basic::BasicClient};

use tracing::Instrument;

use super::{ProbeFailure, http};

/// Why no token was issued.
pub enum TokenError {
    /// The authorization server refused: `error` (e.g. `invalid_client`) and
    /// its description (Entra ID puts its AADSTS code there).
    Rejected { error: String, description: String },
    /// No usable answer: transport failure, 429/5xx (retryable), garbage.
    Failed(ProbeFailure),
}

/// A failure of the HTTP exchange itself, as the `oauth2` crate sees it.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("request failed")]
    Transport(#[from] reqwest::Error),
    /// Throttling or a server error, classified by `http::transient_answer`.
    #[error("throttled or failing")]
    Status(ProbeFailure),
    /// The answer could not be read (over the size cap, cut off).
    #[error("unreadable answer")]
    Body(ProbeFailure),
}

/// Adapts our client to the `oauth2` crate. A named type rather than a
/// closure: the returned future must be `Send` for every lifetime, which a
/// closure's inferred future cannot promise.
struct Http<'a>(&'a reqwest::Client, &'a str);

impl<'c> oauth2::AsyncHttpClient<'c> for Http<'_> {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let mut request = reqwest::Request::try_from(request)?;
            let span = http::request_span(self.1);
            if let Some(tp) = http::traceparent(&span) {
                request.headers_mut().insert("traceparent", tp);
            }
            let response = self.0.execute(request).instrument(span).await?;
            if let Some(failure) = http::transient_answer(self.1, &response) {
                return Err(HttpError::Status(failure));
            }
            let status = response.status();
            let mut builder = oauth2::http::Response::builder().status(status.as_u16());
            for (name, value) in response.headers() {
                builder = builder.header(name.as_str(), value.as_bytes());
            }
            let body = http::body(self.1, response).await.map_err(HttpError::Body)?;
            Ok(builder.body(body).unwrap_or_default())
        })
    }
}

/// A token the authorization server issued, with what it said about it.
pub struct IssuedToken {
    pub access_token: secrecy::SecretString,
    /// `expires_in`, if the server sent it.
    pub expires_in: Option<std::time::Duration>,
    /// The scopes granted, if the server listed them (RFC 6749 §5.1: it may
    /// leave them out when they are the ones asked for).
    pub scopes: Option<Vec<String>>,
}

/// How the client proves who it is.
#[derive(Clone, Copy)]
pub enum ClientAuth<'a> {
    /// A client secret (sent as `auth` says).
    Secret(&'a str),
    /// A signed JWT (RFC 7523 §2.2, `client_assertion`): a keyless
    /// connection's OpenID Connect token. No secret is sent.
    Assertion(&'a str),
}

/// The `client_assertion_type` of a JWT assertion (RFC 7523 §2.2).
const JWT_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Requests a token for `scope` from `token_url`; with its lifetime and
/// granted scopes (what minting reports).
pub async fn client_credentials(
    client: &reqwest::Client,
    provider: &str,
    token_url: &str,
    id: &str,
    credential: ClientAuth<'_>,
    scope: Option<&str>,
    auth: AuthType,
) -> Result<IssuedToken, TokenError> {
    let url = TokenUrl::new(token_url.to_owned())
        .map_err(|_| TokenError::Failed(http::unexpected(provider, "an unusable token endpoint in configuration")))?;
    let mut oauth = BasicClient::new(ClientId::new(id.to_owned())).set_token_uri(url).set_auth_type(auth);
    if let ClientAuth::Secret(secret) = credential {
        oauth = oauth.set_client_secret(ClientSecret::new(secret.to_owned()));
    }
    let mut request = oauth.exchange_client_credentials();
    if let ClientAuth::Assertion(assertion) = credential {
        request = request
            .add_extra_param("client_assertion_type", JWT_ASSERTION)
            .add_extra_param("client_assertion", assertion.to_owned());
    }
    if let Some(scope) = scope {
        request = request.add_scope(Scope::new(scope.to_owned()));
    }
    match request.request_async(&Http(client, provider)).await {
        Ok(token) => Ok(IssuedToken {
            access_token: secrecy::SecretString::from(token.access_token().secret().to_owned()),
            expires_in: token.expires_in(),
            scopes: token.scopes().map(|scopes| scopes.iter().map(|s| s.to_string()).collect()),
        }),
        Err(RequestTokenError::ServerResponse(e)) => Err(TokenError::Rejected {
            error: e.error().to_string(),
            description: e.error_description().cloned().unwrap_or_default(),
        }),
        Err(RequestTokenError::Request(HttpError::Transport(e))) => {
            Err(TokenError::Failed(http::transport(provider, &e)))
        }
        Err(RequestTokenError::Request(HttpError::Body(failure) | HttpError::Status(failure))) => {
            Err(TokenError::Failed(failure))
        }
        Err(_) => Err(TokenError::Failed(http::unexpected(provider, "an unreadable token response"))),
    }
}
