//! Opaque page tokens (AIP-158).
//!
//! A token is base64url(JSON) holding the workspace and filters it was issued
//! for and the last tag of its page. It is not signed: it grants nothing, and
//! one that does not match the request's workspace and filters is refused, so
//! a token can only continue the listing it came from.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::domain::FieldViolation;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    /// Format version, so the encoding can change without misreading old tokens.
    v: u8,
    w: String,
    p: Option<String>,
    s: Option<String>,
    /// What is listed (absent: connections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<String>,
    /// Last tag of the previous page.
    a: String,
}

/// Issues the token that continues after `after_tag`.
pub fn encode(workspace: &str, provider: Option<&str>, status: Option<&str>, after_tag: &str) -> String {
    let cursor = Cursor {
        v: 1,
        w: workspace.to_owned(),
        p: provider.map(str::to_owned),
        s: status.map(str::to_owned),
        k: None,
        a: after_tag.to_owned(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
}

/// Returns the tag to continue after, or a violation on `page_token`.
pub fn decode(
    token: &str,
    workspace: &str,
    provider: Option<&str>,
    status: Option<&str>,
) -> Result<String, FieldViolation> {
    let malformed = || FieldViolation::new("page_token", "is not a page token issued by this service");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| malformed())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    if cursor.v != 1 {
        return Err(malformed());
    }
    if cursor.k.is_some() || cursor.w != workspace || cursor.p.as_deref() != provider || cursor.s.as_deref() != status {
        return Err(FieldViolation::new(
            "page_token",
            "was issued for a different workspace or filter; repeat the request with the same workspace, provider and status",
        ));
    }
    Ok(cursor.a)
}

/// A token for another listing (`kind`, e.g. `audit`) of one workspace.
pub fn encode_for(kind: &str, workspace: &str, after: &str) -> String {
    let cursor =
        Cursor { v: 1, w: workspace.to_owned(), p: None, s: None, k: Some(kind.to_owned()), a: after.to_owned() };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
}

pub fn decode_for(kind: &str, token: &str, workspace: &str) -> Result<String, FieldViolation> {
    let malformed = || FieldViolation::new("page_token", "is not a page token issued by this service");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| malformed())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    if cursor.v != 1 || cursor.k.as_deref() != Some(kind) {
        return Err(malformed());
    }
    if cursor.w != workspace {
        return Err(FieldViolation::new("page_token", "was issued for a different workspace"));
    }
    Ok(cursor.a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let t = encode("acme", Some("aws"), None, "prod_aws");
        assert_eq!(decode(&t, "acme", Some("aws"), None).unwrap(), "prod_aws");
        assert!(decode(&t, "other", Some("aws"), None).is_err());
        assert!(decode(&t, "acme", None, None).is_err());
        assert!(decode(&t, "acme", Some("aws"), Some("active")).is_err());
        assert!(decode("garbage!", "acme", None, None).is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("{}"), "acme", None, None).is_err());
    }
}
