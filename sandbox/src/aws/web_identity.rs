//! STS `AssumeRoleWithWebIdentity`, the keyless way in: unsigned (the
//! token is the credential), Query protocol. The token is verified for
//! real against the IAM OIDC provider registered for its issuer
//! ([`Aws::add_oidc_provider`]): signature by a key of the issuer's JWKS,
//! expiry, and an audience among the provider's client ids. Then the
//! role's trust policy: its `<host>:sub` condition must name the token's
//! subject ([`Aws::trust_web_identity`]).
//!
//! In the sandbox ([`Aws::sandbox_oidc_provider`]) a role nobody
//! configured trusts the first subject presented to it, and its name
//! steers as for `AssumeRole`, plus `sandbox-wrong-subject` (the trust
//! names another subject) and `sandbox-wrong-audience` (the provider lists
//! another client id).
//!
//! The session issued is the kind `AssumeRole` issues, `Policy` and
//! `DurationSeconds` honoured alike, so the scope checks and minted
//! credentials work the same on it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{http::StatusCode, response::Response};

use super::{
    AssumedRole, Aws, Protocol, error, esc, request_id, role_name,
    sts::{issue_session, outage, session_terms},
    xml,
};
use crate::{
    Issued,
    magic::Magic,
    oidc::{self, Rejection, Verifier},
};

pub(super) const ACTION: &str = "AssumeRoleWithWebIdentity";

/// The audience an IAM OIDC provider lists by default: the one AWS's own
/// SDKs and GitHub's action use.
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";

struct Provider {
    verifier: Arc<Verifier>,
    audiences: Vec<String>,
    /// Roles with no trust configured trust the first subject.
    sandbox: bool,
}

/// The account's OIDC providers and its roles' web identity trust.
#[derive(Default)]
pub(super) struct Trust {
    providers: Mutex<Vec<Arc<Provider>>>,
    /// Role ARN → the subjects its trust policy names.
    subjects: Mutex<HashMap<String, Vec<String>>>,
    /// Sandbox: role ARN → the first subject presented.
    pinned: Mutex<Issued<String>>,
}

impl Aws {
    /// Registers an IAM OIDC provider for `verifier`'s issuer, whose
    /// client ids (accepted `aud`s) are `audiences`. One replaces another
    /// of the same issuer.
    pub fn add_oidc_provider(
        &self,
        verifier: impl Into<Arc<Verifier>>,
        audiences: impl IntoIterator<Item = impl Into<String>>,
    ) {
        let audiences = audiences.into_iter().map(Into::into).collect();
        self.add_provider(Provider { verifier: verifier.into(), audiences, sandbox: false });
    }

    /// The sandbox's provider: [`DEFAULT_AUDIENCE`], and roles with no
    /// configured trust trust the first subject presented to them.
    pub fn sandbox_oidc_provider(&self, verifier: impl Into<Arc<Verifier>>) {
        let audiences = vec![DEFAULT_AUDIENCE.to_owned()];
        self.add_provider(Provider { verifier: verifier.into(), audiences, sandbox: true });
    }

    fn add_provider(&self, provider: Provider) {
        let mut providers = self.web.providers.lock().unwrap_or_else(|e| e.into_inner());
        providers.retain(|p| p.verifier.issuer() != provider.verifier.issuer());
        providers.push(Arc::new(provider));
    }

    /// Role `role_arn`'s trust policy lets in web identities whose `sub`
    /// is `subject` (from any registered provider: the stand-in does not
    /// keep the condition's `<host>` apart). Adds to the subjects already
    /// trusted.
    pub fn trust_web_identity(&self, role_arn: &str, subject: &str) {
        let mut subjects = self.web.subjects.lock().unwrap_or_else(|e| e.into_inner());
        let trusted = subjects.entry(role_arn.to_owned()).or_default();
        if !trusted.iter().any(|s| s == subject) {
            trusted.push(subject.to_owned());
        }
    }

    /// Whether the role trusts `subject`: as configured, else (sandbox) the
    /// first subject it saw.
    fn trusts_subject(&self, provider: &Provider, role_arn: &str, subject: &str, magic: Magic) -> bool {
        if let Some(trusted) = self.web.subjects.lock().unwrap_or_else(|e| e.into_inner()).get(role_arn) {
            return trusted.iter().any(|s| s == subject);
        }
        if !provider.sandbox {
            return false;
        }
        match magic {
            Magic::WrongSubject | Magic::WrongSecret | Magic::NotFound => return false,
            Magic::OpenTrust => return true,
            _ => {}
        }
        let mut pinned = self.web.pinned.lock().unwrap_or_else(|e| e.into_inner());
        match pinned.get(role_arn) {
            Some(first) => first == subject,
            None => {
                pinned.insert(role_arn.to_owned(), subject.to_owned());
                true
            }
        }
    }
}

/// `AssumeRoleWithWebIdentity`, recorded (without its token) like
/// `AssumeRole`.
pub(super) async fn assume(aws: &Aws, form: &HashMap<String, String>) -> Response {
    let param = |k: &str| form.get(k).cloned().unwrap_or_default();
    let mut call = AssumedRole {
        role_arn: param("RoleArn"),
        session_name: param("RoleSessionName"),
        external_id: String::new(),
        policy: form.get("Policy").cloned(),
        duration_seconds: form.get("DurationSeconds").map(|d| d.parse::<u64>().unwrap_or(0)),
        granted: false,
        web_identity: true,
        subject: None,
    };
    let answer = checked(aws, &mut call, form.get("WebIdentityToken").map(String::as_str).unwrap_or_default()).await;
    call.granted = answer.status().is_success();
    aws.record(call);
    answer
}

fn invalid_token(message: &str) -> Response {
    error(Protocol::Query, StatusCode::BAD_REQUEST, "InvalidIdentityToken", message)
}

async fn checked(aws: &Aws, call: &mut AssumedRole, token: &str) -> Response {
    let q = Protocol::Query;
    if token.is_empty() {
        let message = "1 validation error detected: Value null at 'webIdentityToken' failed to satisfy constraint: \
                       Member must not be null";
        return error(q, StatusCode::BAD_REQUEST, "ValidationError", message);
    }
    let terms = match session_terms(call) {
        Ok(terms) => terms,
        Err(refused) => return refused,
    };
    let magic = Magic::of(role_name(&call.role_arn));
    if let Some(answer) = outage(magic) {
        return answer;
    }
    let Ok(claims) = oidc::unverified_claims(token) else {
        return invalid_token("Couldn't parse the web identity token: it is not a JWT");
    };
    let iss = oidc::claim(&claims, "iss").to_owned();
    let provider = {
        let providers = aws.web.providers.lock().unwrap_or_else(|e| e.into_inner());
        providers.iter().find(|p| p.verifier.issuer() == iss.trim_end_matches('/')).cloned()
    };
    let Some(provider) = provider else {
        return invalid_token(&format!("No OpenIDConnect provider found in your account for {iss}"));
    };
    // The sandbox's provider lists a client id no token is addressed to.
    let audiences: Vec<&str> = if provider.sandbox && magic == Magic::WrongAudience {
        vec!["sandbox-wrong-audience"]
    } else {
        provider.audiences.iter().map(String::as_str).collect()
    };
    let verified = match provider.verifier.verify_any(token, &audiences).await {
        Ok(verified) => verified,
        Err(rejection) => return refusal(&rejection, &iss),
    };
    call.subject = Some(verified.sub.clone());
    if !aws.trusts_subject(&provider, &call.role_arn, &verified.sub, magic) {
        return error(
            q,
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        );
    }
    let issued = issue_session(aws, call, magic, terms);
    let (subject, audience, provider) = (esc(&verified.sub), esc(&verified.aud), esc(&verified.iss));
    let id = request_id();
    xml(format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <AssumeRoleWithWebIdentityResult>{issued}<SubjectFromWebIdentityToken>{subject}</SubjectFromWebIdentityToken>\
         <Audience>{audience}</Audience><Provider>{provider}</Provider></AssumeRoleWithWebIdentityResult>\
         <ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>"
    ))
}

/// A verification failure in STS's words.
fn refusal(rejection: &Rejection, iss: &str) -> Response {
    let q = Protocol::Query;
    match rejection {
        Rejection::Malformed(_) => invalid_token("Couldn't parse the web identity token"),
        Rejection::Issuer { .. } => {
            invalid_token(&format!("No OpenIDConnect provider found in your account for {iss}"))
        }
        Rejection::Signature(_) => invalid_token("The web identity token's signature could not be verified"),
        Rejection::Expired { exp } => {
            let at = chrono::DateTime::from_timestamp(*exp, 0).unwrap_or_default();
            let message = format!(
                "Token expired: current date/time {} must be before the expiration date/time {}",
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
                at.format("%Y-%m-%dT%H:%M:%SZ")
            );
            error(q, StatusCode::BAD_REQUEST, "ExpiredTokenException", &message)
        }
        Rejection::NotYetValid { .. } => invalid_token("The web identity token is not yet valid"),
        Rejection::Audience { .. } => invalid_token("Incorrect token audience"),
        Rejection::Unreachable(_) => error(
            q,
            StatusCode::BAD_REQUEST,
            "IDPCommunicationError",
            "Couldn't retrieve verification key from your identity provider, please reference \
             AssumeRoleWithWebIdentity documentation for requirements",
        ),
    }
}
