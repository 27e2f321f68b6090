//! Per-workspace quotas on what costs the most: how often a workspace may
//! save credentials and request validations (each validation is a job, a
//! Vault read and calls to the customer's cloud), ask for run-time
//! credentials and have them minted,
//! how many connections it may hold, and how many callers may `wait` on
//! one replica at once; and [`Shares`], a pool of slots with a cap per
//! caller (calls in progress, watch streams).
//!
//! Rates are GCRA buckets keyed by workspace (`governor`): a workspace may
//! spend its whole minute's allowance at once, then one call per period.
//! Counted per replica; with N replicas a workspace gets up to N times the
//! rate, which bounds it all the same.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    state::keyed::HashMapStateStore,
};
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{domain::names::Workspace, error::AppError};

/// The `CLOUDCONN_*` quota variables.
#[derive(Debug, Clone, Deserialize)]
pub struct QuotaConfig {
    /// `CLOUDCONN_RATE_VALIDATE_PER_MINUTE`: validations one workspace may
    /// request per minute per replica, default 120.
    #[serde(default = "default_rate")]
    pub rate_validate_per_minute: u32,
    /// `CLOUDCONN_RATE_COMPLETE_PER_MINUTE`: credential saves one workspace
    /// may make per minute per replica, default 120.
    #[serde(default = "default_rate")]
    pub rate_complete_per_minute: u32,
    /// `CLOUDCONN_RATE_ISSUE_PER_MINUTE`: credentials one workspace may have
    /// minted per minute per replica (IssueCredentials cache misses),
    /// default 600.
    #[serde(default = "default_issue_rate")]
    pub rate_issue_per_minute: u32,
    /// `CLOUDCONN_RATE_ISSUE_CALLS_PER_MINUTE`: IssueCredentials calls one
    /// workspace may make per minute per replica, cache hits included
    /// (each still reads the connection row), default 6000.
    #[serde(default = "default_issue_calls_rate")]
    pub rate_issue_calls_per_minute: u32,
    /// `CLOUDCONN_MAX_CONNECTIONS_PER_WORKSPACE`: default 1000.
    #[serde(default = "default_max_connections")]
    pub max_connections_per_workspace: u64,
    /// `CLOUDCONN_MAX_WAITERS`: ValidateConnection calls that may `wait` on
    /// one replica at once, default 512; beyond, a call answers at once
    /// with the validation as it is.
    #[serde(default = "default_max_waiters")]
    pub max_waiters: usize,
}

fn default_rate() -> u32 {
    120
}
fn default_issue_rate() -> u32 {
    600
}
fn default_issue_calls_rate() -> u32 {
    6000
}
fn default_max_connections() -> u64 {
    1000
}
fn default_max_waiters() -> usize {
    512
}

impl Default for QuotaConfig {
    fn default() -> Self {
        Self {
            rate_validate_per_minute: default_rate(),
            rate_complete_per_minute: default_rate(),
            rate_issue_per_minute: default_issue_rate(),
            rate_issue_calls_per_minute: default_issue_calls_rate(),
            max_connections_per_workspace: default_max_connections(),
            max_waiters: default_max_waiters(),
        }
    }
}

impl QuotaConfig {
    pub fn validate(&self) -> Result<(), cloudconn_infra::config::ConfigError> {
        use cloudconn_infra::config::ConfigError::Invalid;
        let checks = [
            (self.rate_validate_per_minute == 0, "CLOUDCONN_RATE_VALIDATE_PER_MINUTE"),
            (self.rate_complete_per_minute == 0, "CLOUDCONN_RATE_COMPLETE_PER_MINUTE"),
            (self.rate_issue_per_minute == 0, "CLOUDCONN_RATE_ISSUE_PER_MINUTE"),
            (self.rate_issue_calls_per_minute == 0, "CLOUDCONN_RATE_ISSUE_CALLS_PER_MINUTE"),
            (self.max_connections_per_workspace == 0, "CLOUDCONN_MAX_CONNECTIONS_PER_WORKSPACE"),
        ];
        match checks.iter().find(|(bad, _)| *bad) {
            Some((_, name)) => Err(Invalid(format!("{name} must be at least 1"))),
            None => Ok(()),
        }
    }
}

/// The rate-limited actions.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    Validate,
    Complete,
    /// A credential minted (a cache miss of IssueCredentials).
    Issue,
    /// An IssueCredentials call, hit or miss: hits cost no provider call
    /// but still a read of the connection row, and are metered too.
    IssueCall,
}

type Limiter = RateLimiter<String, HashMapStateStore<String>, DefaultClock>;

/// Workspaces tracked before idle ones are forgotten (a `["*"]` token may
/// name any workspace; the map must not grow with them).
const TRACKED_WORKSPACES: usize = 10_000;

#[derive(Clone)]
pub struct Quotas {
    validate: Arc<Limiter>,
    complete: Arc<Limiter>,
    issue: Arc<Limiter>,
    issue_calls: Arc<Limiter>,
    pub max_connections_per_workspace: u64,
    waiters: Arc<Semaphore>,
}

impl Quotas {
    pub fn new(config: &QuotaConfig) -> Self {
        let per_minute = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            validate: Arc::new(RateLimiter::hashmap(per_minute(config.rate_validate_per_minute))),
            complete: Arc::new(RateLimiter::hashmap(per_minute(config.rate_complete_per_minute))),
            issue: Arc::new(RateLimiter::hashmap(per_minute(config.rate_issue_per_minute))),
            issue_calls: Arc::new(RateLimiter::hashmap(per_minute(config.rate_issue_calls_per_minute))),
            max_connections_per_workspace: config.max_connections_per_workspace,
            waiters: Arc::new(Semaphore::new(config.max_waiters)),
        }
    }

    /// Spends one `action` of `workspace`'s allowance, or says when to retry.
    pub fn spend(&self, action: Action, workspace: &Workspace) -> Result<(), AppError> {
        let (limiter, what) = match action {
            Action::Validate => (&self.validate, "validations"),
            Action::Complete => (&self.complete, "credential saves"),
            Action::Issue => (&self.issue, "credentials minted"),
            Action::IssueCall => (&self.issue_calls, "IssueCredentials calls"),
        };
        if limiter.len() > TRACKED_WORKSPACES {
            // A forgotten workspace starts again with a full allowance,
            // which is what an idle one has anyway.
            limiter.retain_recent();
        }
        let key = workspace.as_str().to_owned();
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let retry_after = wait.max(Duration::from_millis(1));
            AppError::RateLimited {
                retry_after,
                message: format!(
                    "workspace {} requested {what} faster than its quota allows; retry in {} ms",
                    workspace.as_str(),
                    retry_after.as_millis()
                ),
            }
        })
    }

    /// A place among the callers waiting for an outcome, if one is free.
    pub fn waiter(&self) -> Option<OwnedSemaphorePermit> {
        self.waiters.clone().try_acquire_owned().ok()
    }
}

/// A pool of slots, every caller together, with a cap per key (a token
/// subject): one key cannot take them all.
#[derive(Clone)]
pub struct Shares {
    slots: Arc<Semaphore>,
    per_key: Arc<Mutex<HashMap<String, usize>>>,
    max_per_key: usize,
    /// What a slot is, for the refusal's message ("watch streams").
    what: &'static str,
}

/// One slot of a [`Shares`] pool, given back when dropped.
pub struct Share {
    _slot: OwnedSemaphorePermit,
    key: String,
    per_key: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut per_key = self.per_key.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = per_key.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                per_key.remove(&self.key);
            }
        }
    }
}

impl Shares {
    pub fn new(total: usize, max_per_key: usize, what: &'static str) -> Self {
        Self { slots: Arc::new(Semaphore::new(total)), per_key: Arc::default(), max_per_key, what }
    }

    /// A slot for `key`; UNAVAILABLE when the pool is empty, RESOURCE_EXHAUSTED
    /// when this key holds its share already.
    pub fn take(&self, key: &str) -> Result<Share, AppError> {
        let slot = self.slots.clone().try_acquire_owned().map_err(|_| AppError::ServerBusy)?;
        let mut per_key = self.per_key.lock().unwrap_or_else(|e| e.into_inner());
        let n = per_key.entry(key.to_owned()).or_default();
        if *n >= self.max_per_key {
            return Err(AppError::RateLimited {
                retry_after: Duration::from_secs(1),
                message: format!(
                    "this caller already has {} {} open; close some and retry",
                    self.max_per_key, self.what
                ),
            });
        }
        *n += 1;
        Ok(Share { _slot: slot, key: key.to_owned(), per_key: self.per_key.clone() })
    }
}
