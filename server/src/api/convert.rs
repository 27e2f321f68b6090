//! proto ↔ domain. Request conversions check every field and report all
//! violations at once; response conversions never touch secret values (the
//! row holds none).

use cloudconn_proto::v1 as pb;
use pb::complete_connection_request::Credentials;

use super::page_token;
use crate::{
    domain::{
        Violations,
        credentials::{self, Submitted},
        names::{self, Tag, Workspace},
        provider::{Provider, check_scopes},
        status::ConnectionStatus,
    },
    error::AppError,
    lifecycle::{CompleteCommand, CreateCommand, DeleteCommand, ListQuery, MAX_WAIT, UpdateCommand, ValidateCommand},
    store::connections::ListFilter,
    view::provider_to_proto,
};

/// Default and maximum list page sizes (AIP-158).
pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 1000;
/// Longest update mask accepted: the updatable fields, `*`, and room for repeats.
const MAX_MASK_PATHS: usize = 8;

fn finish<T>(violations: Violations, value: impl FnOnce() -> Option<T>) -> Result<T, AppError> {
    if !violations.is_empty() {
        return Err(AppError::InvalidArgument(violations.into_vec()));
    }
    value().ok_or_else(|| AppError::Internal(anyhow::anyhow!("conversion produced no value without a violation")))
}

fn provider_from_proto(value: i32) -> Option<Provider> {
    match pb::Provider::try_from(value).ok()? {
        pb::Provider::Unspecified => None,
        pb::Provider::Aws => Some(Provider::Aws),
        pb::Provider::Gcp => Some(Provider::Gcp),
        pb::Provider::Azure => Some(Provider::Azure),
        pb::Provider::MongodbAtlas => Some(Provider::MongodbAtlas),
        pb::Provider::Neo4jAura => Some(Provider::Neo4jAura),
    }
}

fn status_from_proto(value: i32) -> Result<Option<ConnectionStatus>, ()> {
    match pb::ConnectionStatus::try_from(value).map_err(|_| ())? {
        pb::ConnectionStatus::Unspecified => Ok(None),
        pb::ConnectionStatus::Pending => Ok(Some(ConnectionStatus::Pending)),
        pb::ConnectionStatus::Active => Ok(Some(ConnectionStatus::Active)),
        pb::ConnectionStatus::Failed => Ok(Some(ConnectionStatus::Failed)),
    }
}

/// Workspace and tag, the address of every single-connection call.
pub fn address(workspace: &str, tag: &str) -> Result<(Workspace, Tag), AppError> {
    let mut v = Violations::default();
    let w = v.check(Workspace::parse("workspace", workspace));
    let t = v.check(Tag::parse("tag", tag));
    finish(v, || Some((w?, t?)))
}

pub fn create_command(req: pb::CreateConnectionRequest) -> Result<CreateCommand, AppError> {
    let mut v = Violations::default();
    let workspace = v.check(Workspace::parse("workspace", &req.workspace));
    let tag = v.check(Tag::parse("tag", &req.tag));
    let provider = provider_from_proto(req.provider);
    if provider.is_none() {
        v.push("provider", "is required: one of PROVIDER_AWS, PROVIDER_GCP, PROVIDER_AZURE, PROVIDER_MONGODB_ATLAS, PROVIDER_NEO4J_AURA");
    }
    v.check(names::check_length("display_name", &req.display_name, names::DISPLAY_NAME_MAX));
    v.check(names::check_length("description", &req.description, names::DESCRIPTION_MAX));
    if let Some(p) = provider {
        check_scopes(p, "scopes", &req.scopes, &mut v);
    }
    if !req.request_id.is_empty() {
        v.check(names::check_request_id("request_id", &req.request_id));
    }
    finish(v, || {
        Some(CreateCommand {
            workspace: workspace?,
            provider: provider?,
            tag: tag?,
            display_name: req.display_name,
            description: req.description,
            scopes: req.scopes,
            request_id: (!req.request_id.is_empty()).then_some(req.request_id),
        })
    })
}

/// The submitted credentials as a provider and field map (blank = keep).
fn submitted(credentials: Credentials) -> Submitted {
    use credentials::fields;
    match credentials {
        Credentials::Aws(c) => Submitted {
            provider: Provider::Aws,
            branch: "aws",
            fields: fields([("role_arn", c.role_arn), ("kind", c.kind)]),
        },
        Credentials::Gcp(c) => Submitted {
            provider: Provider::Gcp,
            branch: "gcp",
            fields: fields([
                ("project_id", c.project_id),
                ("service_account_json", c.service_account_json),
                ("kind", c.kind),
                ("workload_identity_provider", c.workload_identity_provider),
                ("service_account_email", c.service_account_email),
            ]),
        },
        Credentials::Azure(c) => Submitted {
            provider: Provider::Azure,
            branch: "azure",
            fields: fields([
                ("tenant_id", c.tenant_id),
                ("subscription_id", c.subscription_id),
                ("client_id", c.client_id),
                ("client_secret", c.client_secret),
                ("kind", c.kind),
            ]),
        },
        Credentials::MongodbAtlas(c) => Submitted {
            provider: Provider::MongodbAtlas,
            branch: "mongodb_atlas",
            fields: fields([
                ("project_id", c.project_id),
                ("atlas_public_key", c.atlas_public_key),
                ("atlas_private_key", c.atlas_private_key),
            ]),
        },
        Credentials::Neo4jAura(c) => Submitted {
            provider: Provider::Neo4jAura,
            branch: "neo4j_aura",
            fields: fields([("aura_client_id", c.aura_client_id), ("aura_client_secret", c.aura_client_secret)]),
        },
    }
}

pub fn complete_command(req: pb::CompleteConnectionRequest) -> Result<CompleteCommand, AppError> {
    let mut v = Violations::default();
    let workspace = v.check(Workspace::parse("workspace", &req.workspace));
    let tag = v.check(Tag::parse("tag", &req.tag));
    let submitted = req.credentials.map(submitted);
    match &submitted {
        Some(s) => credentials::check_formats(s, &mut v),
        None => v.push("credentials", "is required: set the credentials message of the connection's provider"),
    }
    finish(v, || {
        Some(CompleteCommand {
            workspace: workspace?,
            tag: tag?,
            submitted: submitted?,
            validate: req.validate,
            etag: req.etag,
        })
    })
}

/// Resolves the update mask (AIP-134): an empty mask updates every field the
/// request sets; a named field is updated even when empty (clearing it).
pub fn update_command(req: pb::UpdateConnectionRequest) -> Result<UpdateCommand, AppError> {
    let mut v = Violations::default();
    let workspace = v.check(Workspace::parse("workspace", &req.workspace));
    let tag = v.check(Tag::parse("tag", &req.tag));
    let paths: Vec<String> = req.update_mask.map(|m| m.paths).unwrap_or_default();
    let (mut display_name, mut description, mut scopes) = (None, None, None);
    if paths.len() > MAX_MASK_PATHS {
        // One violation, not one per element: see `domain::MAX_VIOLATIONS`.
        v.push(
            "update_mask.paths",
            format!("at most {MAX_MASK_PATHS} paths; updatable fields are display_name, description, scopes"),
        );
    } else if paths.is_empty() {
        display_name = req.display_name;
        description = req.description;
        scopes = (!req.scopes.is_empty()).then_some(req.scopes);
    } else {
        for (i, path) in paths.iter().enumerate() {
            match path.as_str() {
                "display_name" => display_name = Some(req.display_name.clone().unwrap_or_default()),
                "description" => description = Some(req.description.clone().unwrap_or_default()),
                "scopes" => scopes = Some(req.scopes.clone()),
                "*" => {
                    display_name = Some(req.display_name.clone().unwrap_or_default());
                    description = Some(req.description.clone().unwrap_or_default());
                    scopes = Some(req.scopes.clone());
                }
                "tag" | "provider" | "workspace" | "uid" | "external_id" | "create_time" => {
                    v.push(format!("update_mask.paths[{i}]"), format!("{path} cannot be changed after creation"))
                }
                _ => v.push(
                    format!("update_mask.paths[{i}]"),
                    "unknown field; updatable fields are display_name, description, scopes",
                ),
            }
        }
    }
    if let Some(d) = &display_name {
        v.check(names::check_length("display_name", d, names::DISPLAY_NAME_MAX));
    }
    if let Some(d) = &description {
        v.check(names::check_length("description", d, names::DESCRIPTION_MAX));
    }
    if scopes.as_ref().is_some_and(Vec::is_empty) {
        v.push("scopes", "at least one scope is required");
    }
    finish(v, || {
        Some(UpdateCommand { workspace: workspace?, tag: tag?, display_name, description, scopes, etag: req.etag })
    })
}

pub fn validate_command(req: pb::ValidateConnectionRequest) -> Result<ValidateCommand, AppError> {
    let mut v = Violations::default();
    let workspace = v.check(Workspace::parse("workspace", &req.workspace));
    let tag = v.check(Tag::parse("tag", &req.tag));
    let wait = match req.wait {
        None => std::time::Duration::ZERO,
        Some(d) if d.seconds < 0 || d.nanos < 0 => {
            v.push("wait", "must not be negative");
            std::time::Duration::ZERO
        }
        // Over the maximum is coerced, as page sizes are.
        Some(d) => std::time::Duration::try_from(d).unwrap_or(MAX_WAIT).min(MAX_WAIT),
    };
    finish(v, || Some(ValidateCommand { workspace: workspace?, tag: tag?, wait }))
}

/// A validated IssueCredentials request. The scope is checked against the
/// words scopes can be here; whether the connection has it is the lifecycle's
/// answer (SCOPE_NOT_GRANTED), after the lookup.
pub fn issue_command(req: &pb::IssueCredentialsRequest) -> Result<crate::credentials::IssueCommand, AppError> {
    let mut v = Violations::default();
    let workspace = v.check(Workspace::parse("workspace", &req.workspace));
    let tag = v.check(Tag::parse("tag", &req.tag));
    if !crate::domain::provider::ALL_SCOPES.contains(&req.scope.as_str()) {
        v.push("scope", format!("must be one of: {}", crate::domain::provider::ALL_SCOPES.join(", ")));
    }
    let consumer_ok = (1..=64).contains(&req.consumer.len())
        && req.consumer.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'@' | b'/' | b'-'));
    if !consumer_ok {
        v.push(
            "consumer",
            "must be 1–64 characters of A–Z, a–z, 0–9, _ . @ / - (who will use them, e.g. billing-api/prd)",
        );
    }
    let ttl = match req.ttl {
        None => std::time::Duration::ZERO,
        Some(d) if d.seconds < 0 || d.nanos < 0 => {
            v.push("ttl", "must not be negative");
            std::time::Duration::ZERO
        }
        // Over the maximum is capped by the issuer, as documented.
        Some(d) => std::time::Duration::try_from(d).unwrap_or(std::time::Duration::MAX),
    };
    finish(v, || {
        Some(crate::credentials::IssueCommand {
            workspace: workspace?,
            tag: tag?,
            scope: req.scope.clone(),
            consumer: req.consumer.clone(),
            ttl,
        })
    })
}

/// What an audit page token is bound to: the workspace, and the tag when
/// the listing is one connection's (a token from one listing is refused by
/// another, rather than silently skipping rows).
pub fn audit_token_binding(workspace: &str, tag: &str) -> String {
    if tag.is_empty() { workspace.to_owned() } else { format!("{workspace}/{tag}") }
}

/// A validated audit listing: workspace, optional tag, page size, cursor `(time, id)`.
pub fn audit_query(req: &pb::ListAuditEventsRequest) -> Result<crate::lifecycle::AuditQuery, AppError> {
    let mut v = Violations::default();
    let workspace = v.check(Workspace::parse("workspace", &req.workspace));
    let tag =
        if req.tag.is_empty() { None } else { v.check(Tag::parse("tag", &req.tag)).map(|t| t.as_str().to_owned()) };
    let page_size = match req.page_size {
        n if n < 0 => {
            v.push("page_size", "must not be negative");
            0
        }
        0 => DEFAULT_PAGE_SIZE,
        n => u64::try_from(n).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE),
    };
    let before = if req.page_token.is_empty() {
        None
    } else {
        v.check(page_token::decode_for("audit", &req.page_token, &audit_token_binding(&req.workspace, &req.tag)))
            .and_then(|after| {
                let parsed = after.split_once('/').and_then(|(micros, id)| {
                    Some((
                        chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?,
                        uuid::Uuid::parse_str(id).ok()?,
                    ))
                });
                if parsed.is_none() {
                    v.push("page_token", "is not a page token issued by this service");
                }
                parsed
            })
    };
    finish(v, || Some(crate::lifecycle::AuditQuery { workspace: workspace?, tag, page_size, before }))
}

/// The workspace and optional tag a watcher asked for.
pub fn watch_target(req: &pb::WatchConnectionsRequest) -> Result<(Workspace, Option<String>), AppError> {
    let mut v = Violations::default();
    let workspace = v.check(Workspace::parse("workspace", &req.workspace));
    let tag =
        if req.tag.is_empty() { None } else { v.check(Tag::parse("tag", &req.tag)).map(|t| t.as_str().to_owned()) };
    finish(v, || Some((workspace?, tag)))
}

pub fn delete_command(req: pb::DeleteConnectionRequest) -> Result<DeleteCommand, AppError> {
    let (workspace, tag) = address(&req.workspace, &req.tag)?;
    Ok(DeleteCommand { workspace, tag, etag: req.etag })
}

pub fn list_query(req: &pb::ListConnectionsRequest) -> Result<ListQuery, AppError> {
    let mut v = Violations::default();
    let workspace = v.check(Workspace::parse("workspace", &req.workspace));
    let provider = match req.provider {
        0 => None,
        other => {
            let p = provider_from_proto(other);
            if p.is_none() {
                v.push("provider", "is not a known provider");
            }
            p
        }
    };
    let status = status_from_proto(req.status).unwrap_or_else(|()| {
        v.push("status", "is not a known connection status");
        None
    });
    let page_size = match req.page_size {
        n if n < 0 => {
            v.push("page_size", "must not be negative");
            0
        }
        0 => DEFAULT_PAGE_SIZE,
        n => u64::try_from(n).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE),
    };
    let filter = ListFilter { provider: provider.map(Provider::as_str), status: status.map(ConnectionStatus::as_str) };
    let after_tag = if req.page_token.is_empty() {
        None
    } else {
        v.check(page_token::decode(&req.page_token, &req.workspace, filter.provider, filter.status))
    };
    finish(v, || Some(ListQuery { workspace: workspace?, filter, page_size, after_tag }))
}

/// The provider catalogue, from the one table in `domain::provider`;
/// `issuer` is this server's OpenID Connect issuer, when it is one.
pub fn providers(issuer: Option<&str>) -> pb::ListProvidersResponse {
    pb::ListProvidersResponse {
        providers: Provider::ALL
            .into_iter()
            .map(|p| pb::ProviderSpec {
                provider: provider_to_proto(p).into(),
                display_name: p.display_name().to_owned(),
                fields: p
                    .fields()
                    .iter()
                    .map(|f| pb::FieldSpec {
                        name: f.name.to_owned(),
                        secret: f.secret,
                        required: f.required,
                        pattern: f.pattern.unwrap_or_default().to_owned(),
                        description: f.description.to_owned(),
                    })
                    .collect(),
                scopes: p.allowed_scopes().iter().map(|s| (*s).to_owned()).collect(),
                scope_specs: p
                    .allowed_scopes()
                    .iter()
                    .map(|s| pb::ScopeSpec {
                        name: (*s).to_owned(),
                        permissions: cloudconn_infra::permissions::for_scope(p.as_str(), s)
                            .iter()
                            .map(|p| (*p).to_owned())
                            .collect(),
                    })
                    .collect(),
                kinds: p
                    .kinds()
                    .iter()
                    .map(|k| pb::CredentialKindSpec {
                        name: k.name.to_owned(),
                        display_name: k.display_name.to_owned(),
                        description: k.description.to_owned(),
                        keyless: k.keyless,
                        fields: k.fields.iter().map(|f| (*f).to_owned()).collect(),
                        issuer_url: issuer.filter(|_| k.keyless).unwrap_or_default().to_owned(),
                    })
                    .collect(),
                default_kind: p.default_kind().name.to_owned(),
            })
            .collect(),
    }
}
