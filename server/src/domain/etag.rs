//! Entity tags (AIP-154).
//!
//! The etag is derived from the connection's uid and its change counter, so it
//! changes on every change, and an etag read before a delete never matches a
//! connection later recreated under the same tag.

use uuid::Uuid;

/// The etag of a connection at change counter `version`.
pub fn etag(uid: Uuid, version: i64) -> String {
    let simple = uid.simple().to_string();
    format!("{}-{version}", &simple[..12])
}

/// Whether a caller's precondition holds. An empty precondition always does.
pub fn matches(precondition: &str, uid: Uuid, version: i64) -> bool {
    precondition.is_empty() || precondition == etag(uid, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_with_version_and_uid() {
        let a = Uuid::new_v4();
        let b = Uuid::new_v4();
        assert_ne!(etag(a, 1), etag(a, 2));
        assert_ne!(etag(a, 1), etag(b, 1));
        assert!(matches("", a, 7));
        assert!(matches(&etag(a, 7), a, 7));
        assert!(!matches(&etag(a, 6), a, 7));
    }
}
