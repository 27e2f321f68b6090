//! Rules of the connection domain, with no I/O: parsing names, the provider
//! catalogue, credential checks, statuses and etags.
//!
//! Parsers return every problem they find as a [`FieldViolation`], so an
//! `INVALID_ARGUMENT` names all bad fields at once rather than one per retry.

pub mod credentials;
pub mod etag;
pub mod names;
pub mod provider;
pub mod status;

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

/// Collects violations while parsing a request.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn push(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Records the error of `result` and returns its value, if any.
    pub fn check<T>(&mut self, result: Result<T, FieldViolation>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(v) => {
                self.0.push(v);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<FieldViolation> {
        self.0
    }
}
