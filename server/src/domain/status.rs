//! Connection status and validation state, as stored in the database.

use std::fmt;

/// Lifecycle status of a connection (docs/api.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionStatus {
    Pending,
    Active,
    Failed,
}

impl ConnectionStatus {
    pub const ALL: [ConnectionStatus; 3] = [Self::Pending, Self::Active, Self::Failed];

    /// The database spelling; stable, never renamed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Failed => "failed",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for ConnectionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// State of one validation run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Superseded,
}

impl ValidationState {
    pub const ALL: [ValidationState; 5] =
        [Self::Queued, Self::Running, Self::Succeeded, Self::Failed, Self::Superseded];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Superseded => "superseded",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Superseded)
    }
}

/// What started a validation (`validations.trigger`, `Validation.trigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// ValidateConnection.
    Manual,
    /// CompleteConnection with `validate`.
    Complete,
    /// The re-validation scheduler.
    Scheduled,
}

impl Trigger {
    /// The database spelling; stable, never renamed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Complete => "complete",
            Self::Scheduled => "scheduled",
        }
    }

    pub const ALL: [Trigger; 3] = [Self::Manual, Self::Complete, Self::Scheduled];

    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}
