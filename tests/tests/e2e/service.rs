//! What every gRPC client sees first: health, reflection, the catalogue.

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::app::TestApp;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

#[tokio::test]
async fn health_reflection_and_provider_catalogue() {
    let app = TestApp::spawn().await;

    let mut health = HealthClient::new(app.channel.clone());
    let status = health
        .check(HealthCheckRequest { service: "cloudconn.v1.ConnectionService".into() })
        .await
        .unwrap()
        .into_inner()
        .status();
    assert_eq!(status, ServingStatus::Serving);

    let catalogue = app.client.clone().list_providers(pb::ListProvidersRequest {}).await.unwrap().into_inner();
    let names: Vec<_> = catalogue.providers.iter().map(|p| p.provider()).collect();
    assert_eq!(
        names,
        [
            pb::Provider::Aws,
            pb::Provider::Gcp,
            pb::Provider::Azure,
            pb::Provider::MongodbAtlas,
            pb::Provider::Neo4jAura
        ]
    );
    let gcp = &catalogue.providers[1];
    let key = gcp.fields.iter().find(|f| f.name == "service_account_json").unwrap();
    assert!(key.secret && key.required);
    let project = gcp.fields.iter().find(|f| f.name == "project_id").unwrap();
    assert!(!project.secret && project.pattern.starts_with('^'));
    assert_eq!(catalogue.providers[3].scopes, ["database"]);
    assert_eq!(catalogue.providers[0].scopes, ["storage", "database", "messaging", "functions"]);

    // Reflection lists the API, so grpcurl works without the .proto files.
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut reflection = ServerReflectionClient::new(app.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = reflection.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
    let response = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else { panic!("{response:?}") };
    let services: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(services.contains(&"cloudconn.v1.ConnectionService".to_owned()), "{services:?}");
    assert!(services.contains(&"grpc.health.v1.Health".to_owned()), "{services:?}");
    app.finish().await;
}
