//! The command line (the grammar in docs/cli.md), declared with clap's derive.
//! Values are parsed into the seed's words here; nothing talks to the
//! server in this module.

use std::{path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};
use cloudconn_proto::v1 as pb;

use crate::exit::EXIT_CODES;

const ABOUT: &str = "Links a workspace to cloud providers: the cloudconn.v1 ConnectionService from a shell.";

const AFTER_HELP: &str = "\
Configuration: --addr/CLOUDCONN_ADDR, the token in CLOUDCONN_TOKEN or --token-file/CLOUDCONN_TOKEN_FILE
(never on the command line), --workspace/CLOUDCONN_WORKSPACE. TLS (the system's trust store) unless
the address is http://… or a loopback host:port (127.0.0.0/8, [::1], localhost).
With neither an address nor a token, the CLI uses the dev server of this directory:
<CLOUDCONN_DEV_DATA_DIR or .cloudconn-dev>/client.json (written by `cloudconn-server --dev`; used only
when it is yours, mode 600, and names a loopback address), its token, and the workspace `default`
unless one is given. A token given explicitly needs an address given explicitly.

Secrets never go on the command line: --field refuses secret fields; give them with
--from-file FILE (or - for stdin) or type them at the hidden prompt.";

#[derive(Debug, Parser)]
#[command(name = "cloudconn", version, about = ABOUT, after_help = format!("{AFTER_HELP}\n\n{EXIT_CODES}"))]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Server address: https://host[:port] (TLS), http://host:port (plaintext), or host:port (TLS,
    /// plaintext only for a loopback host)
    #[arg(long, env = "CLOUDCONN_ADDR", global = true)]
    pub addr: Option<String>,
    /// A file holding the bearer token (or set CLOUDCONN_TOKEN); wins over CLOUDCONN_TOKEN
    #[arg(long, env = "CLOUDCONN_TOKEN_FILE", global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Refused, without repeating the value: a token on the command line
    /// shows in `ps` and shell history. Kept (hidden) so that old scripts
    /// get a message that says what to do instead of clap's "unexpected
    /// argument", which would echo `--token=<value>`.
    #[arg(long, global = true, hide = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// `CLOUDCONN_TOKEN`: from the environment only, never a flag.
    #[arg(skip = std::env::var("CLOUDCONN_TOKEN").ok())]
    pub token_variable: Option<String>,
    /// Workspace every call is scoped to
    #[arg(long, env = "CLOUDCONN_WORKSPACE", global = true)]
    pub workspace: Option<String>,
    /// table (aligned, with a header), plain (tab-separated, no header) or json (proto3 JSON);
    /// default: table on a terminal, plain in a pipe or a file
    #[arg(long, short = 'o', value_enum, env = "CLOUDCONN_OUTPUT", global = true)]
    pub output: Option<OutputChoice>,
}

/// What `-o` accepts. The commands see an [`OutputFormat`]; the table
/// layout is the output module's (`output::set_layout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputChoice {
    Table,
    Plain,
    Json,
}

/// What a command prints: text (tables and key/value views, laid out as
/// `-o` or the terminal says) or proto3 JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The provider catalogue: credential fields (secret or not) and scopes
    Providers,
    /// Create, complete, validate, inspect and remove connections
    #[command(subcommand)]
    Connections(Connections),
    /// What to grant at the provider for a connection: policies, templates and scripts for its scopes
    Setup {
        tag: String,
        /// Write the artifacts (and a README.md of the steps) into this directory
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
        /// The credential kind to set up, e.g. web_identity (keyless; `cloudconn providers` lists the kinds);
        /// default: the saved kind, else the provider's default
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
    },
    /// Short-lived credentials for a component (needs the connections:use scope)
    #[command(subcommand)]
    Credentials(CredentialsCommand),
    /// Print a shell completion script (e.g. `cloudconn completions bash > /etc/bash_completion.d/cloudconn`)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// Issue credentials for one scope of an ACTIVE connection: `export NAME='value'` lines
    /// (whatever the layout), or proto3 JSON with -o json, e.g.
    /// `eval "$(cloudconn credentials issue prod_aws --scope storage --consumer billing-api/prd)"`
    Issue {
        tag: String,
        /// One of the connection's scopes: storage, database, messaging, functions
        #[arg(long)]
        scope: String,
        /// Who will use them (audited, shown on the connection), e.g. billing-api/prd
        #[arg(long)]
        consumer: String,
        /// Lifetime to ask for (e.g. 15m, 1h); the server caps it
        #[arg(long, value_parser = parse_duration)]
        ttl: Option<Duration>,
        /// Deprecated (use -o json; export lines are the default): warns, then does as asked
        #[arg(long, value_enum, hide = true)]
        format: Option<CredentialsFormat>,
    },
}

/// The values of the deprecated `credentials issue --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CredentialsFormat {
    Env,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Connections {
    /// Create a connection (PENDING until validated credentials are saved)
    Create {
        tag: String,
        #[arg(long, value_enum)]
        provider: ProviderWord,
        /// What the connection may be used for (repeat): storage, database, messaging, functions
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Save credentials (a new revision); blank secrets keep the stored value
    Complete {
        tag: String,
        /// A non-secret field, NAME=VALUE (repeat); secret fields are refused here
        #[arg(long = "field", value_name = "NAME=VALUE")]
        fields: Vec<String>,
        /// A JSON object of fields (secrets included); `-` reads stdin
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
        /// Also validate the new revision, and wait (up to 60 s) for the outcome
        #[arg(long)]
        validate: bool,
    },
    /// Validate the latest saved credentials at the provider and wait for the outcome
    Validate {
        tag: String,
        /// Return once the validation is queued
        #[arg(long)]
        no_wait: bool,
        /// How long to wait for the outcome (e.g. 60s, 2m)
        #[arg(long, value_parser = parse_duration, default_value = "60s")]
        timeout: Duration,
    },
    /// Show one connection
    Get { tag: String },
    /// List the workspace's connections (every page)
    List {
        #[arg(long, value_enum)]
        provider: Option<ProviderWord>,
        #[arg(long, value_enum)]
        status: Option<StatusWord>,
    },
    /// Print lifecycle events as they happen (Ctrl-C stops)
    Watch { tag: Option<String> },
    /// Change display name, description or scopes (only the flags given)
    Update {
        tag: String,
        /// "" reverts to the tag
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// The new set of scopes (repeat)
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    /// Delete a connection and destroy its stored credentials
    Delete {
        tag: String,
        /// Do not ask for confirmation (required when stdin is not a terminal)
        #[arg(long)]
        yes: bool,
    },
}

/// The seed's provider words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderWord {
    Aws,
    Gcp,
    Azure,
    #[value(name = "mongodb_atlas")]
    MongodbAtlas,
    #[value(name = "neo4j_aura")]
    Neo4jAura,
}

impl From<ProviderWord> for pb::Provider {
    fn from(word: ProviderWord) -> Self {
        match word {
            ProviderWord::Aws => Self::Aws,
            ProviderWord::Gcp => Self::Gcp,
            ProviderWord::Azure => Self::Azure,
            ProviderWord::MongodbAtlas => Self::MongodbAtlas,
            ProviderWord::Neo4jAura => Self::Neo4jAura,
        }
    }
}

/// The seed's status words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusWord {
    Pending,
    Active,
    Failed,
}

impl From<StatusWord> for pb::ConnectionStatus {
    fn from(word: StatusWord) -> Self {
        match word {
            StatusWord::Pending => Self::Pending,
            StatusWord::Active => Self::Active,
            StatusWord::Failed => Self::Failed,
        }
    }
}

/// `60s`, `2m`, `1h`, `500ms`, or plain seconds (`90`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 60s or 2m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!("{text:?}: unknown unit (use ms, s, m or h)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("soon").is_err() && parse_duration("5d").is_err());
    }
}
