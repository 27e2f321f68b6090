//! The `cloudconn.v1` contract compiled from `proto/cloudconn/v1/*.proto`.
//!
//! Server, worker, tests and benchmarks all use these generated types; the
//! descriptor set feeds gRPC reflection.

/// Generated messages, the `ConnectionService` client and server.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("cloudconn.v1");
}

/// Encoded `FileDescriptorSet` of the contract, for `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("cloudconn_descriptor");
