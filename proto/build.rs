//! Compiles the cloudconn.v1 contract with the protoc shipped by
//! `protoc-bin-vendored`, so a fresh machine needs no system protoc.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;
    let out = PathBuf::from(env::var("OUT_DIR")?);

    let files = [
        "cloudconn/v1/connection.proto",
        "cloudconn/v1/credentials.proto",
        "cloudconn/v1/connection_service.proto",
        "cloudconn/v1/issued_credentials.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        // The descriptor set keeps json_name, so reflection clients (grpcurl)
        // see `externalId`, `displayName`, … in proto3 JSON.
        .file_descriptor_set_path(out.join("cloudconn_descriptor.bin"))
        .compile_with_config(config, &files.map(PathBuf::from), &[PathBuf::from("."), include])?;
    Ok(())
}
