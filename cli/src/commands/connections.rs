//! `get`, `list`, `update`, `delete`: one call each (list: one per page).

use std::io::{BufRead, IsTerminal, Write};

use cloudconn_proto::v1 as pb;

use crate::{
    args::{OutputFormat, ProviderWord, StatusWord},
    client::Client,
    exit::Failure,
    output,
};

/// Page size for `list`: a few calls even for a large workspace, small
/// enough that one page never nears the 1 MiB message limit.
const PAGE_SIZE: i32 = 200;

pub fn print_connection(connection: &pb::Connection, format: OutputFormat) -> Result<(), Failure> {
    match format {
        OutputFormat::Json => output::print_json(connection, "cloudconn.v1.Connection"),
        OutputFormat::Text => {
            output::connection_view(connection);
            Ok(())
        }
    }
}

pub async fn get(client: &mut Client, tag: String, format: OutputFormat) -> Result<(), Failure> {
    let request = pb::GetConnectionRequest { workspace: client.workspace.clone(), tag };
    let connection = client.grpc.get_connection(request).await?.into_inner();
    print_connection(&connection, format)
}

pub async fn list(
    client: &mut Client,
    provider: Option<ProviderWord>,
    status: Option<StatusWord>,
    format: OutputFormat,
) -> Result<(), Failure> {
    let mut request = pb::ListConnectionsRequest {
        workspace: client.workspace.clone(),
        page_size: PAGE_SIZE,
        page_token: String::new(),
        provider: provider.map_or(pb::Provider::Unspecified, Into::into).into(),
        status: status.map_or(pb::ConnectionStatus::Unspecified, Into::into).into(),
    };
    let mut all = Vec::new();
    loop {
        let page = client.grpc.list_connections(request.clone()).await?.into_inner();
        all.extend(page.connections);
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    match format {
        // Every page in one response, as if the server had sent one page.
        OutputFormat::Json => output::print_json(
            &pb::ListConnectionsResponse { connections: all, next_page_token: String::new() },
            "cloudconn.v1.ListConnectionsResponse",
        ),
        OutputFormat::Text if all.is_empty() => {
            eprintln!("no connections in workspace {}", client.workspace);
            Ok(())
        }
        OutputFormat::Text => {
            output::connections_table(&all);
            Ok(())
        }
    }
}

pub async fn update(
    client: &mut Client,
    tag: String,
    display_name: Option<String>,
    description: Option<String>,
    scopes: Vec<String>,
    format: OutputFormat,
) -> Result<(), Failure> {
    // The mask names exactly the flags given (AIP-134), so an empty
    // `--description ""` clears it while an absent flag changes nothing.
    let mut paths = Vec::new();
    if display_name.is_some() {
        paths.push("display_name".to_owned());
    }
    if description.is_some() {
        paths.push("description".to_owned());
    }
    if !scopes.is_empty() {
        paths.push("scopes".to_owned());
    }
    if paths.is_empty() {
        return Err(Failure::usage("nothing to update: give --display-name, --description or --scope"));
    }
    let request = pb::UpdateConnectionRequest {
        workspace: client.workspace.clone(),
        tag,
        display_name,
        description,
        scopes,
        update_mask: Some(prost_types::FieldMask { paths }),
        etag: String::new(),
    };
    let connection = client.grpc.update_connection(request).await?.into_inner();
    print_connection(&connection, format)
}

pub async fn delete(client: &mut Client, tag: String, yes: bool, format: OutputFormat) -> Result<(), Failure> {
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::usage(format!(
                "refusing to delete {tag} without confirmation: pass --yes (stdin is not a terminal to ask on)"
            )));
        }
        eprint!("Delete connection {tag} in workspace {} and destroy its stored credentials? [y/N] ", client.workspace);
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            eprintln!("not deleted");
            return Ok(());
        }
    }
    let request =
        pb::DeleteConnectionRequest { workspace: client.workspace.clone(), tag: tag.clone(), etag: String::new() };
    let response = client.grpc.delete_connection(request).await?.into_inner();
    match format {
        OutputFormat::Json => output::print_json(&response, "cloudconn.v1.DeleteConnectionResponse"),
        OutputFormat::Text => {
            output::out!("deleted {tag}");
            Ok(())
        }
    }
}
