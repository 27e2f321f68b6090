//! Workspace names, connection tags and the free-text limits (docs/api.md).

use std::sync::LazyLock;

use regex::Regex;

use super::FieldViolation;

static WORKSPACE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9_-]{0,62}$").expect("static regex"));
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9_]{1,62}$").expect("static regex"));

/// Maximum `display_name` length, in characters.
pub const DISPLAY_NAME_MAX: usize = 128;
/// Maximum `description` length, in characters.
pub const DESCRIPTION_MAX: usize = 1024;
/// Maximum `request_id` length.
pub const REQUEST_ID_MAX: usize = 128;

/// The owner of connections; every call is scoped to one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Workspace(String);

impl Workspace {
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldViolation> {
        if s.is_empty() {
            return Err(FieldViolation::new(field, "is required"));
        }
        if !WORKSPACE.is_match(s) {
            return Err(FieldViolation::new(field, "must match ^[a-z0-9][a-z0-9_-]{0,62}$"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A connection's stable name within its workspace, fixed after creation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag(String);

impl Tag {
    pub fn parse(field: &str, s: &str) -> Result<Self, FieldViolation> {
        if s.is_empty() {
            return Err(FieldViolation::new(field, "is required"));
        }
        if !TAG.is_match(s) {
            return Err(FieldViolation::new(
                field,
                "must be 2-63 characters: a lower-case letter, then lower-case letters, digits or '_' (^[a-z][a-z0-9_]{1,62}$)",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a free-text field: its limit, counted in characters, and no
/// control characters but tab and line breaks (PostgreSQL refuses NUL in
/// text; the others only hide text from the people reading it).
pub fn check_length(field: &str, s: &str, max: usize) -> Result<(), FieldViolation> {
    if s.chars().count() > max {
        return Err(FieldViolation::new(field, format!("must be at most {max} characters")));
    }
    if s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return Err(FieldViolation::new(field, "must not contain control characters (NUL, escape, …)"));
    }
    Ok(())
}

/// An AIP-155 idempotency key: printable ASCII without spaces (a UUID is typical).
pub fn check_request_id(field: &str, s: &str) -> Result<(), FieldViolation> {
    if s.len() > REQUEST_ID_MAX || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(FieldViolation::new(
            field,
            format!("must be at most {REQUEST_ID_MAX} printable ASCII characters (a UUID is recommended)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        for ok in ["prod_aws", "ab", "a1", &format!("a{}", "b".repeat(62))] {
            assert!(Tag::parse("tag", ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "Prod", "1abc", "prod-aws", "prod aws", &format!("a{}", "b".repeat(63)), "é_x"] {
            assert!(Tag::parse("tag", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn workspaces() {
        for ok in ["w", "acme", "acme-prod_1", "0abc"] {
            assert!(Workspace::parse("workspace", ok).is_ok(), "{ok}");
        }
        for bad in ["", "-acme", "Acme", "a/b", &"a".repeat(64)] {
            assert!(Workspace::parse("workspace", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(check_length("display_name", &"é".repeat(128), DISPLAY_NAME_MAX).is_ok());
        assert!(check_length("display_name", &"é".repeat(129), DISPLAY_NAME_MAX).is_err());
    }

    #[test]
    fn free_text_refuses_control_characters() {
        assert!(check_length("description", "two\nlines\tand a tab", 100).is_ok());
        for bad in ["nul\0byte", "esc\u{1b}[31m", "bell\u{7}"] {
            assert!(check_length("description", bad, 100).is_err(), "{bad:?}");
        }
    }
}
