//! Limits that keep one caller from exhausting the server.
//!
//! - Request messages over 1 MiB are refused ([`MAX_MESSAGE_BYTES`]; 4 KiB
//!   for health and reflection, which need no token).
//!   tonic reports those as OUT_OF_RANGE; gRPC's own convention, and our
//!   contract (docs/api.md), is RESOURCE_EXHAUSTED, so [`message_too_large`]
//!   rewrites that one status on the way out.
//! - Concurrency: HTTP/2 streams per connection and requests across all
//!   connections are bounded (see `startup` and `admission`); excess
//!   requests are answered at once, never queued.

use http::{HeaderValue, Response};

/// Largest request message the API decodes (docs/api.md).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The message tonic gives an oversized request.
const TONIC_TOO_LARGE: &str = "Error, decoded message length too large";

/// Maps tonic's OUT_OF_RANGE for an oversized request to RESOURCE_EXHAUSTED.
/// An oversized request fails while decoding, before any body is sent, so
/// the status is in the response headers (trailers-only response).
pub fn message_too_large<B>(mut response: Response<B>) -> Response<B> {
    let headers = response.headers_mut();
    let out_of_range = headers.get("grpc-status").is_some_and(|s| s == "11");
    let too_large = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .is_some_and(|m| percent_decode(m).starts_with(TONIC_TOO_LARGE));
    if out_of_range && too_large {
        headers.insert("grpc-status", HeaderValue::from_static("8"));
        headers.insert(
            "grpc-message",
            HeaderValue::from_static(
                "request%20message%20larger%20than%20this%20method%20accepts%20(ConnectionService:%201%20MiB;%20health%20and%20reflection:%204%20KiB)",
            ),
        );
    }
    response
}

/// grpc-message is percent-encoded.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_oversized_message_status_is_rewritten() {
        let too_large = Response::builder()
            .header("grpc-status", "11")
            .header("grpc-message", "Error,%20decoded%20message%20length%20too%20large:%20found%202000000%20bytes")
            .body(())
            .unwrap();
        assert_eq!(message_too_large(too_large).headers()["grpc-status"], "8");
        let other =
            Response::builder().header("grpc-status", "11").header("grpc-message", "page%20out").body(()).unwrap();
        assert_eq!(message_too_large(other).headers()["grpc-status"], "11");
    }
}
