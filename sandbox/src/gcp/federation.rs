//! Workload identity federation, the keyless way to a service account:
//! STS `POST /v1/token` exchanges cloudconn's token (RFC 8693) for a
//! federated token, after verifying it for real against the workload
//! identity provider's issuer and checking the provider's attribute
//! condition (`assertion.sub == '<subject>'`); IAM Credentials
//! `generateAccessToken` then gives the service account's access token to
//! a federated principal holding `roles/iam.workloadIdentityUser` on it.
//! That token works on the emulator's APIs like one from the key's grant.
//!
//! In the sandbox ([`Gcp::sandbox_workload_identity`]) every well-formed
//! provider exists, trusts the sandbox issuer and, by condition, the first
//! subject presented to it; its id steers (`sandbox-wrong-subject`,
//! `sandbox-wrong-audience`, `sandbox-not-found`, `sandbox-throttled`,
//! `sandbox-down`). Every service account lets every federated principal
//! in, and its name steers as for keys (`sandbox-wrong-secret`: the
//! binding is missing).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{AUTH, Gcp, TOKEN_SECONDS, Token, now, oauth_error, sandbox_account};
use crate::{
    Call, Issued,
    magic::Magic,
    oidc::{Rejection, Verifier},
};

/// The calls of a keyless token, in order, for fault injection and counts.
pub const FEDERATION_CALLS: [Call; 2] = [
    Call { name: "gcp sts token", matches: |_, path| path == "/v1/token" },
    Call { name: "gcp generateAccessToken", matches: |_, path| path.ends_with(":generateAccessToken") },
];

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const SUBJECT_TYPES: [&str; 2] = ["urn:ietf:params:oauth:token-type:jwt", "urn:ietf:params:oauth:token-type:id_token"];
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The longest `generateAccessToken` lifetime without an org policy.
const MAX_LIFETIME_SECONDS: i64 = 3600;

/// A workload identity pool provider.
struct Provider {
    verifier: Arc<Verifier>,
    /// What its attribute condition requires `assertion.sub` to be;
    /// `None`: the sandbox's, the first subject presented.
    subject: Option<String>,
}

/// A federated token STS issued.
#[derive(Clone)]
struct Federated {
    /// `projects/<number>/locations/global/workloadIdentityPools/<pool>`.
    pool: String,
    subject: String,
    scopes: Vec<String>,
    expires_at: i64,
    /// From a sandbox provider: every service account lets it in.
    sandbox: bool,
}

#[derive(Default)]
pub(super) struct Federation {
    /// Provider full name (`projects/…/providers/<id>`) → provider.
    providers: Mutex<HashMap<String, Arc<Provider>>>,
    /// The sandbox issuer, trusted by every provider not configured.
    sandbox: Mutex<Option<Arc<Verifier>>>,
    /// (service account e-mail, pool, subject) holding workloadIdentityUser.
    bindings: Mutex<Vec<(String, String, String)>>,
    tokens: Mutex<Issued<Federated>>,
    /// Sandbox: provider full name → the first subject presented.
    pinned: Mutex<Issued<String>>,
}

/// `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<id>`
/// (with or without `//iam.googleapis.com/` or `https://iam.googleapis.com/`
/// before it) → (full name, pool, provider id).
fn provider_name(name: &str) -> Option<(String, String, String)> {
    let full = name
        .strip_prefix("//iam.googleapis.com/")
        .or_else(|| name.strip_prefix("https://iam.googleapis.com/"))
        .unwrap_or(name);
    let parts: Vec<&str> = full.split('/').collect();
    match parts.as_slice() {
        ["projects", number, "locations", "global", "workloadIdentityPools", pool, "providers", id]
            if [number, pool, id].iter().all(|p| !p.is_empty()) =>
        {
            Some((
                full.to_owned(),
                format!("projects/{number}/locations/global/workloadIdentityPools/{pool}"),
                (*id).to_owned(),
            ))
        }
        _ => None,
    }
}

impl Gcp {
    /// Creates workload identity provider `full_name` for `verifier`'s
    /// issuer, with the attribute condition `assertion.sub == subject`.
    /// Panics on a malformed name, a test's mistake.
    pub fn add_workload_identity_provider(&self, full_name: &str, verifier: impl Into<Arc<Verifier>>, subject: &str) {
        let (full, _, _) = provider_name(full_name)
            .expect("projects/<n>/locations/global/workloadIdentityPools/<pool>/providers/<id>");
        let provider = Provider { verifier: verifier.into(), subject: Some(subject.to_owned()) };
        self.federation.providers.lock().unwrap_or_else(|e| e.into_inner()).insert(full, Arc::new(provider));
    }

    /// Grants `roles/iam.workloadIdentityUser` on service account `email`
    /// to `subject` in the pool of provider `full_name`.
    pub fn grant_workload_identity_user(&self, email: &str, full_name: &str, subject: &str) {
        let (_, pool, _) = provider_name(full_name)
            .expect("projects/<n>/locations/global/workloadIdentityPools/<pool>/providers/<id>");
        let binding = (email.to_owned(), pool, subject.to_owned());
        self.federation.bindings.lock().unwrap_or_else(|e| e.into_inner()).push(binding);
    }

    /// The sandbox: every provider not configured trusts `verifier`'s
    /// issuer (see the module).
    pub fn sandbox_workload_identity(&self, verifier: impl Into<Arc<Verifier>>) {
        *self.federation.sandbox.lock().unwrap_or_else(|e| e.into_inner()) = Some(verifier.into());
    }
}

/// The request's parameters, from a form or a JSON body (Google's client
/// libraries send either).
fn parameters(headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"));
    if json {
        let object: serde_json::Map<String, Value> = serde_json::from_slice(body).unwrap_or_default();
        object.into_iter().filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned()))).collect()
    } else {
        url::form_urlencoded::parse(body).into_owned().collect()
    }
}

/// STS `POST /v1/token`: cloudconn's token for a federated access token.
pub(super) async fn exchange(State(gcp): State<Arc<Gcp>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = parameters(&headers, &body);
    let p = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if p("grant_type") != TOKEN_EXCHANGE {
        return oauth_error("unsupported_grant_type", "Invalid value for \"grant_type\".");
    }
    if !SUBJECT_TYPES.contains(&p("subject_token_type")) {
        return oauth_error("invalid_request", "Invalid value for \"subject_token_type\".");
    }
    if p("requested_token_type") != ACCESS_TOKEN {
        return oauth_error("invalid_request", "Invalid value for \"requested_token_type\".");
    }
    let invalid_target = || {
        oauth_error(
            "invalid_target",
            "The target service indicated by the \"audience\" parameters is invalid. This might either be because \
             the pool or provider is disabled or deleted or because it doesn't exist.",
        )
    };
    let Some((full, pool, id)) = provider_name(p("audience")) else { return invalid_target() };
    let federation = &gcp.federation;
    let configured = federation.providers.lock().unwrap_or_else(|e| e.into_inner()).get(&full).cloned();
    let sandbox = federation.sandbox.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let (provider, magic) = match (configured, sandbox) {
        (Some(provider), _) => (provider, Magic::Ok),
        (None, Some(verifier)) => (Arc::new(Provider { verifier, subject: None }), Magic::of(&id)),
        (None, None) => return invalid_target(),
    };
    if let Some(outage) = magic.outage() {
        return outage;
    }
    if magic == Magic::NotFound {
        return invalid_target();
    }
    let token = p("subject_token");
    if token.is_empty() {
        return oauth_error("invalid_request", "Missing required parameter: \"subject_token\".");
    }
    // The provider's default allowed audiences: its own name, in both forms.
    let expected = [format!("//iam.googleapis.com/{full}"), format!("https://iam.googleapis.com/{full}")];
    let audiences: Vec<&str> = if magic == Magic::WrongAudience {
        vec!["sandbox-wrong-audience"]
    } else {
        expected.iter().map(String::as_str).collect()
    };
    let verified = match provider.verifier.verify_any(token, &audiences).await {
        Ok(verified) => verified,
        Err(rejection) => return refusal(&rejection, provider.verifier.issuer()),
    };
    let accepted = match &provider.subject {
        Some(subject) => *subject == verified.sub,
        None if magic == Magic::WrongSubject => false,
        None => {
            let mut pinned = federation.pinned.lock().unwrap_or_else(|e| e.into_inner());
            let first = pinned.get(&full).cloned();
            if first.is_none() {
                pinned.insert(full.clone(), verified.sub.clone());
            }
            first.is_none_or(|first| first == verified.sub)
        }
    };
    if !accepted {
        return oauth_error("unauthorized_client", "The given credential is rejected by the attribute condition.");
    }
    let scopes: Vec<String> = p("scope").split_whitespace().map(str::to_owned).collect();
    if scopes.is_empty() {
        return oauth_error("invalid_scope", "Empty or missing scope not allowed.");
    }
    let access_token = format!("ya29.d.{}", crate::random_token());
    let issued = Federated {
        pool,
        subject: verified.sub,
        scopes,
        expires_at: now() + TOKEN_SECONDS,
        sandbox: provider.subject.is_none(),
    };
    federation.tokens.lock().unwrap_or_else(|e| e.into_inner()).insert(access_token.clone(), issued);
    Json(json!({
        "access_token": access_token,
        "issued_token_type": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": TOKEN_SECONDS,
    }))
    .into_response()
}

/// A verification failure in STS's words (Google does not document them
/// all; these follow what its STS answers, `invalid_grant` throughout).
fn refusal(rejection: &Rejection, issuer: &str) -> Response {
    match rejection {
        Rejection::Audience { found } => oauth_error(
            "invalid_grant",
            &format!("The audience in ID Token [{found}] does not match the expected audience."),
        ),
        Rejection::Issuer { found } => oauth_error(
            "invalid_grant",
            &format!("The issuer in ID Token [{found}] does not match the expected ones: [{issuer}]."),
        ),
        Rejection::Signature(_) => oauth_error("invalid_grant", "Invalid JWT signature."),
        Rejection::Expired { exp } => oauth_error("invalid_grant", &format!("The ID Token expired at {exp}.")),
        Rejection::NotYetValid { nbf } => {
            oauth_error("invalid_grant", &format!("The ID Token is not valid before {nbf}."))
        }
        Rejection::Malformed(_) => oauth_error("invalid_grant", "Unable to parse the ID Token."),
        Rejection::Unreachable(_) => {
            oauth_error("invalid_grant", &format!("Unable to retrieve the JWKS of issuer [{issuer}]."))
        }
    }
}

/// Google's JSON error for the IAM Credentials API.
fn google_error(status: StatusCode, state: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "code": status.as_u16(), "message": message, "status": state } }))).into_response()
}

/// IAM Credentials `generateAccessToken`, for a federated principal.
pub(super) async fn generate_access_token(
    State(gcp): State<Arc<Gcp>>,
    Path((_project, email)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(email) = email.strip_suffix(":generateAccessToken") else { return StatusCode::NOT_FOUND.into_response() };
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let federated =
        bearer.and_then(|t| gcp.federation.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(t).cloned());
    let Some(federated) = federated.filter(|f| f.expires_at > now()) else {
        return google_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other \
             valid authentication credential.",
        );
    };
    if !federated.scopes.iter().any(|s| s == CLOUD_PLATFORM) {
        return google_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Request had insufficient authentication scopes.",
        );
    }
    let denied = || {
        google_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
        )
    };
    let bound = gcp
        .federation
        .bindings
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|(e, pool, subject)| e == email && *pool == federated.pool && *subject == federated.subject);
    let account = if bound && !gcp.sandbox {
        gcp.accounts.get(email).cloned()
    } else if gcp.sandbox && (bound || federated.sandbox) {
        let magic = Magic::of(email.split('@').next().unwrap_or_default());
        if let Some(outage) = magic.outage() {
            return outage;
        }
        (magic != Magic::WrongSecret).then(|| sandbox_account(magic))
    } else {
        None
    };
    let Some(account) = account else { return denied() };
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let scopes: Vec<String> = request["scope"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if scopes.is_empty() || scopes.iter().any(|s| !s.starts_with(AUTH)) {
        return google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "Request contains an invalid argument.");
    }
    let lifetime = match request["lifetime"].as_str() {
        None => MAX_LIFETIME_SECONDS,
        Some(text) => text.strip_suffix('s').and_then(|n| n.parse::<f64>().ok()).map_or(0, |n| n as i64),
    };
    if !(1..=MAX_LIFETIME_SECONDS).contains(&lifetime) {
        let message = format!("The lifetime must be between 1s and {MAX_LIFETIME_SECONDS}s.");
        return google_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", &message);
    }
    let expires_at = now() + lifetime;
    let access_token = crate::random_token();
    let token = Token { account, email: email.to_owned(), scopes, expires_at };
    gcp.tokens.lock().unwrap_or_else(|e| e.into_inner()).insert(access_token.clone(), token);
    let expire_time = chrono::DateTime::from_timestamp(expires_at, 0).unwrap_or_default();
    Json(json!({
        "accessToken": access_token,
        "expireTime": expire_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_are_read_in_each_form() {
        let full = "projects/123/locations/global/workloadIdentityPools/cloudconn/providers/acme";
        let pool = "projects/123/locations/global/workloadIdentityPools/cloudconn";
        for name in
            [full.to_owned(), format!("//iam.googleapis.com/{full}"), format!("https://iam.googleapis.com/{full}")]
        {
            assert_eq!(provider_name(&name), Some((full.to_owned(), pool.to_owned(), "acme".to_owned())));
        }
        assert_eq!(provider_name("projects/123/locations/global/workloadIdentityPools/cloudconn"), None);
        assert_eq!(provider_name("projects//locations/global/workloadIdentityPools/p/providers/x"), None);
    }
}
