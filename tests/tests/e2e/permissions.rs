//! One permission table (`infra/src/permissions.rs`) for the probes, the
//! setup kit and the catalogue: ListProviders publishes exactly it, and
//! docs/providers.md's "what each probe checks" table says exactly it.

use cloudconn_infra::permissions;
use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::app::TestApp;

const PROVIDERS: [(&str, &str); 5] = [
    ("AWS", "aws"),
    ("GCP", "gcp"),
    ("Azure", "azure"),
    ("MongoDB Atlas", "mongodb_atlas"),
    ("Neo4j Aura", "neo4j_aura"),
];
const SCOPES: [&str; 4] = ["storage", "database", "messaging", "functions"];

#[test]
fn the_providers_doc_lists_exactly_the_tables_permissions() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/providers.md"))
        .expect("docs/providers.md");
    let start = doc.find("## What each probe checks").expect("the probes section");
    let section = &doc[start..start + 1 + doc[start + 1..].find("\n## ").expect("followed by another section")];
    let mut rows = 0;
    for line in section.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| provider")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some((_, provider)) = PROVIDERS.iter().find(|(name, _)| cells[1].starts_with(name)) else { continue };
        rows += 1;
        for (i, scope) in SCOPES.iter().enumerate() {
            let documented: Vec<&str> = cells[3 + i].split('`').skip(1).step_by(2).collect();
            assert_eq!(documented, permissions::for_scope(provider, scope), "docs/providers.md: {provider} {scope}");
        }
    }
    assert_eq!(rows, 5, "a row per provider");
}

#[tokio::test]
async fn list_providers_publishes_the_table_for_every_allowed_scope() {
    let app = TestApp::builder().dev().spawn().await;
    let catalogue = app.client.clone().list_providers(pb::ListProvidersRequest::default()).await.unwrap().into_inner();
    for spec in catalogue.providers {
        // PROVIDER_MONGODB_ATLAS → mongodb_atlas: the seed's word.
        let provider = spec.provider().as_str_name()["PROVIDER_".len()..].to_lowercase();
        let named: Vec<&str> = spec.scope_specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(named, spec.scopes, "{provider}: a spec per allowed scope, in order");
        let table: Vec<&str> = permissions::table(&provider).iter().map(|s| s.scope).collect();
        assert_eq!(named, table, "{provider}: the allowed scopes are the table's");
        for scope in &spec.scope_specs {
            assert_eq!(scope.permissions, permissions::for_scope(&provider, &scope.name), "{provider} {}", scope.name);
        }
    }
    app.finish().await;
}
