//! Bearer tokens: any string, and any claims set signed with the right key,
//! is either a caller or a refusal — never a panic, never an accepted token
//! without the configured audience.
#![no_main]

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use cloudconn_server::auth::{AuthConfig, Authenticator};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-secret-0123456789abcdef0123456789";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap())
}

fn authenticator() -> &'static Authenticator {
    static AUTH: std::sync::OnceLock<Authenticator> = std::sync::OnceLock::new();
    AUTH.get_or_init(|| {
        let config = AuthConfig {
            auth_hs256_secret: Some(SECRET.to_owned().into()),
            auth_audience: Some("cloudconn".into()),
            ..AuthConfig::default()
        };
        let (refresh, max_stale) = (std::time::Duration::from_secs(3600), std::time::Duration::from_secs(7200));
        let shutdown = tokio_util::sync::CancellationToken::new();
        runtime().block_on(Authenticator::new(&config, refresh, max_stale, shutdown)).unwrap()
    })
}

/// An HS256 JWT over `claims` (arbitrary bytes) with the configured key.
fn signed(claims: &[u8]) -> String {
    use hmac::Mac;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{header}.{body}").as_bytes());
    format!("{header}.{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fuzz_target!(|data: &[u8]| {
    let auth = authenticator();
    runtime().block_on(async {
        if let Ok(token) = std::str::from_utf8(data) {
            let _ = auth.verify(token).await;
        }
        if let Ok(caller) = auth.verify(&signed(data)).await {
            // Accepted claims named our audience (checked by the verifier).
            // The verifier reads the claims as text, lossily: so do we.
            let claims: serde_json::Value =
                serde_json::from_str(&String::from_utf8_lossy(data)).expect("accepted claims are JSON");
            let aud = &claims["aud"];
            assert!(aud == "cloudconn" || aud.as_array().is_some_and(|a| a.iter().any(|x| x == "cloudconn")));
            let _ = caller;
        }
    });
});
