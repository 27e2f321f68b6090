//! Page tokens come back from callers: decoding any string never panics,
//! and a token decodes only for the listing it was issued for.
#![no_main]

use cloudconn_server::api::page_token::{decode, decode_for, encode, encode_for};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = decode(s, "acme", None, None);
    let _ = decode(s, "acme", Some("aws"), Some("active"));
    let _ = decode_for("audit", s, "acme");
    // Round trip with arbitrary content in every part.
    let token = encode(s, Some(s), None, s);
    assert_eq!(decode(&token, s, Some(s), None).unwrap(), s);
    assert!(decode(&token, "other-workspace", Some(s), None).is_err() || s == "other-workspace");
    let token = encode_for("audit", s, s);
    assert_eq!(decode_for("audit", &token, s).unwrap(), s);
    assert!(decode_for("connections", &token, s).is_err());
});
