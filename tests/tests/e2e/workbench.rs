//! The Workbench is served by the server itself, at `/` on the gRPC port,
//! from the files embedded at build time (`workbench/dist`), with headers
//! that keep the page to its own origin; the API next to it is unchanged.

use std::path::{Path, PathBuf};

use cloudconn_proto::v1 as pb;
use cloudconn_tests::harness::app::TestApp;

fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../workbench/dist")
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    reqwest::get(format!("http://{}{path}", app.addr)).await.expect("answered")
}

#[tokio::test]
async fn the_server_serves_the_built_workbench_next_to_the_api() {
    let app = TestApp::builder().spawn().await;
    let index = get(&app, "/").await;
    assert_eq!(index.status(), 200);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    assert!(header(&index, "content-type").starts_with("text/html"));
    assert_eq!(header(&index, "cache-control"), "no-cache");
    let csp = header(&index, "content-security-policy");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header(&index, "referrer-policy"), "no-referrer");
    let served = index.bytes().await.unwrap();
    assert_eq!(served, std::fs::read(dist().join("index.html")).unwrap(), "the built index.html, as it is");

    // Every built asset, byte for byte, cached for good (hashed names).
    let mut assets = 0;
    for entry in std::fs::read_dir(dist().join("assets")).unwrap().flatten() {
        let name = entry.file_name().into_string().unwrap();
        let response = get(&app, &format!("/assets/{name}")).await;
        assert_eq!(response.status(), 200, "{name}");
        assert!(header(&response, "cache-control").contains("immutable"), "{name}");
        assert_eq!(response.bytes().await.unwrap(), std::fs::read(entry.path()).unwrap(), "{name}");
        assets += 1;
    }
    assert!(assets > 0, "the build has assets");
    assert_eq!(get(&app, "/assets/missing.js").await.status(), 404);
    let outside = get(&app, "/assets/%2e%2e/%2e%2e/Cargo.toml").await;
    assert!(!outside.status().is_success(), "nothing outside the build is served");

    // The API on the same port is untouched.
    let providers = app.client.clone().list_providers(pb::ListProvidersRequest::default()).await.unwrap();
    assert_eq!(providers.into_inner().providers.len(), 5);
    app.finish().await;
}

#[tokio::test]
async fn cloudconn_workbench_false_serves_no_page() {
    let app = TestApp::builder().without_workbench().spawn().await;
    assert!(!get(&app, "/").await.status().is_success());
    let providers = app.client.clone().list_providers(pb::ListProvidersRequest::default()).await.unwrap();
    assert_eq!(providers.into_inner().providers.len(), 5);
    app.finish().await;
}
