//! gRPC-Web on the gRPC port, as a browser speaks it: HTTP/1.1 POSTs of
//! length-prefixed frames, the status in a trailer frame (or in the
//! headers when there is no message), CORS only for configured origins.

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::{app::TestApp, auth::TokenSpec};
use prost::Message;
use tonic_types::StatusExt;

const SERVICE: &str = "cloudconn.v1.ConnectionService";
const ALLOWED: &str = "http://localhost:5173";

/// One gRPC-Web frame: flag, big-endian length, payload.
fn frame(message: &impl Message) -> Vec<u8> {
    let payload = message.encode_to_vec();
    let mut out = vec![0u8];
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&payload);
    out
}

/// A gRPC-Web answer: its data frames and its status (from the trailer
/// frame, or from the headers of a trailers-only answer).
struct Answer {
    messages: Vec<Vec<u8>>,
    status: tonic::Status,
}

fn parse(headers: &http::HeaderMap, body: &[u8]) -> Answer {
    let (mut messages, mut trailers, mut rest) = (Vec::new(), headers.clone(), body);
    while rest.len() >= 5 {
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        let (flag, payload) = (rest[0], &rest[5..5 + len]);
        if flag & 0x80 != 0 {
            for line in String::from_utf8_lossy(payload).split("\r\n").filter(|l| !l.is_empty()) {
                let (name, value) = line.split_once(':').expect("trailer line");
                trailers.insert(
                    http::HeaderName::from_bytes(name.trim().as_bytes()).expect("name"),
                    value.trim().parse().expect("value"),
                );
            }
        } else {
            messages.push(payload.to_vec());
        }
        rest = &rest[5 + len..];
    }
    let status = tonic::Status::from_header_map(&trailers).expect("a grpc-status in the trailers or headers");
    Answer { messages, status }
}

async fn call(app: &TestApp, method: &str, token: Option<&str>, request: &impl Message) -> Answer {
    let mut post = reqwest::Client::new()
        .post(format!("http://{}/{SERVICE}/{method}", app.addr))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", ALLOWED)
        .body(frame(request));
    if let Some(token) = token {
        post = post.bearer_auth(token);
    }
    let response = post.send().await.expect("gRPC-Web answers over HTTP/1.1");
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert_eq!(response.status(), 200, "gRPC-Web carries errors in grpc-status, not the HTTP status");
    let headers = response.headers().clone();
    let exposed = headers.get("access-control-expose-headers").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(exposed.contains("grpc-status-details-bin"), "a page must be able to read the error details");
    let body = response.bytes().await.expect("body");
    parse(&headers, &body)
}

#[tokio::test]
async fn the_api_answers_grpc_web_over_http1_behind_the_same_token_check() {
    let app = TestApp::builder().with_cors_origins(ALLOWED).spawn().await;
    let token = app.token(&TokenSpec::default());
    let answer = call(&app, "ListProviders", Some(&token), &pb::ListProvidersRequest::default()).await;
    assert_eq!(answer.status.code(), tonic::Code::Ok, "{:?}", answer.status);
    let providers = pb::ListProvidersResponse::decode(answer.messages[0].as_slice()).expect("a ListProvidersResponse");
    assert_eq!(providers.providers.len(), 5);

    let anonymous = call(&app, "ListProviders", None, &pb::ListProvidersRequest::default()).await;
    assert_eq!(anonymous.status.code(), tonic::Code::Unauthenticated);

    // Errors keep their details, so a browser client can branch on the reason.
    let missing = pb::GetConnectionRequest { workspace: "acme".into(), tag: "nope".into() };
    let answer = call(&app, "GetConnection", Some(&token), &missing).await;
    assert_eq!(answer.status.code(), tonic::Code::NotFound);
    let info = answer.status.get_details_error_info().expect("ErrorInfo in grpc-status-details-bin");
    assert_eq!(info.reason, "CONNECTION_NOT_FOUND");
    app.finish().await;
}

#[tokio::test]
async fn watch_streams_over_grpc_web() {
    let app = TestApp::builder().with_cors_origins(ALLOWED).spawn().await;
    let token = app.token(&TokenSpec::default());
    let watch = pb::WatchConnectionsRequest { workspace: "acme".into(), ..Default::default() };
    let mut response = reqwest::Client::new()
        .post(format!("http://{}/{SERVICE}/WatchConnections", app.addr))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .bearer_auth(&token)
        .body(frame(&watch))
        .send()
        .await
        .expect("the stream opens");
    // The call answers once its subscription is live: a change now is seen.
    crate::helpers::create(&app, "acme", "web_watched", pb::Provider::Aws).await;
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while received.len() < 5
        || received.len() < 5 + u32::from_be_bytes([received[1], received[2], received[3], received[4]]) as usize
    {
        let chunk = tokio::time::timeout_at(deadline, response.chunk()).await.expect("an event within 10 s");
        received.extend_from_slice(&chunk.expect("chunk").expect("stream open"));
    }
    let len = u32::from_be_bytes([received[1], received[2], received[3], received[4]]) as usize;
    assert_eq!(received[0], 0, "a data frame first");
    let event = pb::ConnectionEvent::decode(&received[5..5 + len]).expect("a ConnectionEvent");
    assert_eq!(event.connection.expect("the connection").tag, "web_watched");
    app.finish().await;
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("http://{}/{SERVICE}/ListConnections", app.addr))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type,x-grpc-web,x-user-agent")
        .send()
        .await
        .expect("preflight answered")
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let app = TestApp::builder().with_cors_origins(&format!("{ALLOWED}, https://workbench.example.com")).spawn().await;
    let allowed = preflight(&app, ALLOWED).await;
    let header = |r: &reqwest::Response, name: &str| {
        r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase()
    };
    assert_eq!(header(&allowed, "access-control-allow-origin"), ALLOWED);
    assert!(header(&allowed, "access-control-allow-headers").contains("authorization"));
    assert_eq!(
        header(&preflight(&app, "https://workbench.example.com").await, "access-control-allow-origin"),
        "https://workbench.example.com"
    );
    let other = preflight(&app, "https://evil.example").await;
    assert!(other.headers().get("access-control-allow-origin").is_none(), "no CORS for an unlisted origin");
    app.finish().await;

    // None configured: no origin is allowed.
    let app = TestApp::builder().spawn().await;
    assert!(preflight(&app, ALLOWED).await.headers().get("access-control-allow-origin").is_none());
    app.finish().await;
}

#[test]
fn cors_origins_must_be_exact_origins() {
    use cloudconn_server::config::ServerConfig;
    let config = |origins: &str| {
        let vars = [("CLOUDCONN_CORS_ORIGINS".to_owned(), origins.to_owned())];
        ServerConfig::from_source(&cloudconn_infra::config::Source::load(None, vars).expect("source")).expect("config")
    };
    assert_eq!(config("https://a.example, http://localhost:5173").cors_origins().expect("valid").len(), 2);
    for bad in ["*", "https://a.example/path", "a.example", "https://a.example/", "ftp://a.example"] {
        let err = config(bad).cors_origins().expect_err(bad).to_string();
        assert!(err.contains("CLOUDCONN_CORS_ORIGINS"), "{bad}: {err}");
    }
}

/// Node's `http` sends a request's headers, then its body. A call refused
/// before its body was read (a bad token) must still be answered after the
/// body, on a connection that stays usable: before the fix the server
/// answered at once and closed the socket without `Connection: close`, so
/// the client's body write failed with EPIPE instead of showing the refusal.
#[tokio::test]
async fn an_http1_call_refused_before_its_body_leaves_the_connection_usable() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::builder().spawn().await;
    let body = frame(&pb::ListProvidersRequest::default());
    let head = |token: &str| {
        format!(
            "POST /{SERVICE}/ListConnections HTTP/1.1\r\nhost: {}\r\ncontent-type: application/grpc-web+proto\r\n\
             x-grpc-web: 1\r\nauthorization: Bearer {token}\r\ncontent-length: {}\r\n\r\n",
            app.addr,
            body.len()
        )
    };
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    socket.write_all(head("not-a-jwt").as_bytes()).await.expect("headers");
    let mut buffer = vec![0u8; 16 * 1024];
    let early = tokio::time::timeout(std::time::Duration::from_millis(500), socket.read(&mut buffer)).await;
    assert!(early.is_err(), "no answer before the body was sent: {early:?}");
    socket.write_all(&body).await.expect("the body is still accepted");
    let n = socket.read(&mut buffer).await.expect("the refusal");
    let answer = String::from_utf8_lossy(&buffer[..n]).to_lowercase();
    assert!(answer.starts_with("http/1.1 200") && answer.contains("grpc-status: 16"), "{answer}");
    assert!(!answer.contains("connection: close"), "{answer}");

    // The same connection serves the next call.
    let token = app.token(&TokenSpec::default());
    socket.write_all(head(&token).as_bytes()).await.expect("second request");
    socket.write_all(&body).await.expect("second body");
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut buffer))
        .await
        .expect("answered in time")
        .expect("read");
    assert!(n > 0, "the connection was closed");
    let answer = String::from_utf8_lossy(&buffer[..n]).to_lowercase();
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    app.finish().await;
}
