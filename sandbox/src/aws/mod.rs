//! AWS, as far as the AWS probe uses it, for the sandbox: STS `AssumeRole`
//! and `GetCallerIdentity`, and the one read-only call per scope check (S3
//! `ListBuckets`, RDS `DescribeDBInstances`, DynamoDB `ListTables`, SQS
//! `ListQueues`, SNS `ListTopics`, Lambda `ListFunctions`), all on one
//! endpoint as `CLOUDCONN_AWS_ENDPOINT` sends them. Each service answers in
//! its own protocol (query XML, REST XML, JSON 1.0, REST JSON), errors
//! included, so the SDK parses them as it parses AWS's.
//!
//! The tests check the probe against moto, which evaluates real IAM
//! policies; this stand-in exists so `--dev` can validate offline. What it
//! checks: a well-formed SigV4 `Authorization` header whose access key is
//! the platform's (for `AssumeRole`) or one it issued (with its session
//! token) — not the signature itself. The role name steers ([`Magic`]).
//!
//! Trust: a sandbox role trusts the external id each connection first
//! presents (as though the customer had pasted it into the trust policy),
//! so the probe's confused-deputy check, which presents a foreign one, is
//! refused — unless the role is `sandbox-open-trust`. The probe's sessions
//! (`cloudconn-validate-<connection>`) say which connection asks; minting's
//! (`cc-<consumer>`) do not, so a minted session is let in with any id a
//! validation pinned on the role (or, on a role no validation has seen
//! since the sandbox started, the first one presented).
//!
//! Minting (the run step): `AssumeRole` takes a `Policy` (the inline
//! session policy, whose Allow actions then bound what the session may
//! call: exact names or a trailing `*`, as the run step's policies use
//! them) and `DurationSeconds` (900 to the role's `MaxSessionDuration`,
//! an hour as for a role created with the defaults; the session expires
//! then). Tests read what each `AssumeRole` asked for with
//! [`Aws::assumed_roles`].
//!
//! Keyless connections assume the role with `AssumeRoleWithWebIdentity`
//! instead, the one unsigned call: see [`web_identity`] (the token is
//! verified for real; the session is the same kind).

use std::{collections::HashMap, sync::Mutex};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use std::sync::Arc;

use crate::{Issued, magic::Magic};

mod sts;
mod web_identity;
pub use web_identity::DEFAULT_AUDIENCE;

/// The sandbox's own account, which the platform identity belongs to.
pub const PLATFORM_ACCOUNT: &str = "000000000000";
/// The platform identity's ARN (what a trust policy would name).
pub const PLATFORM_PRINCIPAL: &str = "arn:aws:iam::000000000000:user/cloudconn-sandbox-platform";

/// A role session this stand-in issued.
#[derive(Clone)]
struct Session {
    role_arn: String,
    name: String,
    token: String,
    magic: Magic,
    /// The session policy's allowed actions; `None`: no session policy
    /// (the role's own permissions, everything here).
    allowed: Option<Vec<String>>,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// What one `AssumeRole` asked for (no secret in it: the external id is
/// not one).
#[derive(Clone, Debug)]
pub struct AssumedRole {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: String,
    /// The inline session policy, as sent.
    pub policy: Option<String>,
    pub duration_seconds: Option<u64>,
    /// Whether the stand-in issued credentials.
    pub granted: bool,
    /// An `AssumeRoleWithWebIdentity` (keyless): no external id, a token.
    pub web_identity: bool,
    /// The web identity token's `sub`, once the token was verified (the
    /// token itself is never kept).
    pub subject: Option<String>,
}

/// The roles' `MaxSessionDuration` (AWS's default for a new role).
pub const MAX_SESSION_SECONDS: u64 = 3600;
/// How many [`AssumedRole`]s are kept.
const ASSUMED_KEPT: usize = 1024;

pub struct Aws {
    /// The access key id the platform (the worker) signs `AssumeRole` with.
    platform_key: String,
    /// Issued access key id → session.
    sessions: Mutex<Issued<Session>>,
    /// `role ARN|connection` → the external id that connection presented
    /// first.
    trusted: Mutex<Issued<String>>,
    /// Role ARN → every external id pinned on it (what minted sessions are
    /// let in with).
    role_ids: Mutex<Issued<Vec<String>>>,
    /// The latest `AssumeRole` calls, oldest first.
    assumed: Mutex<std::collections::VecDeque<AssumedRole>>,
    /// OIDC providers and roles' web identity trust.
    web: web_identity::Trust,
}

impl Aws {
    pub fn new(platform_key: impl Into<String>) -> Self {
        Self {
            platform_key: platform_key.into(),
            sessions: Mutex::default(),
            trusted: Mutex::default(),
            role_ids: Mutex::default(),
            assumed: Mutex::default(),
            web: web_identity::Trust::default(),
        }
    }

    /// What the latest `AssumeRole` and `AssumeRoleWithWebIdentity` calls asked for (up to 1,024), oldest
    /// first.
    pub fn assumed_roles(&self) -> Vec<AssumedRole> {
        self.assumed.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }

    fn record(&self, call: AssumedRole) {
        let mut assumed = self.assumed.lock().unwrap_or_else(|e| e.into_inner());
        assumed.push_back(call);
        while assumed.len() > ASSUMED_KEPT {
            assumed.pop_front();
        }
    }
}

/// The stand-in's routes; `aws` may be shared (`Arc<Aws>`) to read
/// [`Aws::assumed_roles`].
pub fn router(aws: impl Into<Arc<Aws>>) -> Router {
    Router::new().fallback(handle).with_state(aws.into())
}

/// How a service encodes its answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// STS, RDS, SNS (and SQS before it moved to JSON): form in, XML out.
    Query,
    /// S3.
    RestXml,
    /// DynamoDB, SQS: `X-Amz-Target`, JSON in and out.
    Json,
    /// Lambda.
    RestJson,
}

/// The parts of a SigV4 `Authorization` header the stand-in reads.
struct Signed {
    access_key: String,
    service: String,
}

/// `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request,
/// SignedHeaders=…, Signature=…`.
fn signed(headers: &HeaderMap) -> Option<Signed> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut credential = None;
    let (mut signed_headers, mut signature) = (false, false);
    for part in value.split(',').map(str::trim) {
        if let Some(c) = part.strip_prefix("Credential=") {
            credential = Some(c);
        }
        signed_headers |= part.strip_prefix("SignedHeaders=").is_some_and(|h| !h.is_empty());
        signature |= part.strip_prefix("Signature=").is_some_and(|s| !s.is_empty());
    }
    let scope: Vec<&str> = credential?.split('/').collect();
    match scope.as_slice() {
        [key, _date, _region, service, "aws4_request"] if signed_headers && signature => {
            Some(Signed { access_key: (*key).to_owned(), service: (*service).to_owned() })
        }
        _ => None,
    }
}

/// A Query request's parameters: the form body's, else the query string's.
fn query_form(uri: &Uri, body: &[u8]) -> HashMap<String, String> {
    let source = if body.is_empty() { uri.query().unwrap_or_default().as_bytes() } else { body };
    url::form_urlencoded::parse(source).into_owned().collect()
}

fn protocol(service: &str, headers: &HeaderMap) -> Protocol {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-amz-json"));
    match service {
        "s3" => Protocol::RestXml,
        "lambda" => Protocol::RestJson,
        "dynamodb" => Protocol::Json,
        "sqs" if json => Protocol::Json,
        _ => Protocol::Query,
    }
}

/// XML text: `&`, `<`, `>` and quotes escaped.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn json(body: serde_json::Value) -> Response {
    ([(header::CONTENT_TYPE, "application/x-amz-json-1.0")], body.to_string()).into_response()
}

/// An error answer in the service's own protocol.
fn error(protocol: Protocol, status: StatusCode, code: &str, message: &str) -> Response {
    let id = request_id();
    let message = &esc(message);
    match protocol {
        Protocol::Query => (
            status,
            [(header::CONTENT_TYPE, "text/xml")],
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
                 <RequestId>{id}</RequestId></ErrorResponse>"
            ),
        )
            .into_response(),
        Protocol::RestXml => (
            status,
            [(header::CONTENT_TYPE, "application/xml")],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
                 <RequestId>{id}</RequestId></Error>"
            ),
        )
            .into_response(),
        Protocol::Json => {
            let body = serde_json::json!({ "__type": format!("com.amazon.coral.service#{code}"), "message": message });
            let mut response = (status, json(body)).into_response();
            // SQS's JSON protocol also names the query-protocol code.
            if let Ok(value) = format!("{code};Sender").parse() {
                response.headers_mut().insert("x-amzn-query-error", value);
            }
            response
        }
        Protocol::RestJson => (
            status,
            [("x-amzn-errortype", code), (header::CONTENT_TYPE.as_str(), "application/json")],
            serde_json::json!({ "Type": "User", "Message": message }).to_string(),
        )
            .into_response(),
    }
}

async fn handle(State(aws): State<Arc<Aws>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let Some(signed) = signed(&headers) else {
        // The one call made before there are credentials to sign with.
        let form = query_form(&uri, &body);
        if form.get("Action").is_some_and(|a| a == web_identity::ACTION) {
            return web_identity::assume(&aws, &form).await;
        }
        return error(
            Protocol::Query,
            StatusCode::FORBIDDEN,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        );
    };
    let protocol = protocol(&signed.service, &headers);
    let form: HashMap<String, String> = if protocol == Protocol::Query {
        url::form_urlencoded::parse(&body).into_owned().collect()
    } else {
        HashMap::new()
    };
    if signed.service == "sts" {
        if form.get("Action").is_some_and(|a| a == web_identity::ACTION) {
            return web_identity::assume(&aws, &form).await;
        }
        return sts::sts(&aws, &signed, &form);
    }
    let session = aws.sessions.lock().unwrap_or_else(|e| e.into_inner()).get(&signed.access_key).cloned();
    let token = headers.get("x-amz-security-token").and_then(|v| v.to_str().ok());
    let Some(session) = session.filter(|s| Some(s.token.as_str()) == token) else {
        return error(
            protocol,
            StatusCode::FORBIDDEN,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        );
    };
    if session.expires_at <= chrono::Utc::now() {
        return error(
            protocol,
            StatusCode::FORBIDDEN,
            "ExpiredToken",
            "The security token included in the request is expired",
        );
    }
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let operation = match protocol {
        Protocol::Query => form.get("Action").cloned().unwrap_or_default(),
        Protocol::Json => target.rsplit('.').next().unwrap_or_default().to_owned(),
        Protocol::RestXml if method == Method::GET && uri.path() == "/" => "ListBuckets".into(),
        Protocol::RestJson if method == Method::GET && uri.path().trim_end_matches('/') == "/2015-03-31/functions" => {
            "ListFunctions".into()
        }
        _ => String::new(),
    };
    scope_call(protocol, &signed.service, &operation, &session)
}

/// One scope check's read-only call: empty lists, or `AccessDenied` in the
/// service's words for a `sandbox-denied` role.
fn scope_call(protocol: Protocol, service: &str, operation: &str, session: &Session) -> Response {
    let known = matches!(
        (service, operation),
        ("s3", "ListBuckets")
            | ("rds", "DescribeDBInstances")
            | ("dynamodb", "ListTables")
            | ("sqs", "ListQueues")
            | ("sns", "ListTopics")
            | ("lambda", "ListFunctions")
    );
    if !known {
        return error(protocol, StatusCode::BAD_REQUEST, "InvalidAction", "The sandbox does not implement this call.");
    }
    let action = format!("{service}:{}", if operation == "ListBuckets" { "ListAllMyBuckets" } else { operation });
    let outside_session_policy = session.allowed.as_ref().is_some_and(|allowed| !allows(allowed, &action));
    if session.magic == Magic::Denied || outside_session_policy {
        let who = format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            account(&session.role_arn),
            role_name(&session.role_arn),
            session.name
        );
        let message = format!("User: {who} is not authorized to perform: {service}:{operation}");
        return match (service, protocol) {
            ("sns", _) => error(protocol, StatusCode::FORBIDDEN, "AuthorizationError", &message),
            (_, Protocol::Json) if service == "dynamodb" => {
                error(protocol, StatusCode::BAD_REQUEST, "AccessDeniedException", &message)
            }
            (_, Protocol::RestJson) => error(protocol, StatusCode::FORBIDDEN, "AccessDeniedException", &message),
            _ => error(protocol, StatusCode::FORBIDDEN, "AccessDenied", &message),
        };
    }
    let id = request_id();
    match operation {
        "ListBuckets" => ([(header::CONTENT_TYPE, "application/xml")], format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Buckets/><Owner><ID>{id}</ID><DisplayName>sandbox</DisplayName></Owner></ListAllMyBucketsResult>"
        )).into_response(),
        "DescribeDBInstances" => xml(format!(
            "<DescribeDBInstancesResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><DescribeDBInstancesResult>\
             <DBInstances/></DescribeDBInstancesResult><ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata>\
             </DescribeDBInstancesResponse>"
        )),
        "ListTopics" => xml(format!(
            "<ListTopicsResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><ListTopicsResult><Topics/>\
             </ListTopicsResult><ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata></ListTopicsResponse>"
        )),
        "ListQueues" if protocol == Protocol::Query => xml(format!(
            "<ListQueuesResponse><ListQueuesResult/><ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata>\
             </ListQueuesResponse>"
        )),
        "ListQueues" => json(serde_json::json!({})),
        "ListTables" => json(serde_json::json!({ "TableNames": [] })),
        _ => ([(header::CONTENT_TYPE, "application/json")], r#"{"Functions":[]}"#).into_response(),
    }
}

/// Whether a session policy's allowed actions cover `action`: an exact
/// name or a trailing `*`, case-insensitive (what the run step's policies
/// use; IAM's full wildcards are not needed here).
fn allows(allowed: &[String], action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    allowed.iter().map(|a| a.to_ascii_lowercase()).any(|pattern| match pattern.strip_suffix('*') {
        Some(prefix) => action.starts_with(prefix),
        None => pattern == action,
    })
}

/// The Allow actions of a session policy document; `None` if it is not one.
fn policy_actions(document: &str) -> Option<Vec<String>> {
    let policy: serde_json::Value = serde_json::from_str(document).ok()?;
    let statements = match &policy["Statement"] {
        serde_json::Value::Array(all) => all.clone(),
        one @ serde_json::Value::Object(_) => vec![one.clone()],
        _ => return None,
    };
    let mut actions = Vec::new();
    for statement in statements.iter().filter(|s| s["Effect"] == "Allow") {
        match &statement["Action"] {
            serde_json::Value::String(one) => actions.push(one.clone()),
            serde_json::Value::Array(all) => actions.extend(all.iter().filter_map(|a| a.as_str().map(str::to_owned))),
            _ => return None,
        }
    }
    Some(actions)
}

fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or_default()
}

/// The account of `arn:aws:iam::<account>:role/…`.
fn account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or(PLATFORM_ACCOUNT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_policies_bound_the_session_to_their_actions() {
        let storage = policy_actions(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"*"}]}"#,
        )
        .expect("a policy");
        assert!(allows(&storage, "s3:ListAllMyBuckets"));
        assert!(!allows(&storage, "dynamodb:ListTables"));
        let one = policy_actions(r#"{"Statement":{"Effect":"Allow","Action":"sqs:ListQueues"}}"#).expect("a policy");
        assert!(allows(&one, "SQS:listqueues") && !allows(&one, "sqs:ListQueuesX"));
        assert_eq!(policy_actions("not json"), None);
    }
}
