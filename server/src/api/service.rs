//! `cloudconn.v1.ConnectionService`: one thin function per RPC. Each parses
//! the request (`convert`), calls the lifecycle and converts the answer;
//! errors become statuses in `crate::error`.

use std::pin::Pin;

use cloudconn_proto::v1::{self as pb, connection_service_server::ConnectionService};
use tokio::sync::mpsc;
use tokio_stream::{Stream, wrappers::ReceiverStream};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::{convert, page_token};
use crate::{
    auth::{self, Access, Actor},
    lifecycle::Lifecycle,
    quota::Action,
};

/// How long WatchConnections waits for this replica's event subscription
/// to be bound before it answers (the first watcher of an idle replica
/// waits for it; afterwards it is already live).
const WATCH_JOIN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Api {
    lifecycle: Lifecycle,
    /// Live public events, for WatchConnections.
    watchers: crate::watch::Hub,
    /// Ends watch streams when the server shuts down.
    shutdown: CancellationToken,
    /// What the setup kit needs from the deployment.
    setup: std::sync::Arc<crate::setup::SetupConfig>,
    /// The run step (IssueCredentials).
    issuer: crate::credentials::Issuer,
}

impl Api {
    pub fn new(
        lifecycle: Lifecycle,
        watchers: crate::watch::Hub,
        shutdown: CancellationToken,
        setup: crate::setup::SetupConfig,
        issuer: crate::credentials::Issuer,
    ) -> Self {
        Self { lifecycle, watchers, shutdown, setup: std::sync::Arc::new(setup), issuer }
    }
}

/// The authenticated caller, allowed `access` in `workspace` — checked
/// before anything is read, so a refusal says nothing about what exists.
fn allow<T>(request: &Request<T>, workspace: &str, access: Access) -> Result<Actor, Status> {
    let caller = auth::caller(request)?;
    caller.authorize(workspace, access)?;
    // `auth::verify` refused a `sub` too long for the audit trail's actor.
    Ok(Actor { subject: caller.subject })
}

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::ConnectionEvent, Status>> + Send>>;

#[tonic::async_trait]
impl ConnectionService for Api {
    #[tracing::instrument(skip_all, name = "CreateConnection")]
    async fn create_connection(
        &self,
        request: Request<pb::CreateConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let actor = allow(&request, &request.get_ref().workspace, Access::Write)?;
        let cmd = convert::create_command(request.into_inner())?;
        let record = self.lifecycle.create(&actor, cmd).await?;
        // A new connection (a new uid) has no consumers: no query for them.
        Ok(Response::new(crate::view::connection(&record)))
    }

    #[tracing::instrument(skip_all, name = "CompleteConnection")]
    async fn complete_connection(
        &self,
        request: Request<pb::CompleteConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let actor = allow(&request, &request.get_ref().workspace, Access::Write)?;
        let cmd = convert::complete_command(request.into_inner())?;
        self.lifecycle.quotas.spend(Action::Complete, &cmd.workspace)?;
        if cmd.validate {
            self.lifecycle.quotas.spend(Action::Validate, &cmd.workspace)?;
        }
        let record = self.lifecycle.complete(&actor, cmd).await?;
        Ok(Response::new(crate::view::shown(&record)))
    }

    #[tracing::instrument(skip_all, name = "ValidateConnection")]
    async fn validate_connection(
        &self,
        request: Request<pb::ValidateConnectionRequest>,
    ) -> Result<Response<pb::ValidateConnectionResponse>, Status> {
        let actor = allow(&request, &request.get_ref().workspace, Access::Write)?;
        let cmd = convert::validate_command(request.into_inner())?;
        self.lifecycle.quotas.spend(Action::Validate, &cmd.workspace)?;
        let (validation, record) = self.lifecycle.validate(&actor, cmd).await?;
        Ok(Response::new(pb::ValidateConnectionResponse {
            validation: Some(crate::view::validation(&validation)),
            connection: Some(crate::view::shown(&record)),
        }))
    }

    #[tracing::instrument(skip_all, name = "GetConnection")]
    async fn get_connection(
        &self,
        request: Request<pb::GetConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        allow(&request, &request.get_ref().workspace, Access::Read)?;
        let req = request.into_inner();
        let (workspace, tag) = convert::address(&req.workspace, &req.tag)?;
        let record = self.lifecycle.get(&workspace, &tag).await?;
        Ok(Response::new(crate::view::shown(&record)))
    }

    #[tracing::instrument(skip_all, name = "GetSetupInstructions")]
    async fn get_setup_instructions(
        &self,
        request: Request<pb::GetSetupInstructionsRequest>,
    ) -> Result<Response<pb::SetupInstructions>, Status> {
        allow(&request, &request.get_ref().workspace, Access::Read)?;
        let req = request.into_inner();
        let (workspace, tag) = convert::address(&req.workspace, &req.tag)?;
        let record = self.lifecycle.get(&workspace, &tag).await?;
        Ok(Response::new(crate::setup::instructions(&record.row, &self.setup, &req.kind)?))
    }

    #[tracing::instrument(skip_all, name = "ListConnections")]
    async fn list_connections(
        &self,
        request: Request<pb::ListConnectionsRequest>,
    ) -> Result<Response<pb::ListConnectionsResponse>, Status> {
        allow(&request, &request.get_ref().workspace, Access::Read)?;
        let query = convert::list_query(request.get_ref())?;
        let (workspace, filter) = (query.workspace.clone(), query.filter.clone());
        let page = self.lifecycle.list(query).await?;
        let next_page_token = page
            .next_after_tag
            .map(|after| page_token::encode(workspace.as_str(), filter.provider, filter.status, &after))
            .unwrap_or_default();
        // A listing carries when each was last used, not who used it (that
        // is GetConnection's): one grouped query for the page.
        let ids = page.records.iter().map(|r| r.row.id).collect();
        let last_used =
            crate::store::consumers::last_used(&self.lifecycle.db, ids).await.map_err(crate::error::AppError::from)?;
        let connections = page
            .records
            .iter()
            .map(|record| {
                let mut connection = crate::view::connection(record);
                connection.last_used_time = last_used.get(&record.row.id).map(|t| crate::view::timestamp(*t));
                connection
            })
            .collect();
        Ok(Response::new(pb::ListConnectionsResponse { connections, next_page_token }))
    }

    #[tracing::instrument(skip_all, name = "UpdateConnection")]
    async fn update_connection(
        &self,
        request: Request<pb::UpdateConnectionRequest>,
    ) -> Result<Response<pb::Connection>, Status> {
        let actor = allow(&request, &request.get_ref().workspace, Access::Write)?;
        let cmd = convert::update_command(request.into_inner())?;
        let record = self.lifecycle.update(&actor, cmd).await?;
        Ok(Response::new(crate::view::shown(&record)))
    }

    #[tracing::instrument(skip_all, name = "DeleteConnection")]
    async fn delete_connection(
        &self,
        request: Request<pb::DeleteConnectionRequest>,
    ) -> Result<Response<pb::DeleteConnectionResponse>, Status> {
        let actor = allow(&request, &request.get_ref().workspace, Access::Write)?;
        let cmd = convert::delete_command(request.into_inner())?;
        let uid = self.lifecycle.delete(&actor, cmd).await?;
        // Its credentials are never served again (a new connection with the
        // tag has a new uid); free the memory now.
        self.issuer.cache().forget(uid);
        Ok(Response::new(pb::DeleteConnectionResponse {}))
    }

    async fn list_providers(
        &self,
        request: Request<pb::ListProvidersRequest>,
    ) -> Result<Response<pb::ListProvidersResponse>, Status> {
        auth::caller(&request)?.authorize_any(Access::Read)?;
        Ok(Response::new(convert::providers(self.lifecycle.oidc_issuer.as_deref())))
    }

    #[tracing::instrument(skip_all, name = "ListAuditEvents")]
    async fn list_audit_events(
        &self,
        request: Request<pb::ListAuditEventsRequest>,
    ) -> Result<Response<pb::ListAuditEventsResponse>, Status> {
        allow(&request, &request.get_ref().workspace, Access::Read)?;
        let query = convert::audit_query(request.get_ref())?;
        let binding = convert::audit_token_binding(query.workspace.as_str(), query.tag.as_deref().unwrap_or(""));
        let (events, next) = self.lifecycle.audit(query).await?;
        Ok(Response::new(pb::ListAuditEventsResponse {
            audit_events: events.iter().map(crate::view::audit_event).collect(),
            next_page_token: next.map(|after| page_token::encode_for("audit", &binding, &after)).unwrap_or_default(),
        }))
    }

    #[tracing::instrument(skip_all, name = "IssueCredentials")]
    async fn issue_credentials(
        &self,
        request: Request<pb::IssueCredentialsRequest>,
    ) -> Result<Response<pb::IssuedCredentials>, Status> {
        let actor = allow(&request, &request.get_ref().workspace, Access::Use)?;
        let cmd = convert::issue_command(request.get_ref())?;
        let (tag, scope) = (cmd.tag.as_str().to_owned(), cmd.scope.clone());
        let outcome = self.issuer.issue(&actor, cmd).await?;
        Ok(Response::new(crate::credentials::view::issued(&tag, &scope, &outcome)))
    }

    type WatchConnectionsStream = EventStream;

    #[tracing::instrument(skip_all, name = "WatchConnections")]
    async fn watch_connections(
        &self,
        request: Request<pb::WatchConnectionsRequest>,
    ) -> Result<Response<Self::WatchConnectionsStream>, Status> {
        allow(&request, &request.get_ref().workspace, Access::Read)?;
        let caller = auth::caller(&request)?;
        let req = request.into_inner();
        let (workspace, tag) = convert::watch_target(&req)?;
        // Join before answering, so nothing committed after the call
        // returns is missed.
        let joined = self.watchers.join(&caller.subject, WATCH_JOIN_WAIT).await?;
        let target = crate::watch::Target { workspace, tag, token_expires: caller.expires };
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(crate::watch::forward(joined, target, tx, self.shutdown.clone()));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
