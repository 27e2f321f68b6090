//! MongoDB Atlas: the Administration API v2 with a programmatic API key.
//!
//! Atlas authenticates API keys with HTTP Digest (RFC 7616; the public key
//! is the user name, the private key the password): the first request is
//! answered 401 with a challenge, which `digest_auth` answers. Then:
//! `GET /api/atlas/v2/groups/{project}` (the project must exist and be
//! visible to the key) and, for the database scope, its clusters list.
//! Every request carries the versioned media type the v2 API requires.

use reqwest::{Client, Method, Response, StatusCode, header};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{ErrorCode, Probe, ProbeFailure, ProbeReport, ProbeRequest, http};
use cloudconn_infra::{amqp::messages::ScopeCheck, permissions, secrets::SecretFields};

pub(crate) const PROVIDER: &str = "MongoDB Atlas";
/// The Atlas Administration API v2 resource version we speak.
pub const ACCEPT: &str = "application/vnd.atlas.2023-01-01+json";

pub struct AtlasProbe {
    pub base: String,
    pub client: Client,
}

#[derive(Deserialize)]
struct Group {
    id: String,
    name: String,
    #[serde(rename = "orgId", default)]
    org_id: String,
}

#[derive(Deserialize, Default)]
struct AtlasError {
    #[serde(rename = "errorCode", default)]
    error_code: String,
}

/// One Atlas session: the digest challenge is answered once and reused
/// (its nonce count advances) for the following requests. The probe's,
/// and minting's (which creates, lists and deletes database users).
pub(crate) struct Session<'a> {
    client: &'a Client,
    base: &'a str,
    user: String,
    password: String,
    challenge: Option<digest_auth::WwwAuthenticateHeader>,
}

impl<'a> Session<'a> {
    /// A session with the saved API key on its project, whose values are
    /// re-checked first (they go into a URL path and the Digest header);
    /// returns it with the project id.
    pub(crate) fn open(
        client: &'a Client,
        base: &'a str,
        credentials: &SecretFields,
    ) -> Result<(Self, String), ProbeFailure> {
        let field = |name: &str| credentials.get(name).map(|v| v.expose_secret().to_owned()).unwrap_or_default();
        let project = field("project_id");
        http::path_segment("project_id", &project)?;
        // The Digest user name, quoted in the Authorization header.
        let public_key = field("atlas_public_key");
        http::header_token("atlas_public_key", &public_key)?;
        let session = Self { client, base, user: public_key, password: field("atlas_private_key"), challenge: None };
        Ok((session, project))
    }

    pub(crate) async fn get(&mut self, segments: &[&str]) -> Result<Response, ProbeFailure> {
        self.send(Method::GET, segments, &[], None).await
    }

    /// One request of the Administration API, answering the digest
    /// challenge on first contact.
    pub(crate) async fn send(
        &mut self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<Response, ProbeFailure> {
        let mut url = http::url(PROVIDER, self.base, segments)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        // The digest covers the request target as sent (RFC 7616 §3.4: the
        // request-uri, query included).
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        for _ in 0..2 {
            let mut request = self.client.request(method.clone(), url.clone()).header(header::ACCEPT, ACCEPT);
            // First contact carries no body: Atlas answers it 401 with the
            // challenge before reading one, so what a body holds (a new
            // database user's password) is sent only once authenticated.
            if let (Some(body), true) = (body, self.challenge.is_some()) {
                // The v2 API wants its versioned media type on bodies too.
                request = request.header(header::CONTENT_TYPE, ACCEPT).body(body.to_string());
            }
            if let Some(challenge) = self.challenge.as_mut() {
                let context = digest_auth::AuthContext::new_with_method(
                    self.user.as_str(),
                    self.password.as_str(),
                    target.as_str(),
                    None::<&[u8]>,
                    digest_auth::HttpMethod(method.as_str().to_owned().into()),
                );
                let answer = challenge
                    .respond(&context)
                    .map_err(|_| http::unexpected(PROVIDER, "a digest challenge we cannot answer"))?;
                request = request.header(header::AUTHORIZATION, answer.to_header_string());
            }
            let response = http::send(PROVIDER, request).await?;
            if response.status() != StatusCode::UNAUTHORIZED || self.challenge.is_some() {
                return Ok(response);
            }
            // First contact: take the challenge and answer it.
            let header = response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .and_then(|h| h.to_str().ok())
                .ok_or_else(|| http::unexpected(PROVIDER, "401 without a digest challenge"))?;
            self.challenge = Some(
                digest_auth::parse(header).map_err(|_| http::unexpected(PROVIDER, "a malformed digest challenge"))?,
            );
        }
        Err(http::unexpected(PROVIDER, "repeated challenges"))
    }
}

/// The `errorCode` of an error answer (empty if it has none).
pub(crate) async fn error_code(response: Response) -> String {
    http::json::<AtlasError>(PROVIDER, response, "error").await.unwrap_or_default().error_code
}

/// What a 401, 403 or 404 from the project's API means; `None` for any
/// other status. `role` is the project role the call needs, for the hint.
pub(crate) async fn refusal(response: Response, project: &str, role: &str) -> Option<ProbeFailure> {
    let status = response.status();
    let code = if status == StatusCode::FORBIDDEN { error_code(response).await } else { String::new() };
    refused(status, &code, project, role)
}

/// [`refusal`] once the answer's `errorCode` has been read (minting reads
/// it first: some of its refusals are not about the key).
pub(crate) fn refused(status: StatusCode, code: &str, project: &str, role: &str) -> Option<ProbeFailure> {
    match status {
        StatusCode::UNAUTHORIZED => Some(ProbeFailure::new(
            ErrorCode::InvalidCredentials,
            "Atlas rejected the API key",
            "Check the public and private key of the programmatic API key; the private key is shown only once, when the key is created.",
        )),
        StatusCode::FORBIDDEN => {
            if code.contains("ACCESS_LIST") || code.contains("WHITELIST") {
                return Some(ProbeFailure::new(
                    ErrorCode::AccessDenied,
                    "Atlas refused the request: the caller's IP address is not on the API key's access list",
                    "Add the cloudconn workers' egress IP addresses to the API key's IP access list in Atlas.",
                ));
            }
            Some(ProbeFailure::new(
                ErrorCode::AccessDenied,
                format!("the API key may not do this on project {project} ({code})"),
                format!("Give the API key at least the {role} role on this project."),
            ))
        }
        StatusCode::NOT_FOUND => Some(ProbeFailure::new(
            ErrorCode::ResourceNotFound,
            format!("Atlas has no project {project} visible to this key"),
            "Check the project id (Project Settings → Project ID) and that the key belongs to its organization.",
        )),
        _ => None,
    }
}

#[async_trait::async_trait]
impl Probe for AtlasProbe {
    async fn probe(&self, request: &ProbeRequest, credentials: &SecretFields) -> Result<ProbeReport, ProbeFailure> {
        let (mut session, project) = Session::open(&self.client, &self.base, credentials)?;
        let segment = project.as_str();

        let response = session.get(&["api", "atlas", "v2", "groups", segment]).await?;
        match response.status() {
            StatusCode::OK => {}
            s @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) => {
                let failure = refusal(response, &project, "Project Read Only").await;
                return Err(failure.unwrap_or_else(|| http::unexpected(PROVIDER, &format!("status {s}"))));
            }
            s => return Err(http::unexpected(PROVIDER, &format!("status {s}"))),
        }
        let group: Group = http::json(PROVIDER, response, "project").await?;

        let mut scope_checks = Vec::new();
        for scope in &request.scopes {
            let granted = match scope.as_str() {
                "database" => {
                    let response = session.get(&["api", "atlas", "v2", "groups", segment, "clusters"]).await?;
                    match response.status() {
                        StatusCode::OK => true,
                        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => false,
                        s => return Err(http::unexpected(PROVIDER, &format!("clusters answered {s}"))),
                    }
                }
                _ => false,
            };
            scope_checks.push(ScopeCheck {
                scope: scope.clone(),
                granted,
                missing_permissions: if granted {
                    vec![]
                } else {
                    permissions::for_scope("mongodb_atlas", scope).iter().map(|p| (*p).to_owned()).collect()
                },
            });
        }
        let mut report = ProbeReport { scope_checks, ..Default::default() };
        report.identity.insert("project_id".into(), group.id);
        report.identity.insert("project_name".into(), group.name);
        if !group.org_id.is_empty() {
            report.identity.insert("org_id".into(), group.org_id);
        }
        Ok(report)
    }
}
