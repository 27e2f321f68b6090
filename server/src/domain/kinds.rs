//! Credential kinds: the ways a connection may sign in to its provider
//! (docs/keyless.md). A kind is a set of the provider's catalogue fields;
//! the keyless ones store no secret and use cloudconn's OpenID Connect
//! tokens instead. The kind is itself a stored (non-secret) field, `kind`,
//! so a revision says how it signs in and the worker reads it with the
//! revision.

use super::provider::Provider;

/// One way of signing in.
#[derive(Debug)]
pub struct KindSpec {
    pub name: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
    /// Stores no secret: cloudconn's tokens stand in for one.
    pub keyless: bool,
    /// The catalogue fields this kind uses, besides `kind`.
    pub fields: &'static [&'static str],
}

const AWS_KINDS: &[KindSpec] = &[
    KindSpec {
        name: "web_identity",
        display_name: "Keyless (OpenID Connect web identity)",
        description: "The role trusts cloudconn's OpenID Connect provider, on the token's aud and sub; \
                      cloudconn calls AssumeRoleWithWebIdentity. Nothing secret is stored.",
        keyless: true,
        fields: &["role_arn"],
    },
    KindSpec {
        name: "assume_role",
        display_name: "Role with external id",
        description: "The role trusts cloudconn's AWS principal, requiring the connection's external id; \
                      cloudconn calls AssumeRole.",
        keyless: false,
        fields: &["role_arn"],
    },
];

const GCP_KINDS: &[KindSpec] = &[
    KindSpec {
        name: "workload_identity",
        display_name: "Keyless (workload identity federation)",
        description: "A workload identity pool provider trusts cloudconn's issuer; cloudconn exchanges its token \
                      at Google's STS and impersonates the service account. No key exists.",
        keyless: true,
        fields: &["project_id", "workload_identity_provider", "service_account_email"],
    },
    KindSpec {
        name: "service_account_key",
        display_name: "Service account key",
        description: "A JSON key file of the service account, stored in Vault.",
        keyless: false,
        fields: &["project_id", "service_account_json"],
    },
];

const AZURE_KINDS: &[KindSpec] = &[
    KindSpec {
        name: "federated",
        display_name: "Keyless (federated credential)",
        description: "The app registration has a federated credential for cloudconn's issuer and the connection's \
                      subject; cloudconn signs in with a client assertion. No secret exists.",
        keyless: true,
        fields: &["tenant_id", "subscription_id", "client_id"],
    },
    KindSpec {
        name: "client_secret",
        display_name: "Client secret",
        description: "A client secret of the app registration, stored in Vault.",
        keyless: false,
        fields: &["tenant_id", "subscription_id", "client_id", "client_secret"],
    },
];

const ATLAS_KINDS: &[KindSpec] = &[KindSpec {
    name: "api_key",
    display_name: "Programmatic API key",
    description: "An Atlas programmatic API key, its private part stored in Vault.",
    keyless: false,
    fields: &["project_id", "atlas_public_key", "atlas_private_key"],
}];

const AURA_KINDS: &[KindSpec] = &[KindSpec {
    name: "client_credentials",
    display_name: "API client credentials",
    description: "An Aura API client, its secret stored in Vault.",
    keyless: false,
    fields: &["aura_client_id", "aura_client_secret"],
}];

impl Provider {
    /// Recommended first: the keyless kind where there is one.
    pub fn kinds(self) -> &'static [KindSpec] {
        match self {
            Self::Aws => AWS_KINDS,
            Self::Gcp => GCP_KINDS,
            Self::Azure => AZURE_KINDS,
            Self::MongodbAtlas => ATLAS_KINDS,
            Self::Neo4jAura => AURA_KINDS,
        }
    }

    pub fn kind(self, name: &str) -> Option<&'static KindSpec> {
        self.kinds().iter().find(|k| k.name == name)
    }

    /// What a blank `kind` means on a first completion: the kind with a
    /// stored secret, as every connection signed in before kinds existed
    /// (and as a revision without a `kind` field still does).
    pub fn default_kind(self) -> &'static KindSpec {
        self.kinds().iter().find(|k| !k.keyless).unwrap_or(&self.kinds()[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_uses_only_catalogue_fields_and_every_field_has_a_kind() {
        for p in Provider::ALL {
            assert!(!p.default_kind().keyless, "{p}");
            for kind in p.kinds() {
                for field in kind.fields {
                    assert!(p.field(field).is_some(), "{p} {}: {field}", kind.name);
                }
            }
            for field in p.fields().iter().filter(|f| f.name != super::super::provider::KIND_FIELD) {
                assert!(p.kinds().iter().any(|k| k.fields.contains(&field.name)), "{p}: {}", field.name);
            }
        }
    }

    #[test]
    fn keyless_kinds_store_no_secret_and_lead_the_list() {
        for p in Provider::ALL {
            for kind in p.kinds().iter().filter(|k| k.keyless) {
                assert!(kind.fields.iter().all(|f| p.field(f).is_some_and(|f| !f.secret)), "{p} {}", kind.name);
            }
            let first_keyless = p.kinds().iter().position(|k| k.keyless);
            assert!(first_keyless.is_none_or(|i| i == 0), "{p}");
        }
    }
}
