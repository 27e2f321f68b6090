//! `--dev` authentication: an HS256 key generated for the data directory,
//! and a ready-to-use token printed at start (platform-wide, read and write).

use std::path::Path;

use jsonwebtoken::{EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::{AuthConfig, READ_SCOPE, WRITE_SCOPE};

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
        "scope": format!("{READ_SCOPE} {WRITE_SCOPE}"),
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
