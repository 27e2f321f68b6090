//! STS's signed calls: `AssumeRole` (the external id checked against the
//! role's pretend trust policy, see the module above) and
//! `GetCallerIdentity`, plus what `AssumeRoleWithWebIdentity` shares with
//! `AssumeRole`: the session's terms and the session itself.

use std::collections::HashMap;

use axum::{http::StatusCode, response::Response};

use super::{
    AssumedRole, Aws, MAX_SESSION_SECONDS, PLATFORM_ACCOUNT, PLATFORM_PRINCIPAL, Protocol, Session, Signed, account,
    error, esc, policy_actions, request_id, role_name, xml,
};
use crate::magic::Magic;

pub(super) fn sts(aws: &Aws, signed: &Signed, form: &HashMap<String, String>) -> Response {
    let q = Protocol::Query;
    let param = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let id = request_id();
    match param("Action") {
        "AssumeRole" => assume_role(aws, signed, form),
        "GetCallerIdentity" => {
            let (user_id, account, arn) = if signed.access_key == aws.platform_key {
                let arn = PLATFORM_PRINCIPAL.to_owned();
                (signed.access_key.clone(), PLATFORM_ACCOUNT.to_owned(), arn)
            } else {
                let sessions = aws.sessions.lock().unwrap_or_else(|e| e.into_inner());
                let Some(s) = sessions.get(&signed.access_key) else {
                    return error(
                        q,
                        StatusCode::FORBIDDEN,
                        "InvalidClientTokenId",
                        "The security token included in the request is invalid.",
                    );
                };
                let account = esc(account(&s.role_arn));
                let arn =
                    format!("arn:aws:sts::{account}:assumed-role/{}/{}", esc(role_name(&s.role_arn)), esc(&s.name));
                (format!("AROASANDBOX:{}", esc(&s.name)), account, arn)
            };
            xml(format!(
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>\
                 <UserId>{user_id}</UserId><Account>{account}</Account><Arn>{arn}</Arn></GetCallerIdentityResult>\
                 <ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
            ))
        }
        other => error(q, StatusCode::BAD_REQUEST, "InvalidAction", &format!("Could not find operation {other}")),
    }
}

fn assume_role(aws: &Aws, signed: &Signed, form: &HashMap<String, String>) -> Response {
    let q = Protocol::Query;
    let param = |k: &str| form.get(k).cloned().unwrap_or_default();
    if signed.access_key != aws.platform_key {
        return error(
            q,
            StatusCode::FORBIDDEN,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        );
    }
    let (role_arn, session_name, external_id) = (param("RoleArn"), param("RoleSessionName"), param("ExternalId"));
    let policy = form.get("Policy").cloned();
    let duration = form.get("DurationSeconds").map(|d| d.parse::<u64>().unwrap_or(0));
    let mut call = AssumedRole {
        role_arn: role_arn.clone(),
        session_name: session_name.clone(),
        external_id: external_id.clone(),
        policy: policy.clone(),
        duration_seconds: duration,
        granted: false,
        web_identity: false,
        subject: None,
    };
    let answer = assume_checked(aws, &call);
    call.granted = answer.status().is_success();
    aws.record(call);
    answer
}

/// What a role session may do and for how long, from an `AssumeRole` (or
/// `AssumeRoleWithWebIdentity`) request; AWS's refusal otherwise.
pub(super) struct Terms {
    seconds: u64,
    allowed: Option<Vec<String>>,
}

/// The checks both `AssumeRole` calls make of the role and the session
/// asked for, before who asks is considered.
pub(super) fn session_terms(call: &AssumedRole) -> Result<Terms, Response> {
    let q = Protocol::Query;
    let role_arn = &call.role_arn;
    let well_formed = role_arn.starts_with("arn:aws") && role_arn.contains(":role/") && account(role_arn).len() == 12;
    if !well_formed || call.session_name.is_empty() {
        return Err(error(q, StatusCode::BAD_REQUEST, "ValidationError", "RoleArn and RoleSessionName are required"));
    }
    let seconds = call.duration_seconds.unwrap_or(3600);
    if !(900..=43_200).contains(&seconds) {
        let message = format!(
            "1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to satisfy constraint: \
             Member must have value between 900 and 43200"
        );
        return Err(error(q, StatusCode::BAD_REQUEST, "ValidationError", &message));
    }
    if seconds > MAX_SESSION_SECONDS {
        let message = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.";
        return Err(error(q, StatusCode::BAD_REQUEST, "ValidationError", message));
    }
    let allowed = match call.policy.as_deref().map(policy_actions) {
        None => None,
        Some(Some(actions)) => Some(actions),
        Some(None) => {
            return Err(error(q, StatusCode::BAD_REQUEST, "MalformedPolicyDocument", "The policy is not valid JSON."));
        }
    };
    Ok(Terms { seconds, allowed })
}

/// Throttled and down roles' answers, alike for both `AssumeRole` calls.
pub(super) fn outage(magic: Magic) -> Option<Response> {
    let q = Protocol::Query;
    match magic {
        Magic::Throttled => Some(error(q, StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded")),
        Magic::Down => Some(error(q, StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "Service is unavailable")),
        _ => None,
    }
}

/// A new role session's `<Credentials>` and `<AssumedRoleUser>`, as both
/// `AssumeRole` answers carry them.
pub(super) fn issue_session(aws: &Aws, call: &AssumedRole, magic: Magic, terms: Terms) -> String {
    let access_key = format!("ASIA{}", crate::random_token()[..16].to_uppercase());
    let session = Session {
        role_arn: call.role_arn.clone(),
        name: call.session_name.clone(),
        token: format!("{}{}", crate::random_token(), crate::random_token()),
        magic,
        allowed: terms.allowed,
        expires_at: chrono::Utc::now() + chrono::Duration::seconds(terms.seconds as i64),
    };
    let (secret, token) = (crate::random_token(), session.token.clone());
    let expiration = session.expires_at.format("%Y-%m-%dT%H:%M:%SZ");
    aws.sessions.lock().unwrap_or_else(|e| e.into_inner()).insert(access_key.clone(), session);
    let account = esc(account(&call.role_arn));
    let name = esc(role_name(&call.role_arn));
    let session_name = esc(&call.session_name);
    format!(
        "<Credentials><AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>\
         <SessionToken>{token}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROASANDBOX:{session_name}</AssumedRoleId>\
         <Arn>arn:aws:sts::{account}:assumed-role/{name}/{session_name}</Arn></AssumedRoleUser>"
    )
}

/// `AssumeRole`'s checks and answer.
fn assume_checked(aws: &Aws, call: &AssumedRole) -> Response {
    let q = Protocol::Query;
    let terms = match session_terms(call) {
        Ok(terms) => terms,
        Err(refused) => return refused,
    };
    let role_arn = &call.role_arn;
    let magic = Magic::of(role_name(role_arn));
    let denied = || {
        let message =
            format!("User: {PLATFORM_PRINCIPAL} is not authorized to perform: sts:AssumeRole on resource: {role_arn}");
        error(q, StatusCode::FORBIDDEN, "AccessDenied", &message)
    };
    if let Some(answer) = outage(magic) {
        return answer;
    }
    // AWS answers a missing role and a trust policy that refuses us alike.
    if matches!(magic, Magic::WrongSecret | Magic::NotFound) {
        return denied();
    }
    if magic != Magic::OpenTrust && !aws.trusts(role_arn, &call.session_name, &call.external_id) {
        return denied();
    }
    let issued = issue_session(aws, call, magic, terms);
    let id = request_id();
    xml(format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>{issued}\
         </AssumeRoleResult><ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata></AssumeRoleResponse>"
    ))
}

impl Aws {
    /// Whether the role's (pretend) trust policy lets `external_id` in for
    /// `session_name` (see the module's "Trust").
    fn trusts(&self, role_arn: &str, session_name: &str, external_id: &str) -> bool {
        let Some(validation) = session_name.strip_prefix("cloudconn-validate-") else {
            // A minted session: any id a validation pinned, or the first.
            let pinned = self.role_ids.lock().unwrap_or_else(|e| e.into_inner()).get(role_arn).cloned();
            return match pinned {
                Some(ids) => ids.iter().any(|id| id == external_id),
                None => {
                    self.pin_on_role(role_arn, external_id);
                    true
                }
            };
        };
        // The connection is the session name without the probe's suffix
        // for its confused-deputy check.
        let connection = validation.strip_suffix("-xcheck").unwrap_or(validation);
        let key = format!("{role_arn}|{connection}");
        let pinned = self.trusted.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
        match pinned {
            Some(pinned) => pinned == external_id,
            None => {
                self.trusted.lock().unwrap_or_else(|e| e.into_inner()).insert(key, external_id.to_owned());
                self.pin_on_role(role_arn, external_id);
                true
            }
        }
    }

    fn pin_on_role(&self, role_arn: &str, external_id: &str) {
        let mut role_ids = self.role_ids.lock().unwrap_or_else(|e| e.into_inner());
        let mut ids = role_ids.get(role_arn).cloned().unwrap_or_default();
        if !ids.iter().any(|id| id == external_id) {
            ids.push(external_id.to_owned());
            role_ids.insert(role_arn.to_owned(), ids);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_sessions_get_in_with_the_id_a_validation_pinned() {
        let aws = Aws::new("K");
        let role = "arn:aws:iam::123456789012:role/r";
        assert!(aws.trusts(role, "cloudconn-validate-abcd1234", "ext-1"));
        assert!(!aws.trusts(role, "cloudconn-validate-abcd1234-xcheck", "foreign"));
        assert!(aws.trusts(role, "cc-billing-api", "ext-1"));
        assert!(!aws.trusts(role, "cc-billing-api", "ext-2"));
        // A role no validation saw: the first minted id is pinned.
        let other = "arn:aws:iam::123456789012:role/other";
        assert!(aws.trusts(other, "cc-a", "ext-9"));
        assert!(!aws.trusts(other, "cc-a", "ext-8"));
    }
}
