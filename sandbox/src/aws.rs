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
//! refused — unless the role is `sandbox-open-trust`.

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
}

pub struct Aws {
    /// The access key id the platform (the worker) signs `AssumeRole` with.
    platform_key: String,
    /// Issued access key id → session.
    sessions: Mutex<Issued<Session>>,
    /// `role ARN|connection` → the external id that connection presented
    /// first.
    trusted: Mutex<Issued<String>>,
}

impl Aws {
    pub fn new(platform_key: impl Into<String>) -> Self {
        Self { platform_key: platform_key.into(), sessions: Mutex::default(), trusted: Mutex::default() }
    }
}

pub fn router(aws: Aws) -> Router {
    Router::new().fallback(handle).with_state(Arc::new(aws))
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
        return sts(&aws, &signed, &form);
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
    if session.magic == Magic::Denied {
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

fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or_default()
}

/// The account of `arn:aws:iam::<account>:role/…`.
fn account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or(PLATFORM_ACCOUNT)
}

fn sts(aws: &Aws, signed: &Signed, form: &HashMap<String, String>) -> Response {
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
    let well_formed = role_arn.starts_with("arn:aws") && role_arn.contains(":role/") && account(&role_arn).len() == 12;
    if !well_formed || session_name.is_empty() {
        return error(q, StatusCode::BAD_REQUEST, "ValidationError", "RoleArn and RoleSessionName are required");
    }
    let magic = Magic::of(role_name(&role_arn));
    let denied = || {
        let message =
            format!("User: {PLATFORM_PRINCIPAL} is not authorized to perform: sts:AssumeRole on resource: {role_arn}");
        error(q, StatusCode::FORBIDDEN, "AccessDenied", &message)
    };
    match magic {
        Magic::Throttled => return error(q, StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded"),
        Magic::Down => {
            return error(q, StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "Service is unavailable");
        }
        // AWS answers a missing role and a trust policy that refuses us alike.
        Magic::WrongSecret | Magic::NotFound => return denied(),
        _ => {}
    }
    if magic != Magic::OpenTrust {
        // The connection is the session name without the probe's suffix
        // for its confused-deputy check.
        let connection = session_name.strip_suffix("-xcheck").unwrap_or(&session_name);
        let key = format!("{role_arn}|{connection}");
        let mut trusted = aws.trusted.lock().unwrap_or_else(|e| e.into_inner());
        let pinned = match trusted.get(&key) {
            Some(pinned) => pinned.clone(),
            None => {
                trusted.insert(key, external_id.clone());
                external_id.clone()
            }
        };
        if pinned != external_id {
            return denied();
        }
    }
    let access_key = format!("ASIA{}", crate::random_token()[..16].to_uppercase());
    let session = Session {
        role_arn: role_arn.clone(),
        name: session_name.clone(),
        token: format!("{}{}", crate::random_token(), crate::random_token()),
        magic,
    };
    let (secret, token) = (crate::random_token(), session.token.clone());
    aws.sessions.lock().unwrap_or_else(|e| e.into_inner()).insert(access_key.clone(), session);
    let expiration = (chrono::Utc::now() + chrono::Duration::minutes(15)).format("%Y-%m-%dT%H:%M:%SZ");
    let account = esc(account(&role_arn));
    let name = esc(role_name(&role_arn));
    let session_name = esc(&session_name);
    let id = request_id();
    xml(format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials>\
         <AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>\
         <SessionToken>{token}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROASANDBOX:{session_name}</AssumedRoleId>\
         <Arn>arn:aws:sts::{account}:assumed-role/{name}/{session_name}</Arn></AssumedRoleUser>\
         </AssumeRoleResult><ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata></AssumeRoleResponse>"
    ))
}
