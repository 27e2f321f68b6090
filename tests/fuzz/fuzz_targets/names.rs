//! Workspace names, tags and request ids: never a panic, and whatever is
//! accepted is what the documented pattern allows (so it is safe in Vault
//! paths, routing keys and URLs).
#![no_main]

use cloudconn_server::domain::names::{Tag, Workspace, check_request_id};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(w) = Workspace::parse("workspace", s) {
        let b = w.as_str().as_bytes();
        assert!(!b.is_empty() && b.len() <= 63);
        assert!(b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-'));
    }
    if let Ok(t) = Tag::parse("tag", s) {
        let b = t.as_str().as_bytes();
        assert!((2..=63).contains(&b.len()) && b[0].is_ascii_lowercase());
        assert!(b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_'));
    }
    if let Err(v) = check_request_id("request_id", s) {
        // A violation names the field and never quotes the value (checked
        // for values with a control character, which the fixed text never
        // holds; see credentials.rs).
        assert_eq!(v.field, "request_id");
        let marked = s.len() >= 8 && s.chars().any(char::is_control);
        assert!(!marked || !v.description.contains(s));
    }
});
