//! W3C `traceparent` (https://www.w3.org/TR/trace-context/) in AMQP headers.
//!
//! Every message carries one, so a validation can be followed from the
//! caller to the worker and back: the header is the transport, and
//! `telemetry::propagation` turns it into span parents on each side.

use lapin::types::{AMQPValue, FieldTable, LongString};

pub const HEADER: &str = "traceparent";

/// A fresh, sampled `traceparent`: version 00, random trace and span ids.
pub fn new_traceparent() -> String {
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let span = &uuid::Uuid::new_v4().simple().to_string()[..16];
    format!("00-{trace}-{span}-01")
}

/// Whether `value` is a well-formed version-00 traceparent.
pub fn is_valid(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    parts.len() == 4
        && parts[0] == "00"
        && hex(parts[1], 32)
        && parts[1] != "0".repeat(32)
        && hex(parts[2], 16)
        && parts[2] != "0".repeat(16)
        && hex(parts[3], 2)
}

pub fn inject(headers: &mut FieldTable, traceparent: &str) {
    headers.insert(HEADER.into(), AMQPValue::LongString(LongString::from(traceparent.as_bytes().to_vec())));
}

pub fn extract(headers: Option<&FieldTable>) -> Option<String> {
    let value = headers?.inner().get(HEADER)?;
    let text = match value {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.as_str().to_owned(),
        _ => return None,
    };
    is_valid(&text).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let tp = new_traceparent();
        assert!(is_valid(&tp), "{tp}");
        let mut headers = FieldTable::default();
        inject(&mut headers, &tp);
        assert_eq!(extract(Some(&headers)), Some(tp));
        assert!(!is_valid("00-00000000000000000000000000000000-0000000000000001-01"));
        assert!(!is_valid("garbage"));
        assert_eq!(extract(None), None);
    }
}
