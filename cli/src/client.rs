//! The gRPC client: one channel to the configured address (TLS for
//! `https://`, which a bare non-loopback `host:port` became in `config`),
//! the bearer token on every call, and the workspace that every request is
//! scoped to.

use cloudconn_proto::v1::connection_service_client::ConnectionServiceClient;
use tonic::{
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, ClientTlsConfig, Endpoint},
};

use crate::{config::Config, exit::Failure};

pub type Grpc = ConnectionServiceClient<InterceptedService<Channel, Bearer>>;

/// A connected client plus the workspace its requests name.
pub struct Client {
    pub grpc: Grpc,
    pub workspace: String,
}

/// Adds `authorization: Bearer <token>` to each request.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

impl Client {
    /// Connects at once, so an unreachable server is one clear error
    /// before any command logic runs.
    pub async fn connect(config: &Config) -> Result<Self, Failure> {
        let bearer = match &config.token {
            Some(token) => Some(
                format!("Bearer {token}")
                    .parse()
                    // Never print the token itself.
                    .map_err(|_| Failure::usage("the token holds characters a header cannot carry"))?,
            ),
            None => None,
        };
        if let (Some(_), Some(host)) = (&config.token, crate::config::plaintext_off_machine(&config.address)) {
            // Asked for in so many words (http://), so allowed, but said.
            eprintln!(
                "warning: the token goes to {host} without TLS (http://): anyone on the way can read it and use it; \
                 use https://"
            );
        }
        let mut endpoint = Endpoint::from_shared(config.address.clone())
            .map_err(|_| Failure::usage(format!("{:?} is not a server address (http://host:port)", config.address)))?;
        if config.address.starts_with("https://") {
            endpoint = endpoint
                .tls_config(ClientTlsConfig::new().with_enabled_roots())
                .map_err(|e| Failure::Other(format!("TLS setup: {e}")))?;
        }
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| Failure::Unreachable { addr: config.address.clone(), cause: error_chain(&e) })?;
        Ok(Self {
            grpc: ConnectionServiceClient::with_interceptor(channel, Bearer(bearer)),
            workspace: config.workspace.clone(),
        })
    }
}

/// "transport error: tcp connect error: Connection refused (os error 111)".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        // hyper and tonic repeat their cause in their own message.
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
