//! The gRPC methods this server serves, by path.
//!
//! Metrics labels and span names take the method from the request path,
//! which the caller chooses before anyone checks a token. Recording a path
//! as it came would let anyone mint a new time series (or span name) per
//! request; so paths are looked up here, and everything else is `unknown`.

use std::{collections::HashSet, sync::LazyLock};

/// What an unserved path is recorded as.
pub const UNKNOWN: &str = "unknown";

/// The prefix of ConnectionService's paths.
pub const CONNECTION_SERVICE: &str = "/cloudconn.v1.ConnectionService/";

/// Every path served: ConnectionService's methods (read from its descriptor,
/// so a new RPC is known the day it is added), health and reflection.
static SERVED: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut paths: HashSet<String> = [
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let pool = prost_reflect::DescriptorPool::decode(cloudconn_proto::FILE_DESCRIPTOR_SET)
        .expect("the compiled-in descriptor set decodes");
    for service in pool.services() {
        for method in service.methods() {
            paths.insert(format!("/{}/{}", service.full_name(), method.name()));
        }
    }
    paths
});

/// The path if this server serves it, otherwise [`UNKNOWN`].
pub fn served(path: &str) -> &str {
    if SERVED.contains(path) { path } else { UNKNOWN }
}

/// A ConnectionService method's name (`GetConnection`), [`UNKNOWN`] for a
/// path under the service that names no method, `None` for other services.
pub fn connection_method(path: &str) -> Option<&str> {
    let method = path.strip_prefix(CONNECTION_SERVICE)?;
    Some(if SERVED.contains(path) { method } else { UNKNOWN })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_served_paths_are_kept() {
        assert_eq!(connection_method("/cloudconn.v1.ConnectionService/GetConnection"), Some("GetConnection"));
        assert_eq!(connection_method("/cloudconn.v1.ConnectionService/xK3j9"), Some(UNKNOWN));
        assert_eq!(connection_method("/grpc.health.v1.Health/Check"), None);
        assert_eq!(served("/grpc.health.v1.Health/Check"), "/grpc.health.v1.Health/Check");
        assert_eq!(served("/evil/aaaa"), UNKNOWN);
    }
}
