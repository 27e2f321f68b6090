//! The run step (docs/run.md): IssueCredentials.
//!
//! A component with `connections:use` asks for credentials for one scope of
//! an ACTIVE connection. The server never calls a provider: it checks the
//! request against the connection row, then either serves credentials it
//! minted earlier for the same token subject ([`cache`]) or asks a worker
//! to mint them ([`minter`]: request/reply over RabbitMQ, in process in
//! `--dev`). A mint is the subject's first receipt of that credential: it is
//! audited (row, event, `Connection.consumers`) before anyone is answered.
//! A hit is a repeat: counted in memory, flushed within a second ([`usage`]).
//!
//! - [`cache`]: per (connection, active revision, scope, consumer, subject),
//!   single flight, a bounded share per workspace; served while a third of
//!   the lifetime remains.
//! - [`hits`]: repeat hits counted between flushes.
//! - [`minter`]: the [`minter::Minter`] trait and its RabbitMQ implementation.
//! - [`revoke`]: removing Atlas's temporary users on rotation and delete.
//! - [`rows`]: this replica's copy of what a repeat needs from the row, so
//!   a repeat reads nothing from the database.
//! - [`usage`]: group-committed audit rows of first receipts, and the hit
//!   counts' flush.
//! - [`view`]: the reply as `IssuedCredentials`.

pub mod cache;
pub mod hits;
pub mod minter;
pub mod revoke;
pub mod rows;
pub mod usage;
pub mod view;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use cloudconn_infra::amqp::issue::{ISSUE_VERSION, IssueAction, IssueReply, IssueRequest, Minted};
use sea_orm::DatabaseConnection;

use crate::{
    auth::Actor,
    domain::{
        names::{Tag, Workspace},
        status::{ConnectionStatus, ValidationState},
    },
    error::AppError,
    quota::{Action, Quotas},
    store::{connections, consumers, entities, hits::HitKey, validations},
};

use self::{
    cache::{Cache, Key},
    minter::{Minter, NoAnswer},
    rows::{RowCopies, RowCopy},
    usage::{Usage, UsageLog},
};

/// The lifetime asked for when the request says 0.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);
/// The shortest lifetime worth asking for: AWS STS and Atlas refuse less.
pub const MIN_TTL: Duration = Duration::from_secs(15 * 60);

/// What IssueCredentials needs from the deployment (`CLOUDCONN_ISSUE_*`).
#[derive(Debug, Clone)]
pub struct IssueSettings {
    pub max_ttl: Duration,
    /// How long to wait for a worker; also the request's deadline.
    pub timeout: Duration,
    pub cache_entries: usize,
    /// The most entries one workspace may hold in the cache.
    pub cache_entries_per_workspace: usize,
    /// How old this replica's copy of a connection row may be when a
    /// repeat is answered from it ([`rows`]); zero reads the row every call.
    pub row_max_age: Duration,
}

/// A validated IssueCredentials request.
#[derive(Debug, Clone)]
pub struct IssueCommand {
    pub workspace: Workspace,
    pub tag: Tag,
    pub scope: String,
    pub consumer: String,
    /// As asked, before the floor and the cap.
    pub ttl: Duration,
}

/// Credentials as minted: secret values stay in `WireSecret`s.
#[derive(Debug)]
pub struct Issued {
    pub credentials: Minted,
    pub issue_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
}

impl Issued {
    /// Whether at least a third of the lifetime remains: a caller handed
    /// these can still use them for a while before asking again.
    pub fn fresh(&self, now: DateTime<Utc>) -> bool {
        let lifetime = self.expire_time - self.issue_time;
        self.expire_time - now >= lifetime / 3
    }
}

/// What a call is answered with.
pub struct IssueOutcome {
    pub provider: String,
    pub revision: i64,
    pub issued: Arc<Issued>,
}

#[derive(Clone)]
pub struct Issuer {
    db: DatabaseConnection,
    minter: Arc<dyn Minter>,
    cache: Arc<Cache>,
    rows: Arc<RowCopies>,
    usage: UsageLog,
    quotas: Quotas,
    settings: IssueSettings,
}

impl Issuer {
    /// `rows` is shared with the lifecycle, which forgets a copy when its
    /// connection changes on this replica ([`Issuer::row_copies`]).
    pub fn new(
        db: DatabaseConnection,
        minter: Arc<dyn Minter>,
        usage: UsageLog,
        quotas: Quotas,
        settings: IssueSettings,
        rows: Arc<RowCopies>,
    ) -> Self {
        let cache = Arc::new(Cache::new(settings.cache_entries, settings.cache_entries_per_workspace));
        Self { db, minter, cache, rows, usage, quotas, settings }
    }

    /// The copies of connection rows a repeat is answered from, sized by
    /// `settings` like the cache they serve.
    pub fn row_copies(settings: &IssueSettings) -> Arc<RowCopies> {
        Arc::new(RowCopies::new(settings.row_max_age, settings.cache_entries, settings.cache_entries_per_workspace))
    }

    pub fn cache(&self) -> &Arc<Cache> {
        &self.cache
    }

    pub async fn issue(&self, actor: &Actor, cmd: IssueCommand) -> Result<IssueOutcome, AppError> {
        // Metered first, hits included: a refused call costs no read.
        self.quotas.spend(Action::IssueCall, &cmd.workspace)?;
        if let Some(outcome) = self.repeat(actor, &cmd) {
            return Ok(outcome);
        }
        // The long way: the row as it is now. Whatever the copy said goes
        // (a refusal below must stop this replica's repeats too); a new copy
        // is kept once the row passed every check.
        let changes = self.rows.changes();
        let found = connections::read(&self.db, cmd.workspace.as_str(), cmd.tag.as_str(), Default::default()).await?;
        self.rows.discard(cmd.workspace.as_str(), cmd.tag.as_str());
        let connections::ConnectionRecord { row, last_validation, .. } = found.ok_or(AppError::NotFound)?;
        let status = ConnectionStatus::from_db(&row.status);
        if status != Some(ConnectionStatus::Active) || row.active_revision <= 0 {
            return Err(AppError::FailedPrecondition {
                reason: "NOT_ACTIVE",
                message: format!(
                    "connection {} is not ACTIVE ({}): complete and validate it before issuing credentials",
                    row.tag,
                    row.status.to_uppercase()
                ),
            });
        }
        let scopes = row.scopes();
        let validated = self.validated_scopes(&row, last_validation).await?;
        let issuable: Vec<String> = scopes.iter().filter(|s| validated.contains(s)).cloned().collect();
        // Entries of other revisions and of scopes no longer issuable go now
        // (before the checks: a scope removed and added back mints anew).
        self.cache.retain_connection(row.id, row.active_revision, &issuable);
        if !scopes.contains(&cmd.scope) {
            return Err(AppError::FailedPrecondition {
                reason: "SCOPE_NOT_GRANTED",
                message: format!(
                    "connection {} does not grant scope {} (its scopes: {}); add it with UpdateConnection and validate",
                    row.tag,
                    cmd.scope,
                    scopes.join(", ")
                ),
            });
        }
        // A scope added to an ACTIVE connection (UpdateConnection) is not
        // issuable until a validation showed the customer granted it.
        if !issuable.contains(&cmd.scope) {
            return Err(AppError::FailedPrecondition {
                reason: "SCOPE_NOT_VALIDATED",
                message: format!(
                    "scope {} of connection {} was not shown as granted by its last successful validation of \
                     revision {}; validate the connection (ValidateConnection) and issue again",
                    cmd.scope, row.tag, row.active_revision
                ),
            });
        }
        self.rows.put(
            cmd.workspace.as_str(),
            cmd.tag.as_str(),
            RowCopy::new(row.id, row.provider.clone(), row.active_revision, issuable),
            changes,
        );
        let key = Key {
            workspace: row.workspace.clone(),
            connection: row.id,
            revision: row.active_revision,
            scope: cmd.scope.clone(),
            consumer: cmd.consumer.clone(),
            subject: actor.subject.clone(),
        };
        let ttl = if cmd.ttl.is_zero() { DEFAULT_TTL } else { cmd.ttl }.clamp(MIN_TTL, self.settings.max_ttl);
        let (issued, minted) = self.cache.get_or_mint(&key, || self.first_receipt(&row, &cmd, actor, ttl)).await?;
        if !minted {
            // This subject's own entry: it received these credentials
            // already (audited then); a repeat is only counted.
            self.count_hit(key);
        }
        Ok(IssueOutcome { provider: row.provider, revision: row.active_revision, issued })
    }

    /// A repeat answered without the database: this replica's copy of the
    /// row says the scope is issuable, and the subject's own fresh entry is
    /// in the cache. Anything else (no copy, an aged one, a miss, a flight
    /// still minting) goes the long way, which reads the row.
    fn repeat(&self, actor: &Actor, cmd: &IssueCommand) -> Option<IssueOutcome> {
        let row = self.rows.get(cmd.workspace.as_str(), cmd.tag.as_str())?;
        if !row.issuable.contains(&cmd.scope) {
            return None;
        }
        let key = Key {
            workspace: cmd.workspace.as_str().to_owned(),
            connection: row.connection,
            revision: row.revision,
            scope: cmd.scope.clone(),
            consumer: cmd.consumer.clone(),
            subject: actor.subject.clone(),
        };
        let issued = self.cache.peek(&key)?;
        self.count_hit(key);
        Some(IssueOutcome { provider: row.provider.clone(), revision: row.revision, issued })
    }

    fn count_hit(&self, key: Key) {
        self.usage.count_hit(HitKey {
            connection_id: key.connection,
            consumer: key.consumer,
            subject: key.subject,
            scope: key.scope,
            revision: key.revision,
        });
    }

    /// The scopes the connection's last successful validation of its active
    /// revision showed as granted (usually the last validation, joined with
    /// the row; otherwise one more read).
    async fn validated_scopes(
        &self,
        row: &entities::connections::Model,
        last: Option<entities::validations::Model>,
    ) -> Result<Vec<String>, AppError> {
        let succeeded = |v: &entities::validations::Model| {
            v.revision == row.active_revision && v.state == ValidationState::Succeeded.as_str()
        };
        let validation = match last.filter(succeeded) {
            Some(v) => Some(v),
            None => validations::last_succeeded(&self.db, row.id, row.active_revision).await?,
        };
        Ok(validation
            .map(|v| v.scope_checks().into_iter().filter(|c| c.granted).map(|c| c.scope).collect())
            .unwrap_or_default())
    }

    /// A mint for this subject, audited before the flight answers anyone:
    /// the waiters of the flight are the same subject, and none of them
    /// gets the credentials before the audit row is committed.
    async fn first_receipt(
        &self,
        row: &entities::connections::Model,
        cmd: &IssueCommand,
        actor: &Actor,
        ttl: Duration,
    ) -> Result<Issued, cache::MintError> {
        let issued = self.mint(row, cmd, ttl).await?;
        self.usage
            .record(Usage {
                workspace: row.workspace.clone(),
                tag: row.tag.clone(),
                connection_id: row.id,
                actor: actor.subject.clone(),
                consumer: cmd.consumer.clone(),
                scope: cmd.scope.clone(),
                revision: row.active_revision,
                expire_time: issued.expire_time,
            })
            .await
            .map_err(cache::MintError::from_app)?;
        Ok(issued)
    }

    /// Asks a worker (cache miss). Counted against the workspace's issue
    /// rate; a consumer new to the connection is refused beyond the bound.
    async fn mint(
        &self,
        row: &entities::connections::Model,
        cmd: &IssueCommand,
        ttl: Duration,
    ) -> Result<Issued, cache::MintError> {
        self.quotas.spend(Action::Issue, &cmd.workspace).map_err(cache::MintError::from_app)?;
        if !consumers::known(&self.db, row.id, &cmd.consumer).await.map_err(|e| cache::MintError::from_app(e.into()))?
            && consumers::count(&self.db, row.id).await.map_err(|e| cache::MintError::from_app(e.into()))?
                >= consumers::MAX_PER_CONNECTION
        {
            return Err(cache::MintError::from_app(AppError::QuotaExceeded {
                message: format!(
                    "connection {} had {} distinct consumers in the last 30 days, the most allowed; reuse a consumer name",
                    row.tag,
                    consumers::MAX_PER_CONNECTION
                ),
            }));
        }
        let (base, deadline) = worker_request(row, row.active_revision, self.settings.timeout, IssueAction::Mint);
        let request =
            IssueRequest { scope: cmd.scope.clone(), consumer: cmd.consumer.clone(), ttl_secs: ttl.as_secs(), ..base };
        let issue_time = Utc::now();
        match self.minter.mint(request, deadline).await {
            Ok(IssueReply::Issued { expire_time, credentials, .. }) => {
                let expire_time = DateTime::parse_from_rfc3339(&expire_time)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| cache::MintError::Internal("the worker's expire_time is not RFC 3339".into()))?;
                Ok(Issued { credentials, issue_time, expire_time })
            }
            Ok(IssueReply::Failed { error, .. }) => Err(cache::MintError::Provider(error)),
            Ok(IssueReply::Revoked { .. }) => {
                Err(cache::MintError::Internal("a worker answered a mint with a revoke".into()))
            }
            Err(NoAnswer::Timeout) => Err(cache::MintError::NoWorker(format!(
                "no worker answered within {} ms; nothing was issued, retry later",
                self.settings.timeout.as_millis()
            ))),
            Err(NoAnswer::Unreachable(why)) => {
                Err(cache::MintError::NoWorker(format!("the request could not be sent to the workers: {why}")))
            }
        }
    }
}

/// A request to the workers about `row`, signing in with `revision`, and
/// its deadline `timeout` from now (as an `Instant` for the wait, and in
/// the body for the worker). Scope, consumer and TTL are left empty.
pub(crate) fn worker_request(
    row: &crate::store::entities::connections::Model,
    revision: i64,
    timeout: Duration,
    action: IssueAction,
) -> (IssueRequest, tokio::time::Instant) {
    let request = IssueRequest {
        version: ISSUE_VERSION,
        workspace: row.workspace.clone(),
        connection_id: row.id.to_string(),
        tag: row.tag.clone(),
        provider: row.provider.clone(),
        revision: revision.max(0) as u64,
        scope: String::new(),
        consumer: String::new(),
        ttl_secs: 0,
        external_id: row.external_id.clone(),
        deadline_unix_ms: (Utc::now().timestamp_millis().max(0) as u64).saturating_add(timeout.as_millis() as u64),
        action,
    };
    (request, tokio::time::Instant::now() + timeout)
}
