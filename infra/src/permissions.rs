//! What each scope needs at each provider: the one table the probes check,
//! the setup kit asks the customer to grant, and `ListProviders` publishes
//! (`ScopeSpec`). Nothing else lists a permission, so what validation
//! proves and what the kit grants cannot drift apart.
//!
//! The entries are what validation proves: read-only calls that show the
//! credentials reach the scope's services, never more. For AWS each
//! permission is checked by one call of its own; for Google Cloud by one
//! `testIamPermissions`; for Azure against the identity's effective
//! permissions on the subscription; Atlas and Aura grant roles, not
//! permissions, so their entries name the role and what it allows.

/// The permissions one scope needs at one provider.
#[derive(Debug, Clone, Copy)]
pub struct ScopePermissions {
    pub scope: &'static str,
    pub permissions: &'static [&'static str],
}

const fn scope(scope: &'static str, permissions: &'static [&'static str]) -> ScopePermissions {
    ScopePermissions { scope, permissions }
}

/// IAM actions of the role cloudconn assumes.
pub const AWS: &[ScopePermissions] = &[
    scope("storage", &["s3:ListAllMyBuckets"]),
    scope("database", &["rds:DescribeDBInstances", "dynamodb:ListTables"]),
    scope("messaging", &["sqs:ListQueues", "sns:ListTopics"]),
    scope("functions", &["lambda:ListFunctions"]),
];

/// IAM permissions of the service account on the project.
pub const GCP: &[ScopePermissions] = &[
    scope("storage", &["storage.buckets.list"]),
    scope("database", &["cloudsql.instances.list"]),
    scope("messaging", &["pubsub.topics.list"]),
    scope("functions", &["cloudfunctions.functions.list"]),
];

/// Actions of the service principal's role on the subscription.
pub const AZURE: &[ScopePermissions] = &[
    scope("storage", &["Microsoft.Storage/storageAccounts/read"]),
    scope("database", &["Microsoft.Sql/servers/read", "Microsoft.DocumentDB/databaseAccounts/read"]),
    scope("messaging", &["Microsoft.ServiceBus/namespaces/read"]),
    scope("functions", &["Microsoft.Web/sites/read"]),
];

/// The API key's project role.
pub const MONGODB_ATLAS: &[ScopePermissions] = &[scope("database", &["GROUP_READ_ONLY (clusters list)"])];

/// What the API credential's user may do in its tenant.
pub const NEO4J_AURA: &[ScopePermissions] = &[scope("database", &["instances: list"])];

/// Permissions every connection needs whatever its scopes (reading what
/// the probe identifies the account by).
pub fn base(provider: &str) -> &'static [&'static str] {
    match provider {
        "gcp" => &["resourcemanager.projects.get"],
        "azure" => &["Microsoft.Resources/subscriptions/read"],
        _ => &[],
    }
}

/// The table of `provider` (the lower-case id: `aws`, `gcp`, …).
pub fn table(provider: &str) -> &'static [ScopePermissions] {
    match provider {
        "aws" => AWS,
        "gcp" => GCP,
        "azure" => AZURE,
        "mongodb_atlas" => MONGODB_ATLAS,
        "neo4j_aura" => NEO4J_AURA,
        _ => &[],
    }
}

/// What `scope` needs at `provider`; empty for a scope it does not have.
pub fn for_scope(provider: &str, scope: &str) -> &'static [&'static str] {
    table(provider).iter().find(|s| s.scope == scope).map_or(&[], |s| s.permissions)
}

/// Everything `scopes` need at `provider`, base included, in table order
/// without repeats.
pub fn for_scopes(provider: &str, scopes: &[String]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = base(provider).to_vec();
    for entry in table(provider) {
        if scopes.iter().any(|s| s == entry.scope) {
            out.extend(entry.permissions.iter().filter(|p| !out.contains(p)).collect::<Vec<_>>());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_needs_something_and_scopes_are_listed_once() {
        for provider in ["aws", "gcp", "azure", "mongodb_atlas", "neo4j_aura"] {
            let table = table(provider);
            assert!(!table.is_empty(), "{provider}");
            for (i, entry) in table.iter().enumerate() {
                assert!(!entry.permissions.is_empty(), "{provider} {}", entry.scope);
                assert!(table[..i].iter().all(|e| e.scope != entry.scope), "{provider} {} twice", entry.scope);
            }
        }
    }

    #[test]
    fn for_scopes_is_base_then_each_scope_in_table_order() {
        let all = for_scopes("gcp", &["messaging".into(), "storage".into()]);
        assert_eq!(all, ["resourcemanager.projects.get", "storage.buckets.list", "pubsub.topics.list"]);
        assert!(for_scope("aws", "nope").is_empty());
    }
}
