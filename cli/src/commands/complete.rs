//! `complete`: save a credential revision from `--field`, `--from-file`
//! and hidden prompts, optionally validating it in the same call.

use std::{path::Path, time::Duration};

use cloudconn_proto::v1 as pb;

use super::{connections::print_connection, validate};
use crate::{
    args::OutputFormat,
    client::Client,
    exit::Failure,
    secrets::{self, Sources},
};

/// How long `complete --validate` waits for the outcome (the SDKs' default).
const VALIDATE_WAIT: Duration = Duration::from_secs(60);

pub async fn run(
    client: &mut Client,
    tag: &str,
    fields: &[String],
    from_file: Option<&Path>,
    validate: bool,
    format: OutputFormat,
) -> Result<(), Failure> {
    // The connection says which provider's message to build and which
    // secrets are already stored; the catalogue says which fields are secret.
    let request = pb::GetConnectionRequest { workspace: client.workspace.clone(), tag: tag.to_owned() };
    let connection = client.grpc.get_connection(request).await?.into_inner();
    let catalogue = client.grpc.list_providers(pb::ListProvidersRequest {}).await?.into_inner();
    let spec = catalogue
        .providers
        .iter()
        .find(|p| p.provider == connection.provider)
        .ok_or_else(|| Failure::Other("the server's catalogue lacks this connection's provider".into()))?;
    let stored = connection.credentials.as_ref().map(|c| c.secret_fields_set.clone()).unwrap_or_default();
    // A save without `kind` keeps the stored one (the server does the same).
    let stored_kind = connection.credentials.as_ref().and_then(|c| c.fields.get("kind")).cloned().unwrap_or_default();
    let credentials = secrets::collect(spec, &stored, &stored_kind, &Sources { fields, from_file })?;

    let request = pb::CompleteConnectionRequest {
        workspace: client.workspace.clone(),
        tag: tag.to_owned(),
        credentials: Some(credentials),
        validate,
        etag: String::new(),
    };
    let saved = client.grpc.complete_connection(request).await?.into_inner();
    if !validate {
        return print_connection(&saved, format);
    }

    // The server queued the new revision's validation in the same call;
    // it is the connection's last validation.
    let revision = saved.credentials.as_ref().map_or(0, |c| c.revision);
    let queued = saved.last_validation.clone().filter(|v| v.revision == revision);
    let Some(queued) = queued else {
        return Err(Failure::Other("the server saved the credentials but queued no validation".into()));
    };
    let outcome = validate::wait_for(client, tag, queued, saved, VALIDATE_WAIT).await?;
    validate::finish(tag, &outcome, VALIDATE_WAIT, format)
}
