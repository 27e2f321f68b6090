//! STS `AssumeRoleWithWebIdentity` with tokens of a registered OIDC provider.

use std::sync::Arc;

use cloudconn_sandbox::{aws, serve};

use crate::issuer::{ISSUER, Issuer, SUBJECT, Signer};

const ROLE: &str = "arn:aws:iam::123456789012:role/cloudconn-keyless";
const AUD: &str = aws::DEFAULT_AUDIENCE;

/// An unsigned `AssumeRoleWithWebIdentity`: (status, body).
pub async fn assume(url: &str, role: &str, token: &str, extra: &[(&str, &str)]) -> (u16, String) {
    let mut form = vec![
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", role),
        ("RoleSessionName", "cloudconn-validate-7d0e3c2a"),
        ("WebIdentityToken", token),
    ];
    form.extend_from_slice(extra);
    let response = crate::client().post(url).form(&form).send().await.expect("sts");
    (response.status().as_u16(), response.text().await.expect("body"))
}

/// The text of the first `<tag>` in `xml`.
pub fn tag<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    xml.split_once(&open).and_then(|(_, rest)| rest.split_once(&format!("</{tag}>"))).map_or("", |(text, _)| text)
}

/// A SigV4-shaped call with the issued session (the stand-in checks the
/// header's form and the session, not the signature).
pub async fn call_with_session(url: &str, issued: &str, service: &str, target: Option<&str>) -> u16 {
    let key = tag(issued, "AccessKeyId");
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/{service}/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=00"
    );
    let client = crate::client();
    let request = match target {
        Some(target) => client
            .post(url)
            .header("x-amz-target", target)
            .header("content-type", "application/x-amz-json-1.0")
            .body("{}"),
        None => client.get(format!("{url}/")),
    };
    let response = request
        .header("authorization", authorization)
        .header("x-amz-security-token", tag(issued, "SessionToken"))
        .send()
        .await
        .expect("call");
    response.status().as_u16()
}

async fn configured() -> (Issuer, Arc<aws::Aws>, cloudconn_sandbox::Emulator) {
    let issuer = Issuer::start().await;
    let state = Arc::new(aws::Aws::new("AKIAPLATFORM"));
    state.add_oidc_provider(issuer.verifier(), [AUD]);
    state.trust_web_identity(ROLE, SUBJECT);
    let emulator = serve(aws::router(state.clone())).await;
    (issuer, state, emulator)
}

#[tokio::test]
async fn a_trusted_subject_gets_a_session_bounded_by_its_policy() {
    let (_issuer, state, sts) = configured().await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    let extra = [("Policy", policy), ("DurationSeconds", "900")];
    let (status, body) = assume(&sts.url(), ROLE, &Issuer::token(AUD), &extra).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("<AssumeRoleWithWebIdentityResponse"), "{body}");
    assert_eq!(tag(&body, "SubjectFromWebIdentityToken"), SUBJECT);
    assert_eq!(tag(&body, "Audience"), AUD);
    assert_eq!(tag(&body, "Provider"), ISSUER);
    assert_eq!(
        tag(&body, "Arn"),
        "arn:aws:sts::123456789012:assumed-role/cloudconn-keyless/cloudconn-validate-7d0e3c2a"
    );
    assert!(tag(&body, "AssumedRoleId").starts_with("AROA"));
    let expires = chrono::DateTime::parse_from_rfc3339(tag(&body, "Expiration")).expect("expiration");
    let minutes = (expires.timestamp() - chrono::Utc::now().timestamp() + 30) / 60;
    assert_eq!(minutes, 15, "DurationSeconds is honoured");

    // The session works like an AssumeRole one, within its session policy.
    assert_eq!(call_with_session(&sts.url(), &body, "s3", None).await, 200);
    assert_eq!(call_with_session(&sts.url(), &body, "dynamodb", Some("DynamoDB_20120810.ListTables")).await, 400);

    let call = state.assumed_roles().pop().expect("recorded");
    assert!(call.web_identity && call.granted);
    assert_eq!((call.subject.as_deref(), call.duration_seconds), (Some(SUBJECT), Some(900)));
    assert_eq!(call.policy.as_deref(), Some(policy));
    assert!(call.external_id.is_empty());
}

#[tokio::test]
async fn each_refusal_is_worded_as_sts_words_it() {
    let (_issuer, state, sts) = configured().await;
    let url = sts.url();
    let other_sub = Issuer::token_with(AUD, |c| c["sub"] = "workspace:acme:connection:someone-else".into());
    let cases = [
        (other_sub, 403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"),
        (Issuer::token("api://AzureADTokenExchange"), 400, "InvalidIdentityToken", "Incorrect token audience"),
        (Issuer::sign(&Issuer::claims(AUD), Signer::Other), 400, "InvalidIdentityToken", "signature"),
        (Issuer::expired(AUD), 400, "ExpiredTokenException", "Token expired"),
        (
            Issuer::foreign(AUD),
            400,
            "InvalidIdentityToken",
            "No OpenIDConnect provider found in your account for https://elsewhere.example.com",
        ),
    ];
    for (token, status, code, words) in cases {
        let (got, body) = assume(&url, ROLE, &token, &[]).await;
        assert_eq!((got, tag(&body, "Code")), (status, code), "{body}");
        assert!(tag(&body, "Message").contains(words), "{body}");
        assert!(body.starts_with("<ErrorResponse>"), "{body}");
    }
    // A role whose trust names no web identity refuses even a good token.
    let (status, body) = assume(&url, "arn:aws:iam::123456789012:role/other", &Issuer::token(AUD), &[]).await;
    assert_eq!((status, tag(&body, "Code")), (403, "AccessDenied"));
    let calls = state.assumed_roles();
    assert!(calls.iter().all(|c| c.web_identity && !c.granted));
    // Only a verified token's subject is recorded.
    assert_eq!(calls[0].subject.as_deref(), Some("workspace:acme:connection:someone-else"));
    assert_eq!(calls[1].subject, None);
}

#[tokio::test]
async fn it_is_unsigned_and_still_the_only_unsigned_call() {
    let (_issuer, _state, sts) = configured().await;
    let response = crate::client()
        .post(sts.url())
        .form(&[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")])
        .send()
        .await
        .expect("sts");
    assert_eq!(response.status().as_u16(), 403);
    assert!(response.text().await.expect("body").contains("MissingAuthenticationToken"));
}
