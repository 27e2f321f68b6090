//! Per-workspace quotas on what costs the most: how often a workspace may
//! save credentials and request validations (each validation is a job, a
//! Vault read and calls to the customer's cloud), ask for run-time
//! credentials and have them minted,
//! how many connections it may hold, and how many callers may `wait` on
//! one replica at once; and [`Shares`], a pool of slots with a cap per
//! caller and per tenant (calls in progress, watch streams).
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
    /// `CLOUDCONN_MAX_API_CALLS`: ConnectionService calls in progress on
    /// one replica, every caller together, default 2048.
    #[serde(default = "default_max_api_calls")]
    pub max_api_calls: usize,
    /// `CLOUDCONN_MAX_CALLS_PER_SUBJECT`: of those, one token subject's,
    /// default 256.
    #[serde(default = "default_max_calls_per_subject")]
    pub max_calls_per_subject: usize,
    /// `CLOUDCONN_MAX_CALLS_PER_WORKSPACE`: of those, one tenant's (the
    /// tokens for one set of workspaces, or every `*` token), default 512.
    #[serde(default = "default_max_calls_per_workspace")]
    pub max_calls_per_workspace: usize,
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
fn default_max_api_calls() -> usize {
    2048
}
fn default_max_calls_per_subject() -> usize {
    256
}
fn default_max_calls_per_workspace() -> usize {
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
            max_api_calls: default_max_api_calls(),
            max_calls_per_subject: default_max_calls_per_subject(),
            max_calls_per_workspace: default_max_calls_per_workspace(),
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
            (self.max_api_calls == 0, "CLOUDCONN_MAX_API_CALLS"),
            (self.max_calls_per_subject == 0, "CLOUDCONN_MAX_CALLS_PER_SUBJECT"),
            (self.max_calls_per_workspace == 0, "CLOUDCONN_MAX_CALLS_PER_WORKSPACE"),
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
    /// How ConnectionService calls in progress are shared (`api::admission`).
    pub api_calls: Caps,
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
            api_calls: Caps::new(config.max_api_calls, config.max_calls_per_subject, config.max_calls_per_workspace),
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

/// How a [`Shares`] pool is divided.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Slots in the pool, every caller together.
    pub total: usize,
    /// Slots one token subject may hold.
    pub per_subject: usize,
    /// Slots one tenant (a token's workspaces, see `Caller::tenant`) may
    /// hold, all its subjects together.
    pub per_tenant: usize,
    /// The last this many free slots go only to tenants holding fewer than
    /// `light` slots: however many subjects and tenants a caller controls,
    /// it cannot take the pool's last slots from a tenant that barely uses it.
    pub reserve: usize,
    pub light: usize,
}

impl Caps {
    /// `total` slots, `per_subject` for one subject, `per_tenant` for one
    /// tenant; the last quarter is held back for tenants holding fewer than
    /// a sixteenth of their share.
    pub fn new(total: usize, per_subject: usize, per_tenant: usize) -> Self {
        Self { total, per_subject, per_tenant, reserve: total / 4, light: (per_tenant / 16).max(1) }
    }
}

/// A pool of slots, every caller together, with a cap per token subject
/// and per tenant and a reserve: one caller, or one tenant's many callers,
/// cannot take them all.
#[derive(Clone)]
pub struct Shares {
    caps: Caps,
    held: Arc<Mutex<Held>>,
    /// What a slot is, for the refusal's message ("watch streams").
    what: &'static str,
}

/// Slots taken, in all and per key; a key leaves its map at zero, so the
/// maps hold only callers with slots.
#[derive(Default)]
struct Held {
    total: usize,
    subjects: HashMap<String, usize>,
    tenants: HashMap<String, usize>,
}

/// One slot of a [`Shares`] pool, given back when dropped.
pub struct Share {
    subject: String,
    tenant: String,
    held: Arc<Mutex<Held>>,
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.total -= 1;
        release(&mut held.subjects, &self.subject);
        release(&mut held.tenants, &self.tenant);
    }
}

fn release(counts: &mut HashMap<String, usize>, key: &str) {
    if let Some(n) = counts.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(key);
        }
    }
}

impl Shares {
    pub fn new(caps: Caps, what: &'static str) -> Self {
        Self { caps, held: Arc::default(), what }
    }

    /// A slot for `subject` of `tenant`: UNAVAILABLE when the pool is
    /// empty, or down to its reserve and this tenant is not light;
    /// RESOURCE_EXHAUSTED when the subject or the tenant holds its share.
    /// Each refusal names the limit it hit.
    pub fn take(&self, subject: &str, tenant: &str) -> Result<Share, AppError> {
        let Caps { total, per_subject, per_tenant, reserve, light } = self.caps;
        let what = self.what;
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.total >= total {
            return Err(AppError::ServerBusy(format!("all {total} {what} of this server are taken")));
        }
        let by_subject = held.subjects.get(subject).copied().unwrap_or(0);
        if by_subject >= per_subject {
            return Err(refused(format!(
                "this token's subject already has {per_subject} {what}, its limit; close some and retry"
            )));
        }
        let by_tenant = held.tenants.get(tenant).copied().unwrap_or(0);
        if by_tenant >= per_tenant {
            return Err(refused(format!(
                "the tokens for workspaces {} together have {per_tenant} {what}, their limit; close some and retry",
                bounded(tenant)
            )));
        }
        if total - held.total <= reserve && by_tenant >= light {
            return Err(AppError::ServerBusy(format!(
                "the last {reserve} {what} of this server are kept for workspaces with fewer than {light}"
            )));
        }
        held.total += 1;
        count(&mut held.subjects, subject);
        count(&mut held.tenants, tenant);
        Ok(Share { subject: subject.to_owned(), tenant: tenant.to_owned(), held: self.held.clone() })
    }
}

/// One more for `key`; the key is copied only when it is new (every call
/// passes here).
fn count(counts: &mut HashMap<String, usize>, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => drop(counts.insert(key.to_owned(), 1)),
    }
}

fn refused(message: String) -> AppError {
    AppError::RateLimited { retry_after: Duration::from_secs(1), message }
}

/// At most 100 characters of a tenant key (a token may name many workspaces).
fn bounded(text: &str) -> String {
    match text.char_indices().nth(100) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(shares: &Shares, subject: &str, tenant: &str) -> String {
        match shares.take(subject, tenant) {
            Err(e) => format!("{}: {e}", e.reason()),
            Ok(_) => panic!("{subject}/{tenant} was admitted"),
        }
    }

    #[test]
    fn subjects_tenants_and_the_reserve_each_bound_the_pool() {
        // 16 slots, 4 per subject, 8 per tenant, the last 4 for tenants
        // holding none.
        let shares = Shares::new(Caps::new(16, 4, 8), "calls");
        let mut held: Vec<Share> = (0..4).map(|_| shares.take("a1", "acme").unwrap()).collect();
        assert!(refusal(&shares, "a1", "acme").contains("subject already has 4 calls"));
        held.extend((0..4).map(|_| shares.take("a2", "acme").unwrap()));
        assert!(refusal(&shares, "a3", "acme").contains("workspaces acme together have 8 calls"));
        held.extend((0..4).map(|_| shares.take("g1", "globex").unwrap()));
        // 12 taken, 4 left: only for tenants holding nothing.
        assert!(refusal(&shares, "g2", "globex").starts_with("SERVER_BUSY: the server is busy: the last 4 calls"));
        held.extend((0..4).map(|i| shares.take(&format!("s{i}"), &format!("t{i}")).unwrap()));
        assert!(refusal(&shares, "x", "initech").starts_with("SERVER_BUSY: the server is busy: all 16 calls"));
        // Slots come back when their shares are dropped.
        held.truncate(0);
        assert_eq!(shares.held.lock().unwrap().total, 0);
        assert!(shares.held.lock().unwrap().tenants.is_empty());
        drop(shares.take("a1", "acme").unwrap());
    }
}
