//! Which transport an address means. `https://` is TLS and `http://` is
//! plaintext, as written. A bare `host:port` is plaintext only for a
//! loopback host (127.0.0.0/8, ::1, `localhost`), where nothing crosses a
//! network, and TLS otherwise: the bearer token is added to each request by
//! the client itself, so no gRPC library check would stop it going out in
//! clear, and `cloudconn.example.com:443` must not mean that.

use std::net::IpAddr;

use tonic::codegen::http::Uri;

use crate::exit::Failure;

/// `http://…` or `https://…` for `addr` (what `--addr`/`CLOUDCONN_ADDR`
/// or the dev file gave).
pub fn normalise(addr: &str) -> Result<String, Failure> {
    let not_an_address = || {
        Failure::usage(format!(
            "--addr/CLOUDCONN_ADDR {addr:?} is not a server address (https://host[:port], http://host:port or host:port)"
        ))
    };
    match addr.split_once("://") {
        Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
            scheme @ ("http" | "https") => Ok(format!("{scheme}://{rest}")),
            _ => Err(Failure::usage(format!(
                "--addr/CLOUDCONN_ADDR: {scheme}:// is not a scheme the CLI speaks: use https:// (TLS), or http:// \
                 for plaintext"
            ))),
        },
        None => {
            let host = host_of(addr).ok_or_else(not_an_address)?;
            let scheme = if is_loopback(&host) { "http" } else { "https" };
            Ok(format!("{scheme}://{addr}"))
        }
    }
}

/// The host of `addr`, with or without a scheme (`[::1]` keeps its brackets).
pub fn host_of(addr: &str) -> Option<String> {
    let uri: Uri = if addr.contains("://") { addr.parse().ok()? } else { format!("http://{addr}").parse().ok()? };
    uri.host().filter(|h| !h.is_empty()).map(str::to_owned)
}

/// 127.0.0.0/8, ::1 (bracketed or not) or `localhost`: this machine. Other
/// names are not resolved: a name's answer can change, the literal cannot.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The host a plaintext (`http://`) address leaves this machine for, if it does.
pub fn plaintext_off_machine(address: &str) -> Option<String> {
    let rest = address.strip_prefix("http://")?;
    host_of(rest).filter(|h| !is_loopback(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_address_is_plaintext_only_on_loopback() {
        for (bare, meant) in [
            ("127.0.0.1:50051", "http://127.0.0.1:50051"),
            ("127.8.9.10:1", "http://127.8.9.10:1"),
            ("[::1]:50051", "http://[::1]:50051"),
            ("localhost:50051", "http://localhost:50051"),
            ("LocalHost:50051", "http://LocalHost:50051"),
            ("cloudconn.example.com:50051", "https://cloudconn.example.com:50051"),
            ("10.0.0.7:50051", "https://10.0.0.7:50051"),
            ("[2001:db8::1]:50051", "https://[2001:db8::1]:50051"),
            ("localhost.example.com:1", "https://localhost.example.com:1"),
            ("128.0.0.1:1", "https://128.0.0.1:1"),
        ] {
            assert_eq!(normalise(bare).ok().as_deref(), Some(meant), "{bare}");
        }
    }

    #[test]
    fn a_scheme_given_is_kept_and_others_are_refused() {
        assert_eq!(normalise("http://cc.example.com:80").ok().as_deref(), Some("http://cc.example.com:80"));
        assert_eq!(normalise("HTTPS://cc.example.com").ok().as_deref(), Some("https://cc.example.com"));
        assert!(matches!(normalise("ftp://cc.example.com"), Err(Failure::Usage(m)) if m.contains("ftp://")));
        assert!(matches!(normalise(""), Err(Failure::Usage(_))));
    }

    #[test]
    fn plaintext_off_this_machine_is_named() {
        assert_eq!(plaintext_off_machine("http://cc.example.com:80").as_deref(), Some("cc.example.com"));
        assert_eq!(plaintext_off_machine("http://127.0.0.1:80"), None);
        assert_eq!(plaintext_off_machine("https://cc.example.com"), None);
    }
}
