//! `--dev` authentication: an HS256 key generated for the data directory,
//! and a ready-to-use token printed at start (platform-wide: read, write and use).

use std::path::Path;

use jsonwebtoken::{EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::{AuthConfig, READ_SCOPE, USE_SCOPE, WRITE_SCOPE};

/// Loads (or creates) the dev signing key and mints a 30-day dev token.
pub fn dev_auth(dir: &Path) -> anyhow::Result<(AuthConfig, String)> {
    super::files::private_dir(dir)?;
    let path = dir.join("auth.key");
    let secret = if path.exists() {
        String::from_utf8(super::files::read_private(&path)?)?.trim().to_owned()
    } else {
        use rand::Rng;
        let bytes: [u8; 32] = rand::rng().random();
        let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        super::files::write_private(&path, secret.as_bytes())?;
        secret
    };
    let secret = SecretString::from(secret);
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "sub": "dev",
        "workspaces": ["*"],
        "scope": format!("{READ_SCOPE} {WRITE_SCOPE} {USE_SCOPE}"),
        "iat": now,
        "exp": now + 30 * 24 * 3600,
    });
    let token = jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.expose_secret().as_bytes()),
    )?;
    Ok((AuthConfig { auth_hs256_secret: Some(secret), ..AuthConfig::default() }, token))
}

/// Name of the file (in the dev data directory) that tells clients on
/// this machine where the dev server listens and which token to send, so
/// `cloudconn connections list` works right after `--dev` starts.
pub const CLIENT_FILE: &str = "client.json";

/// Writes [`CLIENT_FILE`]: `{"address": "http://127.0.0.1:<port>", "token":
/// "<dev token>"}`, private to this user like the key it derives from; with
/// the provider sandbox, also `"sandbox": {"aws": "<url>", …}`, where a
/// component's own cloud SDK can send the credentials it was issued.
pub fn write_client_file(
    dir: &Path,
    addr: std::net::SocketAddr,
    token: &str,
    sandbox: Option<serde_json::Value>,
) -> anyhow::Result<()> {
    let host = if addr.ip().is_unspecified() { std::net::IpAddr::from([127, 0, 0, 1]) } else { addr.ip() };
    let address = format!("http://{}", std::net::SocketAddr::new(host, addr.port()));
    let mut body = serde_json::json!({ "address": address, "token": token });
    if let Some(sandbox) = sandbox {
        body["sandbox"] = sandbox;
    }
    let body = body.to_string();
    let path = dir.join(CLIENT_FILE);
    // A new file each start: the port may differ, and the mode is set only
    // on creation.
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    super::files::write_private(&path, body.as_bytes())?;
    Ok(())
}
