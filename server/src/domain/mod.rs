//! Rules of the connection domain, with no I/O: parsing names, the provider
//! catalogue, credential checks, statuses, etags and random tokens.
//!
//! Parsers return every problem they find as a [`FieldViolation`], so an
//! `INVALID_ARGUMENT` names all bad fields at once rather than one per retry.

pub mod credentials;
pub mod etag;
pub mod expiry;
pub mod kinds;
pub mod names;
pub mod provider;
pub mod schedule;
pub mod status;
pub mod token;

/// One bad request field: its path in the request message and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field in the request, e.g. `tag` or `aws.role_arn`.
    pub field: String,
    /// What is wrong, for people. Never echoes the submitted value.
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

/// Violations listed in one error; the rest are counted. Every violation
/// becomes a `BadRequest` entry sent in a response header, so without a
/// cap one 1 MiB request of empty repeated values (2 bytes each) would make
/// hundreds of megabytes of error details.
pub const MAX_VIOLATIONS: usize = 20;

/// Collects violations while parsing a request.
#[derive(Debug, Default)]
pub struct Violations {
    listed: Vec<FieldViolation>,
    /// Violations found beyond [`MAX_VIOLATIONS`], counted but not kept.
    more: usize,
}

impl Violations {
    pub fn push(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.add(FieldViolation::new(field, description));
    }

    fn add(&mut self, violation: FieldViolation) {
        if self.listed.len() < MAX_VIOLATIONS {
            self.listed.push(violation);
        } else {
            self.more += 1;
        }
    }

    /// Records the error of `result` and returns its value, if any.
    pub fn check<T>(&mut self, result: Result<T, FieldViolation>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(v) => {
                self.add(v);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// The listed violations, then one entry counting those left out.
    pub fn into_vec(mut self) -> Vec<FieldViolation> {
        if self.more > 0 {
            self.listed.push(FieldViolation::new(
                "…",
                format!("and {} more invalid fields not listed; fix those above and retry", self.more),
            ));
        }
        self.listed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_beyond_the_cap_are_counted_not_listed() {
        let mut v = Violations::default();
        for i in 0..1000 {
            v.push(format!("f{i}"), "bad");
        }
        let listed = v.into_vec();
        assert_eq!(listed.len(), MAX_VIOLATIONS + 1);
        assert_eq!(listed[0].field, "f0");
        assert!(listed[MAX_VIOLATIONS].description.starts_with("and 980 more"), "{:?}", listed[MAX_VIOLATIONS]);
    }
}
