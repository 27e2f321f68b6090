//! One Entra ID tenant with Resource Manager and Graph, emulated, and the
//! worker endpoints that reach it: what a test of the real Azure probe
//! against apps of its own needs.

use std::{collections::HashMap, sync::Arc};

use cloudconn_proto::v1::{AzureCredentials, complete_connection_request::Credentials};
use cloudconn_sandbox::{Emulator, azure};

/// An app registration, as the emulator holds it.
pub use cloudconn_sandbox::azure::App;
use cloudconn_worker::config::Endpoints;

use super::fixtures;

/// The tenant: `apps` by client id, the fixtures' tenant, and its one
/// enabled subscription.
pub struct Tenant {
    pub state: Arc<azure::Azure>,
    pub emulator: Emulator,
    /// Entra ID, Resource Manager and Graph all at the emulator.
    pub endpoints: Endpoints,
}

impl Tenant {
    pub async fn start(apps: Vec<(&str, azure::App)>) -> Self {
        let state = Arc::new(azure::Azure::new(
            apps.into_iter().map(|(id, app)| (id.to_owned(), app)).collect(),
            vec![fixtures::TENANT.to_owned()],
            HashMap::from([(fixtures::SUBSCRIPTION.to_owned(), ("Acme Production".to_owned(), "Enabled".to_owned()))]),
        ));
        let emulator = cloudconn_sandbox::serve(azure::router(state.clone())).await;
        let endpoints = Endpoints {
            azure_authority: emulator.url(),
            azure_arm_base: emulator.url(),
            azure_graph_base: emulator.url(),
            ..Endpoints::default()
        };
        Self { state, emulator, endpoints }
    }
}

/// An app of the fixtures' tenant with `secret`, reading the subscription.
pub fn reader(secret: &str) -> azure::App {
    azure::App {
        tenant: fixtures::TENANT.into(),
        secret: secret.into(),
        subscriptions: vec![fixtures::SUBSCRIPTION.into()],
        permissions: vec![(vec!["*/read".into()], vec![])],
        ..Default::default()
    }
}

/// The credentials a customer saves for app `client_id` with `secret`.
pub fn credentials(client_id: &str, secret: &str) -> Credentials {
    Credentials::Azure(AzureCredentials {
        tenant_id: fixtures::TENANT.into(),
        subscription_id: fixtures::SUBSCRIPTION.into(),
        client_id: client_id.into(),
        client_secret: secret.into(),
        ..Default::default()
    })
}
