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
//!
//! The second table ([`grants`], [`grant_for`]) is the run step's
//! (docs/run.md): what the short-lived credentials minted for one scope may do — the
//! AWS session policy's actions, the Google OAuth scope, the Azure
//! resource, the Atlas database user's roles. The minters read it; nothing
//! else lists those values.

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

/// What one scope's short-lived credentials may do (the run step,
/// docs/run.md): the least privilege the minters ask the provider for. The
/// validation table above says what the long-lived credentials must hold;
/// this one narrows each issue to the scope asked for, and nothing else
/// lists these values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// AWS: the actions of the inline session policy passed to
    /// `AssumeRole` (Resource `*`). The session may do what both the role's
    /// policies and these allow.
    AwsActions(&'static [&'static str]),
    /// Google Cloud: the OAuth 2.0 scope asked for in the JWT-bearer grant.
    GcpOAuthScope(&'static str),
    /// Azure: the resource the token is for (its `aud`); asked for as
    /// `<resource>/.default` in the client-credentials grant.
    AzureResource(&'static str),
    /// MongoDB Atlas: the roles (`role@database`) of the temporary
    /// database user.
    AtlasRoles(&'static [&'static str]),
    /// Neo4j Aura: the API credential's own token; Aura has no narrower
    /// grant to ask for.
    AuraApiToken,
}

impl Grant {
    /// AWS only: the inline session policy, as the JSON document
    /// `AssumeRole`'s `Policy` takes.
    pub fn session_policy(self) -> Option<String> {
        let Self::AwsActions(actions) = self else { return None };
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": "*" }],
        });
        Some(policy.to_string())
    }

    /// Azure only: the client-credentials `scope` parameter.
    pub fn azure_default_scope(self) -> Option<String> {
        let Self::AzureResource(resource) = self else { return None };
        Some(format!("{resource}/.default"))
    }
}

/// What one scope's short-lived credentials are granted at one provider.
#[derive(Debug, Clone, Copy)]
pub struct ScopeGrant {
    pub scope: &'static str,
    pub grant: Grant,
}

const fn grant(scope: &'static str, grant: Grant) -> ScopeGrant {
    ScopeGrant { scope, grant }
}

/// Run-time grants, AWS: the scope's services, whole.
pub const AWS_GRANTS: &[ScopeGrant] = &[
    grant("storage", Grant::AwsActions(&["s3:*"])),
    grant("database", Grant::AwsActions(&["rds:*", "rds-db:connect", "dynamodb:*"])),
    grant("messaging", Grant::AwsActions(&["sqs:*", "sns:*"])),
    grant("functions", Grant::AwsActions(&["lambda:*"])),
];

/// Run-time grants, Google Cloud.
pub const GCP_GRANTS: &[ScopeGrant] = &[
    grant("storage", Grant::GcpOAuthScope("https://www.googleapis.com/auth/devstorage.full_control")),
    grant("database", Grant::GcpOAuthScope("https://www.googleapis.com/auth/sqlservice.admin")),
    grant("messaging", Grant::GcpOAuthScope("https://www.googleapis.com/auth/pubsub")),
    grant("functions", Grant::GcpOAuthScope("https://www.googleapis.com/auth/cloud-platform")),
];

/// Run-time grants, Azure.
pub const AZURE_GRANTS: &[ScopeGrant] = &[
    grant("storage", Grant::AzureResource("https://storage.azure.com")),
    grant("database", Grant::AzureResource("https://database.windows.net")),
    grant("messaging", Grant::AzureResource("https://servicebus.azure.net")),
    grant("functions", Grant::AzureResource("https://management.azure.com")),
];

/// Run-time grants, MongoDB Atlas.
pub const MONGODB_ATLAS_GRANTS: &[ScopeGrant] =
    &[grant("database", Grant::AtlasRoles(&["readWriteAnyDatabase@admin"]))];

/// Run-time grants, Neo4j Aura.
pub const NEO4J_AURA_GRANTS: &[ScopeGrant] = &[grant("database", Grant::AuraApiToken)];

/// The run-time grant table of `provider`.
pub fn grants(provider: &str) -> &'static [ScopeGrant] {
    match provider {
        "aws" => AWS_GRANTS,
        "gcp" => GCP_GRANTS,
        "azure" => AZURE_GRANTS,
        "mongodb_atlas" => MONGODB_ATLAS_GRANTS,
        "neo4j_aura" => NEO4J_AURA_GRANTS,
        _ => &[],
    }
}

/// What short-lived credentials for `scope` at `provider` are granted;
/// `None` for a scope the provider does not have.
pub fn grant_for(provider: &str, scope: &str) -> Option<Grant> {
    grants(provider).iter().find(|g| g.scope == scope).map(|g| g.grant)
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

    /// The run step grants each scope validation checks, and only those.
    #[test]
    fn every_validated_scope_has_one_run_time_grant_of_its_provider_kind() {
        for provider in ["aws", "gcp", "azure", "mongodb_atlas", "neo4j_aura"] {
            let validated: Vec<&str> = table(provider).iter().map(|s| s.scope).collect();
            let granted: Vec<&str> = grants(provider).iter().map(|g| g.scope).collect();
            assert_eq!(validated, granted, "{provider}");
            for entry in grants(provider) {
                let kind_matches = match (provider, entry.grant) {
                    ("aws", Grant::AwsActions(actions)) => !actions.is_empty(),
                    ("gcp", Grant::GcpOAuthScope(url)) => url.starts_with("https://www.googleapis.com/auth/"),
                    ("azure", Grant::AzureResource(resource)) => {
                        resource.starts_with("https://") && !resource.ends_with('/')
                    }
                    ("mongodb_atlas", Grant::AtlasRoles(roles)) => roles.iter().all(|r| r.contains('@')),
                    ("neo4j_aura", Grant::AuraApiToken) => true,
                    _ => false,
                };
                assert!(kind_matches, "{provider} {}: {:?}", entry.scope, entry.grant);
            }
        }
        assert_eq!(grant_for("aws", "nope"), None);
        assert_eq!(grant_for("nope", "storage"), None);
    }

    #[test]
    fn the_session_policy_allows_exactly_the_scopes_services_on_every_resource() {
        let policy = grant_for("aws", "database").unwrap().session_policy().unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&policy).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": ["rds:*", "rds-db:connect", "dynamodb:*"],
                    "Resource": "*",
                }],
            })
        );
        // AWS caps a packed session policy; ours stay far below 2,048 characters.
        assert!(AWS_GRANTS.iter().all(|g| g.grant.session_policy().unwrap().len() < 512));
        assert_eq!(grant_for("gcp", "storage").unwrap().session_policy(), None);
        assert_eq!(
            grant_for("azure", "messaging").unwrap().azure_default_scope().as_deref(),
            Some("https://servicebus.azure.net/.default")
        );
    }
}
