//! A raw HTTP/2 client, for what a well-behaved gRPC client never does:
//! open a call and never send its body, post to paths that name no method,
//! send a hand-built message. The security review's recipes, in the suite.

use std::net::SocketAddr;

use bytes::Bytes;
use h2::client::{ResponseFuture, SendRequest};
use tokio::net::TcpStream;

/// One HTTP/2 connection to the server.
pub struct RawH2 {
    send: SendRequest<Bytes>,
}

/// A call whose body was never sent; it holds its stream while it lives.
pub struct OpenCall {
    pub response: ResponseFuture,
    _body: h2::SendStream<Bytes>,
}

/// The outcome of a call: the `grpc-status` (headers or trailers) and message
/// (percent-decoded).
#[derive(Debug)]
pub struct Answer {
    pub grpc_status: Option<i32>,
    pub grpc_message: String,
    /// Bytes of response headers and trailers, as received.
    pub header_bytes: usize,
}

impl RawH2 {
    pub async fn connect(addr: SocketAddr) -> Self {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let (send, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Self { send }
    }

    fn request(path: &str, token: Option<&str>) -> http::Request<()> {
        let mut request = http::Request::post(format!("http://cloudconn{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.body(()).expect("request")
    }

    /// Sends HEADERS only: the call is open, its body never comes.
    pub async fn open_without_body(&mut self, path: &str, token: Option<&str>) -> OpenCall {
        let mut send = self.send.clone().ready().await.expect("stream available");
        let (response, body) = send.send_request(Self::request(path, token), false).expect("send headers");
        OpenCall { response, _body: body }
    }

    /// Sends HEADERS and the first bytes of the body (a frame header
    /// announcing a 64-byte message), never the rest: the body has started,
    /// so the call is held until the whole-body deadline.
    pub async fn open_with_partial_body(&mut self, path: &str, token: Option<&str>) -> OpenCall {
        let mut call = self.open_without_body(path, token).await;
        call._body.send_data(Bytes::from_static(&[0, 0, 0, 0, 64]), false).expect("send a frame header");
        call
    }

    /// A whole unary call with `message` (protobuf bytes) as its one frame.
    pub async fn call(&mut self, path: &str, token: Option<&str>, message: &[u8]) -> Answer {
        let mut send = self.send.clone().ready().await.expect("stream available");
        let (response, mut body) = send.send_request(Self::request(path, token), false).expect("send headers");
        let mut frame = Vec::with_capacity(5 + message.len());
        frame.push(0);
        frame.extend_from_slice(&u32::try_from(message.len()).expect("small message").to_be_bytes());
        frame.extend_from_slice(message);
        body.send_data(frame.into(), true).expect("send body");
        answer(response).await
    }
}

/// Reads a response to its end.
pub async fn answer(response: ResponseFuture) -> Answer {
    let response = response.await.expect("response headers");
    let (parts, mut body) = response.into_parts();
    let mut header_bytes = size(&parts.headers);
    let mut status = grpc(&parts.headers);
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("response body");
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    if let Ok(Some(trailers)) = body.trailers().await {
        header_bytes += size(&trailers);
        if status.0.is_none() {
            status = grpc(&trailers);
        }
    }
    Answer { grpc_status: status.0, grpc_message: status.1, header_bytes }
}

fn grpc(headers: &http::HeaderMap) -> (Option<i32>, String) {
    let status = headers.get("grpc-status").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let message = headers.get("grpc-message").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let message = percent_encoding::percent_decode_str(message).decode_utf8_lossy().into_owned();
    (status, message)
}

fn size(headers: &http::HeaderMap) -> usize {
    headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum()
}
