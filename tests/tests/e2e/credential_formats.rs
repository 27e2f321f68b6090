//! What the server refuses at save time so the worker never gets it
//! (security review L8, L3): fields the worker puts into URLs and headers
//! have patterns that ListProviders publishes, described in words; a GCP
//! key must be a parseable PKCS#8 RSA key of at most 4096 bits.

use cloudconn_proto::v1::{
    self as pb, GcpCredentials, MongoDbAtlasCredentials, Neo4jAuraCredentials, complete_connection_request::Credentials,
};
use cloudconn_tests::harness::{app::TestApp, fixtures};
use tonic_types::StatusExt;

use crate::helpers::*;

const GCP_KEY: &str = include_str!("../../fixtures/gcp-test-key.pem");
/// 4104 bits: just over the limit.
const GCP_OVERSIZED_KEY: &str = include_str!("../../fixtures/gcp-oversized-key.pem");

/// The one violation of a refused save: its field and description.
fn violation(status: &tonic::Status) -> (String, String) {
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let bad = status.get_details_bad_request().expect("BadRequest details");
    assert_eq!(bad.field_violations.len(), 1, "{bad:?}");
    let v = &bad.field_violations[0];
    (v.field.clone(), v.description.clone())
}

fn pattern(catalogue: &pb::ListProvidersResponse, provider: pb::Provider, field: &str) -> String {
    let spec = catalogue.providers.iter().find(|p| p.provider() == provider).unwrap();
    spec.fields.iter().find(|f| f.name == field).unwrap().pattern.clone()
}

#[tokio::test]
async fn fields_that_reach_urls_and_headers_have_published_patterns() {
    let app = TestApp::spawn().await;
    let catalogue = app.client.clone().list_providers(pb::ListProvidersRequest {}).await.unwrap().into_inner();
    assert_eq!(pattern(&catalogue, pb::Provider::MongodbAtlas, "atlas_public_key"), "^[a-z0-9]{8,32}$");
    assert_eq!(pattern(&catalogue, pb::Provider::Neo4jAura, "aura_client_id"), "^[A-Za-z0-9_-]{1,128}$");

    // A quote would add Digest parameters; CR/LF would end the header.
    create(&app, "acme", "atlas", pb::Provider::MongodbAtlas).await;
    let injected = "abcdefgh\", realm=\"canary";
    let atlas = Credentials::MongodbAtlas(MongoDbAtlasCredentials {
        project_id: fixtures::ATLAS_PROJECT.into(),
        atlas_public_key: injected.into(),
        atlas_private_key: "p".into(),
    });
    let err = complete(&app, "acme", "atlas", atlas).await.unwrap_err();
    let (field, description) = violation(&err);
    assert_eq!(field, "mongodb_atlas.atlas_public_key");
    assert_eq!(description, "must be 8–32 lowercase letters or digits");

    create(&app, "acme", "aura", pb::Provider::Neo4jAura).await;
    let aura = Credentials::Neo4jAura(Neo4jAuraCredentials {
        aura_client_id: "aura-client\r\nX-Canary: 1".into(),
        aura_client_secret: "s".into(),
    });
    let (field, description) = violation(&complete(&app, "acme", "aura", aura).await.unwrap_err());
    assert_eq!(field, "neo4j_aura.aura_client_id");
    assert_eq!(description, "must be 1–128 letters, digits, '_' or '-'");
    assert!(!format!("{err:?}").contains("canary"), "the value is not echoed");
    app.finish().await;
}

fn gcp(private_key: &str) -> Credentials {
    let key = serde_json::json!({
        "type": "service_account",
        "project_id": "acme-prod-123",
        "private_key_id": "0123456789abcdef",
        "private_key": private_key,
        "client_email": "probe@acme-prod-123.iam.gserviceaccount.com",
    });
    Credentials::Gcp(GcpCredentials {
        project_id: "acme-prod-123".into(),
        service_account_json: key.to_string(),
        ..Default::default()
    })
}

#[tokio::test]
async fn gcp_private_keys_are_parsed_and_bounded_at_save_time() {
    let app = TestApp::spawn().await;
    create(&app, "acme", "gcp", pb::Provider::Gcp).await;

    let not_a_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
    let (field, description) = violation(&complete(&app, "acme", "gcp", gcp(not_a_key)).await.unwrap_err());
    assert_eq!(field, "gcp.service_account_json");
    assert!(description.contains("RSA private key in PKCS#8 PEM"), "{description}");

    let (field, description) = violation(&complete(&app, "acme", "gcp", gcp(GCP_OVERSIZED_KEY)).await.unwrap_err());
    assert_eq!(field, "gcp.service_account_json");
    assert!(description.contains("at most 4096 bits"), "{description}");

    let saved = complete(&app, "acme", "gcp", gcp(GCP_KEY)).await.unwrap();
    assert_eq!(saved.credentials.unwrap().revision, 1, "only the good key was stored");
    app.finish().await;
}
