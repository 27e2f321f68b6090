//! One function per command. Each takes the connected [`Client`], makes
//! its calls and prints through `output`; errors go back to `main` as a
//! [`Failure`] for the one exit-code mapping.

mod complete;
mod connections;
pub mod credentials;
pub mod setup;
mod validate;
mod watch;

use cloudconn_proto::v1 as pb;

use crate::{
    args::{Connections, OutputFormat},
    client::Client,
    exit::Failure,
    output,
};

pub async fn providers(client: &mut Client, format: OutputFormat) -> Result<(), Failure> {
    let response = client.grpc.list_providers(pb::ListProvidersRequest {}).await?.into_inner();
    match format {
        OutputFormat::Json => output::print_json(&response, "cloudconn.v1.ListProvidersResponse"),
        OutputFormat::Text => {
            output::providers_table(&response.providers);
            Ok(())
        }
    }
}

pub async fn connections(client: &mut Client, command: Connections, format: OutputFormat) -> Result<(), Failure> {
    match command {
        Connections::Create { tag, provider, scopes, display_name, description } => {
            let request = pb::CreateConnectionRequest {
                workspace: client.workspace.clone(),
                provider: pb::Provider::from(provider).into(),
                tag,
                display_name: display_name.unwrap_or_default(),
                description: description.unwrap_or_default(),
                scopes,
                request_id: String::new(),
            };
            let connection = client.grpc.create_connection(request).await?.into_inner();
            connections::print_connection(&connection, format)
        }
        Connections::Complete { tag, fields, from_file, validate } => {
            complete::run(client, &tag, &fields, from_file.as_deref(), validate, format).await
        }
        Connections::Validate { tag, no_wait, timeout } => {
            validate::run(client, &tag, (!no_wait).then_some(timeout), format).await
        }
        Connections::Get { tag } => connections::get(client, tag, format).await,
        Connections::List { provider, status } => connections::list(client, provider, status, format).await,
        Connections::Watch { tag } => watch::run(client, tag, format).await,
        Connections::Update { tag, display_name, description, scopes } => {
            connections::update(client, tag, display_name, description, scopes, format).await
        }
        Connections::Delete { tag, yes } => connections::delete(client, tag, yes, format).await,
    }
}
