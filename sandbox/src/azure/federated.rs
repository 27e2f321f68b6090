//! Entra ID's federated identity credentials, the keyless way to an app's
//! token: the client credentials grant with a `client_assertion` (a JWT
//! of an external issuer) instead of a secret. The assertion is verified
//! for real against the issuer of a credential of the app (signature by a
//! key of its JWKS, validity times), and a credential must match its
//! issuer, subject and audience exactly, as Entra ID matches them.
//!
//! In the sandbox ([`Azure::sandbox_federated_credentials`]) every app has
//! one credential: the sandbox issuer, [`DEFAULT_AUDIENCE`], and the first
//! subject presented. The client id (a GUID: a word's [`guid`]) steers:
//! `sandbox-wrong-subject`, `sandbox-wrong-audience`, `sandbox-wrong-secret`
//! (no credential at all), and the others as for a secret.
//!
//! [`guid`]: crate::magic::guid

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{http::StatusCode, response::Response};

use super::{Azure, aad_error, issue, resource, sandbox_app_of};
use crate::{
    Issued,
    magic::Magic,
    oidc::{self, Rejection, Verifier},
};

/// The audience Entra ID suggests for a federated credential.
pub const DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Entra ID's refusals end by pointing at what to compare.
const COMPARE: &str = "Please check your federated identity credential Subject, Audience and Issuer against the \
                       presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

struct Credential {
    tenant: String,
    client_id: String,
    verifier: Arc<Verifier>,
    /// `None`: the sandbox's, the first subject presented to the app.
    subject: Option<String>,
    audience: String,
}

#[derive(Default)]
pub(super) struct Credentials {
    configured: Mutex<Vec<Arc<Credential>>>,
    sandbox: Mutex<Option<Arc<Verifier>>>,
    /// Sandbox: `tenant/client id` → the first subject presented.
    pinned: Mutex<Issued<String>>,
}

impl Azure {
    /// Adds a federated identity credential to app `client_id` of `tenant`:
    /// tokens of `verifier`'s issuer whose `sub` is `subject` and `aud` is
    /// `audience` ([`DEFAULT_AUDIENCE`], usually).
    pub fn add_federated_credential(
        &self,
        tenant: &str,
        client_id: &str,
        verifier: impl Into<Arc<Verifier>>,
        subject: &str,
        audience: &str,
    ) {
        let credential = Credential {
            tenant: tenant.to_owned(),
            client_id: client_id.to_owned(),
            verifier: verifier.into(),
            subject: Some(subject.to_owned()),
            audience: audience.to_owned(),
        };
        self.federated.configured.lock().unwrap_or_else(|e| e.into_inner()).push(Arc::new(credential));
    }

    /// The sandbox: apps without a configured credential have one for
    /// `verifier`'s issuer (see the module).
    pub fn sandbox_federated_credentials(&self, verifier: impl Into<Arc<Verifier>>) {
        *self.federated.sandbox.lock().unwrap_or_else(|e| e.into_inner()) = Some(verifier.into());
    }
}

fn invalid_client(code: u32, text: &str) -> Response {
    aad_error(StatusCode::UNAUTHORIZED, "invalid_client", code, text)
}

/// The token endpoint's answer to a client assertion.
pub(super) async fn token(azure: &Azure, tenant: &str, form: &HashMap<String, String>) -> Response {
    let f = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let (client_id, assertion) = (f("client_id"), f("client_assertion"));
    if f("client_assertion_type") != JWT_BEARER || assertion.is_empty() {
        return invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    let magic = if azure.sandbox { Magic::of_id(client_id) } else { Magic::Ok };
    if let Some(outage) = magic.outage() {
        return outage;
    }
    if !azure.sandbox && !azure.tenants.iter().any(|t| t == tenant) {
        return aad_error(StatusCode::BAD_REQUEST, "invalid_request", 90002, &format!("Tenant '{tenant}' not found."));
    }
    let audience = match resource(f("scope")) {
        Ok(audience) => audience,
        Err(refused) => return refused,
    };
    let app = if azure.sandbox {
        Some(sandbox_app_of(tenant, "", magic))
    } else {
        azure.apps.get(client_id).filter(|a| a.tenant == tenant).cloned()
    };
    let Some(mut app) = app else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'."),
        );
    };
    let Ok(claims) = oidc::unverified_claims(assertion) else {
        return aad_error(StatusCode::BAD_REQUEST, "invalid_request", 50027, "JWT token is invalid or malformed.");
    };
    let (iss, sub) = (oidc::claim(&claims, "iss"), oidc::claim(&claims, "sub"));
    let credentials = credentials_of(azure, tenant, client_id, magic);
    let of_issuer: Vec<&Arc<Credential>> = credentials.iter().filter(|c| c.verifier.issuer() == iss).collect();
    if of_issuer.is_empty() {
        let text =
            format!("No matching federated identity record found for presented assertion issuer '{iss}'. {COMPARE}");
        return invalid_client(700211, &text);
    }
    let wrong_subject = || {
        let text =
            format!("No matching federated identity record found for presented assertion subject '{sub}'. {COMPARE}");
        invalid_client(700213, &text)
    };
    // The sandbox's credential takes the subject it is first shown, which
    // is only pinned once the assertion is verified.
    let of_subject: Vec<&Arc<Credential>> =
        of_issuer.into_iter().filter(|c| c.subject.as_deref().is_none_or(|s| s == sub)).collect();
    if of_subject.is_empty() || magic == Magic::WrongSubject {
        return wrong_subject();
    }
    let audiences: Vec<&str> = of_subject.iter().map(|c| c.audience.as_str()).collect();
    let verified = match of_subject[0].verifier.verify_any(assertion, &audiences).await {
        Ok(verified) => verified,
        Err(rejection) => return refusal(&rejection, &claims),
    };
    let sandboxed = of_subject.iter().all(|c| c.subject.is_none());
    if sandboxed && !pin(azure, &format!("{tenant}/{client_id}"), &verified.sub) {
        return wrong_subject();
    }
    app.client_id = client_id.to_owned();
    issue(azure, tenant, app, audience)
}

/// The app's credentials: those configured, else the sandbox's.
fn credentials_of(azure: &Azure, tenant: &str, client_id: &str, magic: Magic) -> Vec<Arc<Credential>> {
    let configured: Vec<Arc<Credential>> = azure
        .federated
        .configured
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|c| c.tenant == tenant && c.client_id == client_id)
        .cloned()
        .collect();
    let sandbox = azure.federated.sandbox.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match sandbox {
        Some(verifier) if configured.is_empty() && magic != Magic::WrongSecret => {
            let audience = if magic == Magic::WrongAudience { "sandbox-wrong-audience" } else { DEFAULT_AUDIENCE };
            let credential = Credential {
                tenant: tenant.to_owned(),
                client_id: client_id.to_owned(),
                verifier,
                subject: None,
                audience: audience.to_owned(),
            };
            vec![Arc::new(credential)]
        }
        _ => configured,
    }
}

/// Whether `subject` is the first one the sandbox app saw (pinning it if
/// it is the first).
fn pin(azure: &Azure, app: &str, subject: &str) -> bool {
    let mut pinned = azure.federated.pinned.lock().unwrap_or_else(|e| e.into_inner());
    match pinned.get(app) {
        Some(first) => first == subject,
        None => {
            pinned.insert(app.to_owned(), subject.to_owned());
            true
        }
    }
}

/// A verification failure in Entra ID's words. Entra ID documents no code
/// for a federated assertion whose signature fails; AADSTS700027 is what
/// it answers a client assertion with an invalid signature.
fn refusal(rejection: &Rejection, claims: &serde_json::Map<String, serde_json::Value>) -> Response {
    let time = |name: &str| {
        let at = claims.get(name).and_then(serde_json::Value::as_i64).unwrap_or_default();
        chrono::DateTime::from_timestamp(at, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S.0000000Z").to_string()
    };
    match rejection {
        Rejection::Audience { found } => invalid_client(
            700212,
            &format!(
                "No matching federated identity record found for presented assertion audience '{found}'. {COMPARE}"
            ),
        ),
        Rejection::Issuer { found } => invalid_client(
            700211,
            &format!("No matching federated identity record found for presented assertion issuer '{found}'. {COMPARE}"),
        ),
        Rejection::Expired { .. } | Rejection::NotYetValid { .. } => {
            // Entra ID writes seven decimals; chrono's widest short of nine is six.
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f");
            let text = format!(
                "Client assertion is not within its valid time range. Current time: {now}0Z, assertion valid from {}, \
                 expiry time of assertion {}.",
                time("nbf"),
                time("exp")
            );
            invalid_client(700024, &text)
        }
        Rejection::Signature(_) => invalid_client(700027, "Client assertion contains an invalid signature."),
        Rejection::Malformed(_) => {
            aad_error(StatusCode::BAD_REQUEST, "invalid_request", 50027, "JWT token is invalid or malformed.")
        }
        Rejection::Unreachable(_) => {
            aad_error(StatusCode::BAD_REQUEST, "invalid_request", 50166, "Request to External OIDC endpoint failed.")
        }
    }
}
