//! Well-formed credentials for each provider. Secret fields embed a caller-
//! chosen marker (a canary), so tests can search for it everywhere it must
//! not be.

use cloudconn_proto::v1::{
    self as pb, AwsCredentials, AzureCredentials, GcpCredentials, MongoDbAtlasCredentials, Neo4jAuraCredentials,
    complete_connection_request::Credentials,
};

pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/cloudconn-access";
pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
pub const SUBSCRIPTION: &str = "66666666-7777-8888-9999-000000000000";
pub const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
pub const ATLAS_PROJECT: &str = "5f1b2c3d4e5f6a7b8c9d0e1f";

/// A service account key file carrying `marker` in its `private_key_id`.
/// The private key is the real test key (`tests/fixtures/gcp-test-key.pem`):
/// the server refuses one it cannot parse.
pub fn service_account_json(marker: &str) -> String {
    serde_json::json!({
        "type": "service_account",
        "project_id": "acme-prod-123",
        "private_key_id": format!("0123456789abcdef-{marker}"),
        "private_key": include_str!("../../fixtures/gcp-test-key.pem"),
        "client_email": "cloudconn@acme-prod-123.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "token_uri": "https://oauth2.googleapis.com/token"
    })
    .to_string()
}

/// Complete credentials for `provider`, every secret field carrying `marker`.
pub fn credentials(provider: pb::Provider, marker: &str) -> Credentials {
    match provider {
        pb::Provider::Aws => Credentials::Aws(AwsCredentials { role_arn: ROLE_ARN.into(), ..Default::default() }),
        pb::Provider::Gcp => Credentials::Gcp(GcpCredentials {
            project_id: "acme-prod-123".into(),
            service_account_json: service_account_json(marker),
            ..Default::default()
        }),
        pb::Provider::Azure => Credentials::Azure(AzureCredentials {
            tenant_id: TENANT.into(),
            subscription_id: SUBSCRIPTION.into(),
            client_id: CLIENT.into(),
            client_secret: format!("azsecret-{marker}"),
            ..Default::default()
        }),
        pb::Provider::MongodbAtlas => Credentials::MongodbAtlas(MongoDbAtlasCredentials {
            project_id: ATLAS_PROJECT.into(),
            atlas_public_key: "abcdefgh".into(),
            atlas_private_key: format!("atlas-{marker}"),
        }),
        pb::Provider::Neo4jAura => Credentials::Neo4jAura(Neo4jAuraCredentials {
            aura_client_id: "aura-client-1".into(),
            aura_client_secret: format!("aura-{marker}"),
        }),
        pb::Provider::Unspecified => panic!("no credentials for PROVIDER_UNSPECIFIED"),
    }
}

/// The scopes every provider allows.
pub fn scopes(provider: pb::Provider) -> Vec<String> {
    match provider {
        pb::Provider::MongodbAtlas | pb::Provider::Neo4jAura => vec!["database".into()],
        _ => vec!["storage".into(), "database".into()],
    }
}

pub const ALL_PROVIDERS: [pb::Provider; 5] =
    [pb::Provider::Aws, pb::Provider::Gcp, pb::Provider::Azure, pb::Provider::MongodbAtlas, pb::Provider::Neo4jAura];

/// Credentials of `provider` with every field blank: a completion that
/// keeps every stored value.
pub fn blank(provider: pb::Provider) -> Credentials {
    match provider {
        pb::Provider::Aws => Credentials::Aws(AwsCredentials::default()),
        pb::Provider::Gcp => Credentials::Gcp(GcpCredentials::default()),
        pb::Provider::Azure => Credentials::Azure(AzureCredentials::default()),
        pb::Provider::MongodbAtlas => Credentials::MongodbAtlas(MongoDbAtlasCredentials::default()),
        pb::Provider::Neo4jAura => Credentials::Neo4jAura(Neo4jAuraCredentials::default()),
        pb::Provider::Unspecified => panic!("no credentials for PROVIDER_UNSPECIFIED"),
    }
}

/// Azure credentials whose client secret is `secret` (the scripted probe
/// reads its markers from it).
pub fn azure(secret: &str) -> Credentials {
    Credentials::Azure(AzureCredentials {
        tenant_id: TENANT.into(),
        subscription_id: SUBSCRIPTION.into(),
        client_id: CLIENT.into(),
        client_secret: secret.into(),
        ..Default::default()
    })
}
