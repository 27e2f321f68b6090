//! HTTP/1.1 request bodies cannot exhaust the server's memory (security
//! review N2): nothing is read before the token check and the call's slot,
//! the bodies being read share one budget, and an early answer closes its
//! connection cleanly (`Connection: close`).
//!
//! The server runs in this test's process (nextest gives each test its
//! own), so its memory is this process's `VmRSS`/`VmHWM`.

use std::{sync::Arc, time::Duration};

use cloudconn_tests::harness::{app::TestApp, auth::TokenSpec};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// The review's recipe: 400 connections, each a gRPC-Web POST announcing a
/// body of about 1 MiB (one message of the largest size the API accepts),
/// sending all of it but the last byte.
const CONNECTIONS: usize = 400;
const BODY: usize = 5 + 1024 * 1024;

/// A `/proc/self/status` figure, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number of kB")
}

fn head(app: &TestApp, token: Option<&str>, length: usize) -> String {
    let authorization = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    format!(
        "POST /cloudconn.v1.ConnectionService/GetConnection HTTP/1.1\r\nhost: {}\r\n\
         content-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\n{authorization}content-length: {length}\r\n\r\n",
        app.addr
    )
}

/// Floods the server as the review did and returns how far its peak
/// memory rose above what it used before, in MiB. Each connection reads
/// whatever answer it gets, so the peak is taken once the server has
/// answered (or dropped) every one of them.
async fn peak_growth_during_flood(app: &TestApp, token: Option<&str>) -> u64 {
    // One frame header announcing a message of the body's size, then zeros;
    // one buffer shared by every connection, so the client adds nothing.
    let mut body = vec![0u8; BODY - 1];
    body[1..5].copy_from_slice(&u32::try_from(BODY - 5).unwrap().to_be_bytes());
    let body: Arc<[u8]> = body.into();
    let head: Arc<str> = head(app, token, BODY).into();
    let before = status_kib("VmRSS:");
    // Reset the peak (VmHWM) to the current size (proc(5), clear_refs "5").
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let (body, head, addr) = (body.clone(), head.clone(), app.addr);
        flood.spawn(async move {
            let mut socket = TcpStream::connect(addr).await.expect("connect");
            // The server may answer and close before the body is all sent.
            if socket.write_all(head.as_bytes()).await.is_ok() && socket.write_all(&body).await.is_ok() {
                let mut answer = [0u8; 4096];
                let _ = tokio::time::timeout(Duration::from_secs(60), socket.read(&mut answer)).await;
            }
        });
    }
    while flood.join_next().await.is_some() {}
    let peak = status_kib("VmHWM:");
    peak.saturating_sub(before) / 1024
}

/// A refusal of an HTTP/1.1 call whose body is not coming soon: answered
/// at once, and the connection closed.
async fn early_answer(app: &TestApp, token: Option<&str>) -> String {
    let mut socket = TcpStream::connect(app.addr).await.expect("connect");
    socket.write_all(head(app, token, BODY).as_bytes()).await.expect("headers");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer))
        .await
        .expect("answered and closed before the body deadline")
        .expect("read");
    String::from_utf8_lossy(&answer).to_lowercase()
}

#[tokio::test]
async fn anonymous_http1_bodies_are_not_buffered() {
    let app = TestApp::builder().without_worker().spawn().await;
    let growth = peak_growth_during_flood(&app, None).await;
    println!("400 anonymous 1 MiB HTTP/1.1 bodies: peak memory +{growth} MiB");
    // Before the fix: +272 MiB here, every body read in full before the
    // token check.
    assert!(growth < 64, "the server's memory rose by {growth} MiB");

    let answer = early_answer(&app, None).await;
    assert!(answer.contains("grpc-status: 16") && answer.contains("connection: close"), "{answer}");
    app.finish().await;
}

#[tokio::test]
async fn http1_bodies_of_admitted_calls_share_one_budget() {
    let app = TestApp::builder().without_worker().spawn().await;
    let token = app.token(&TokenSpec { scope: "connections:read", ..Default::default() });
    let growth = peak_growth_during_flood(&app, Some(&token)).await;
    println!("400 authenticated 1 MiB HTTP/1.1 bodies: peak memory +{growth} MiB");
    // 256 are admitted (the subject's share), and at most 32 MiB of their
    // bodies are read at once; the rest are shed. Before the fix: +272 MiB;
    // now about +55 MiB (tonic's buffer and hyper's reads per byte paid).
    assert!(growth < 128, "the server's memory rose by {growth} MiB");

    // With the budget spent, a call is shed at once and its connection
    // closed. 40 calls announcing 1 MiB each spend it; each sends its
    // frame header, so it holds its bytes until the whole-body deadline.
    let mut held = Vec::new();
    for _ in 0..40 {
        let mut socket = TcpStream::connect(app.addr).await.expect("connect");
        let started = format!("{}\0\0\x10\0\0", head(&app, Some(&token), BODY));
        socket.write_all(started.as_bytes()).await.expect("headers");
        held.push(socket);
    }
    let mut answer = String::new();
    for _ in 0..3 {
        // Until the server has admitted the 40, a call may still find bytes.
        answer = early_answer(&app, Some(&token)).await;
        if answer.contains("grpc-status: 14") {
            break;
        }
    }
    assert!(answer.contains("grpc-status: 14") && answer.contains("connection: close"), "{answer}");
    let message = answer.lines().find(|l| l.starts_with("grpc-message")).unwrap_or_default().to_owned();
    assert!(message.contains("32%20mib%20of%20http/1.1%20request%20bodies"), "{answer}");
    println!("{message}");
    drop(held);
    app.finish().await;
}
