//! `cloudconn setup <tag> [--kind KIND] [--out DIR]`: the connection's setup kit. On the
//! terminal, each step's title and text, then its artifacts; with `--out`,
//! the artifacts written as files (scripts executable) and the steps in
//! `README.md`, ready to hand to whoever administers the account.

use std::path::Path;

use cloudconn_proto::v1 as pb;

use crate::{args::OutputFormat, client::Client, exit::Failure, output};

pub async fn run(
    client: &mut Client,
    tag: String,
    kind: String,
    out: Option<&Path>,
    format: OutputFormat,
) -> Result<(), Failure> {
    let request = pb::GetSetupInstructionsRequest { workspace: client.workspace.clone(), tag, kind };
    let kit = client.grpc.get_setup_instructions(request).await?.into_inner();
    if let Some(dir) = out {
        write(&kit, dir)?;
        output::out!("wrote the setup kit of {} to {}: start with README.md", kit.tag, dir.display());
        return Ok(());
    }
    match format {
        OutputFormat::Json => output::print_json(&kit, "cloudconn.v1.SetupInstructions"),
        OutputFormat::Text => {
            output::out!("{}", readme(&kit, true));
            Ok(())
        }
    }
}

/// The steps as Markdown; `inline`: with each artifact's content.
fn readme(kit: &pb::SetupInstructions, inline: bool) -> String {
    let mut text = format!("# Setting up the connection {}\n", kit.tag);
    for (i, step) in kit.steps.iter().enumerate() {
        text.push_str(&format!("\n## {}. {}\n\n{}\n", i + 1, step.title, step.text));
        for artifact in &step.artifacts {
            if inline {
                let fence = if artifact.media_type == "application/x-sh" { "sh" } else { "" };
                text.push_str(&format!("\n`{}`:\n\n```{fence}\n{}```\n", artifact.name, artifact.content));
            } else {
                text.push_str(&format!("\n- [`{0}`]({0})\n", artifact.name));
            }
        }
    }
    text
}

/// Writes each artifact under `dir` (by its bare file name only: a name
/// from the server never chooses where a file goes) and the README.
fn write(kit: &pb::SetupInstructions, dir: &Path) -> Result<(), Failure> {
    let io = |what: &str, e: std::io::Error| Failure::Other(format!("{what}: {e}"));
    std::fs::create_dir_all(dir).map_err(|e| io(&format!("creating {}", dir.display()), e))?;
    for artifact in kit.steps.iter().flat_map(|s| &s.artifacts) {
        let name = Path::new(&artifact.name).file_name().filter(|n| *n == artifact.name.as_str());
        let Some(name) = name else {
            return Err(Failure::Other(format!("the server sent an artifact named {:?}", artifact.name)));
        };
        let path = dir.join(name);
        std::fs::write(&path, &artifact.content).map_err(|e| io(&format!("writing {}", path.display()), e))?;
        #[cfg(unix)]
        if artifact.media_type == "application/x-sh" {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
        }
    }
    let path = dir.join("README.md");
    std::fs::write(&path, readme(kit, false)).map_err(|e| io(&format!("writing {}", path.display()), e))
}
