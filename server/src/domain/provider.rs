//! The provider catalogue: credential fields, their formats, allowed scopes.
//!
//! This table is the single source of truth: request validation, the
//! `ListProviders` RPC and the credentials view all read it, so forms and SDKs
//! never hard-code a field.

use std::{fmt, sync::LazyLock};

use regex::Regex;

/// A cloud provider cloudconn can link to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Aws,
    Gcp,
    Azure,
    MongodbAtlas,
    Neo4jAura,
}

/// One credential field of a provider.
#[derive(Debug)]
pub struct FieldSpec {
    /// Name in the credentials message, the Vault secret and the view.
    pub name: &'static str,
    /// Stored in Vault only; never returned, logged or published.
    pub secret: bool,
    /// Must be present on the first completion.
    pub required: bool,
    /// Format the value must match, if any (also published by ListProviders).
    /// Every field the worker puts into a URL or a header has one.
    pub pattern: Option<&'static str>,
    /// The pattern in words, for error descriptions ("must be …"); set
    /// exactly when `pattern` is.
    pub format: Option<&'static str>,
    pub description: &'static str,
}

/// The field that chooses a provider's credential kind ([`super::kinds`]).
pub const KIND_FIELD: &str = "kind";

/// The scopes a connection may request.
pub const ALL_SCOPES: [&str; 4] = ["storage", "database", "messaging", "functions"];

/// Largest accepted credential field, in bytes (a GCP key file is ~2.4 KiB).
pub const CREDENTIAL_FIELD_MAX: usize = 16 * 1024;

const GUID: &str = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
const GUID_FORMAT: &str = "a GUID (8-4-4-4-12 hexadecimal digits)";

const AWS_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "role_arn",
        secret: false,
        required: true,
        pattern: Some(r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/([A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64}$"),
        format: Some("an IAM role ARN: arn:aws:iam::<12-digit account id>:role/<name>"),
        description: "ARN of the IAM role cloudconn assumes; its trust policy must require sts:ExternalId = the connection's external_id (assume_role) or trust cloudconn's OpenID Connect provider on aud and sub (web_identity)",
    },
    FieldSpec {
        name: KIND_FIELD,
        secret: false,
        required: false,
        pattern: Some("^(assume_role|web_identity)$"),
        format: Some("assume_role or web_identity"),
        description: "How cloudconn signs in: assume_role (with the external id; the default) or web_identity (keyless)",
    },
];

const GCP_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "project_id",
        secret: false,
        required: true,
        pattern: Some("^[a-z][a-z0-9-]{4,28}[a-z0-9]$"),
        format: Some("6–30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen"),
        description: "Google Cloud project id to link",
    },
    FieldSpec {
        name: "service_account_json",
        secret: true,
        required: true,
        pattern: None,
        format: None,
        description: "Service account key file (JSON with type=service_account, client_email, private_key, project_id)",
    },
    FieldSpec {
        name: KIND_FIELD,
        secret: false,
        required: false,
        pattern: Some("^(service_account_key|workload_identity)$"),
        format: Some("service_account_key or workload_identity"),
        description: "How cloudconn signs in: service_account_key (the default) or workload_identity (keyless)",
    },
    FieldSpec {
        name: "workload_identity_provider",
        secret: false,
        required: true,
        pattern: Some(
            "^projects/[0-9]{1,20}/locations/global/workloadIdentityPools/[a-z0-9-]{4,32}/providers/[a-z0-9-]{4,32}$",
        ),
        format: Some(
            "a provider's resource name: projects/<project number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>",
        ),
        description: "Workload identity pool provider that trusts cloudconn's issuer (workload_identity)",
    },
    FieldSpec {
        name: "service_account_email",
        secret: false,
        required: true,
        pattern: Some("^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.-]{1,100}\\.gserviceaccount\\.com$"),
        format: Some("a service account's email, <name>@<project>.iam.gserviceaccount.com"),
        description: "Service account the federated identity impersonates (workload_identity)",
    },
];

const AZURE_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "tenant_id",
        secret: false,
        required: true,
        pattern: Some(GUID),
        format: Some(GUID_FORMAT),
        description: "Entra ID tenant id (GUID)",
    },
    FieldSpec {
        name: "subscription_id",
        secret: false,
        required: true,
        pattern: Some(GUID),
        format: Some(GUID_FORMAT),
        description: "Subscription id (GUID)",
    },
    FieldSpec {
        name: "client_id",
        secret: false,
        required: true,
        pattern: Some(GUID),
        format: Some(GUID_FORMAT),
        description: "Application (client) id of the service principal (GUID)",
    },
    FieldSpec {
        name: "client_secret",
        secret: true,
        required: true,
        pattern: None,
        format: None,
        description: "Client secret of the service principal (client_secret)",
    },
    FieldSpec {
        name: KIND_FIELD,
        secret: false,
        required: false,
        pattern: Some("^(client_secret|federated)$"),
        format: Some("client_secret or federated"),
        description: "How cloudconn signs in: client_secret (the default) or federated (keyless)",
    },
];

const ATLAS_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "project_id",
        secret: false,
        required: true,
        pattern: Some("^[0-9a-fA-F]{24}$"),
        format: Some("24 hexadecimal characters"),
        description: "Atlas project (group) id: 24 hexadecimal characters",
    },
    FieldSpec {
        name: "atlas_public_key",
        secret: false,
        required: true,
        // Atlas issues 8 lowercase characters; a little room in case that
        // grows. It is the HTTP Digest user name: no quotes, no CR/LF.
        pattern: Some("^[a-z0-9]{8,32}$"),
        format: Some("8–32 lowercase letters or digits"),
        description: "Public part of the Atlas programmatic API key (8 lowercase letters, e.g. abcdefgh)",
    },
    FieldSpec {
        name: "atlas_private_key",
        secret: true,
        required: true,
        pattern: None,
        format: None,
        description: "Private part of the Atlas programmatic API key",
    },
];

const AURA_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "aura_client_id",
        secret: false,
        required: true,
        // Aura issues 32 letters and digits; sent in HTTP Basic auth.
        pattern: Some("^[A-Za-z0-9_-]{1,128}$"),
        format: Some("1–128 letters, digits, '_' or '-'"),
        description: "Aura API client id (letters and digits)",
    },
    FieldSpec {
        name: "aura_client_secret",
        secret: true,
        required: true,
        pattern: None,
        format: None,
        description: "Aura API client secret",
    },
];

impl Provider {
    pub const ALL: [Provider; 5] = [Self::Aws, Self::Gcp, Self::Azure, Self::MongodbAtlas, Self::Neo4jAura];

    /// Database and wire spelling: `aws`, `gcp`, `azure`, `mongodb_atlas`, `neo4j_aura`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::Gcp => "gcp",
            Self::Azure => "azure",
            Self::MongodbAtlas => "mongodb_atlas",
            Self::Neo4jAura => "neo4j_aura",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Self::Aws => "Amazon Web Services",
            Self::Gcp => "Google Cloud",
            Self::Azure => "Microsoft Azure",
            Self::MongodbAtlas => "MongoDB Atlas",
            Self::Neo4jAura => "Neo4j Aura",
        }
    }

    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            Self::Aws => AWS_FIELDS,
            Self::Gcp => GCP_FIELDS,
            Self::Azure => AZURE_FIELDS,
            Self::MongodbAtlas => ATLAS_FIELDS,
            Self::Neo4jAura => AURA_FIELDS,
        }
    }

    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }

    pub fn allowed_scopes(self) -> &'static [&'static str] {
        match self {
            Self::Aws | Self::Gcp | Self::Azure => &ALL_SCOPES,
            Self::MongodbAtlas | Self::Neo4jAura => &["database"],
        }
    }

    /// Only AWS connections get an external id (confused-deputy protection).
    pub fn uses_external_id(self) -> bool {
        matches!(self, Self::Aws)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compiled patterns of every field, built once.
static PATTERNS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    Provider::ALL
        .iter()
        .flat_map(|p| p.fields())
        .filter_map(|f| f.pattern)
        .map(|p| (p, Regex::new(p).expect("catalogue patterns are valid")))
        .collect()
});

/// Whether `value` matches a catalogue pattern.
pub fn matches_pattern(pattern: &str, value: &str) -> bool {
    PATTERNS.iter().find(|(p, _)| *p == pattern).is_some_and(|(_, re)| re.is_match(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arn_pattern() {
        let p = Provider::Aws.field("role_arn").and_then(|f| f.pattern).unwrap();
        for ok in [
            "arn:aws:iam::123456789012:role/cloudconn",
            "arn:aws-cn:iam::123456789012:role/path/to/Role+Name=x,y.z@w-1",
            "arn:aws-us-gov:iam::123456789012:role/r",
        ] {
            assert!(matches_pattern(p, ok), "{ok}");
        }
        for bad in [
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws-eu:iam::123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:s3:::bucket",
        ] {
            assert!(!matches_pattern(p, bad), "{bad}");
        }
    }

    #[test]
    fn every_pattern_is_described_in_words() {
        for field in Provider::ALL.iter().flat_map(|p| p.fields()) {
            assert_eq!(field.pattern.is_some(), field.format.is_some(), "{}", field.name);
        }
    }

    #[test]
    fn fields_the_worker_puts_in_urls_or_headers_have_patterns() {
        let pattern = |p: Provider, name: &str| p.field(name).and_then(|f| f.pattern).unwrap();
        let atlas = pattern(Provider::MongodbAtlas, "atlas_public_key");
        assert!(matches_pattern(atlas, "abcdefgh") && matches_pattern(atlas, "goodkey1"));
        for bad in ["k", "ABCDEFGH", "abcd\"efgh", "abcdefgh\r\nX-Injected: 1", &"a".repeat(33)] {
            assert!(!matches_pattern(atlas, bad), "{bad:?}");
        }
        let aura = pattern(Provider::Neo4jAura, "aura_client_id");
        assert!(matches_pattern(aura, "aura-client_1") && matches_pattern(aura, &"A".repeat(128)));
        for bad in ["", "a b", "a:b", "a\r\nb", &"A".repeat(129)] {
            assert!(!matches_pattern(aura, bad), "{bad:?}");
        }
        for (provider, name) in [
            (Provider::Gcp, "project_id"),
            (Provider::Azure, "tenant_id"),
            (Provider::Azure, "subscription_id"),
            (Provider::Azure, "client_id"),
            (Provider::MongodbAtlas, "project_id"),
            (Provider::Aws, "role_arn"),
        ] {
            assert!(provider.field(name).and_then(|f| f.pattern).is_some(), "{provider} {name}");
        }
    }

    #[test]
    fn every_provider_round_trips_and_has_a_required_field() {
        for p in Provider::ALL {
            assert_eq!(Provider::from_db(p.as_str()), Some(p));
            assert!(p.fields().iter().any(|f| f.required));
            assert!(!p.allowed_scopes().is_empty());
        }
    }
}

/// Checks a requested scope set: at least one, no duplicates, each allowed
/// by the provider. Violations name the offending element (`scopes[2]`).
pub fn check_scopes(provider: Provider, field: &str, scopes: &[String], violations: &mut super::Violations) {
    if scopes.is_empty() {
        violations.push(
            field,
            format!("at least one scope is required; {provider} allows: {}", provider.allowed_scopes().join(", ")),
        );
        return;
    }
    // More elements than there are scopes at all cannot be right: one
    // violation for the list, not one per element (a 1 MiB request holds
    // half a million empty strings).
    if scopes.len() > ALL_SCOPES.len() {
        violations.push(
            field,
            format!("at most {} scopes; {provider} allows: {}", ALL_SCOPES.len(), provider.allowed_scopes().join(", ")),
        );
        return;
    }
    for (i, scope) in scopes.iter().enumerate() {
        if !provider.allowed_scopes().contains(&scope.as_str()) {
            violations.push(
                format!("{field}[{i}]"),
                format!("not a scope {provider} allows; allowed: {}", provider.allowed_scopes().join(", ")),
            );
        } else if scopes[..i].contains(scope) {
            violations.push(format!("{field}[{i}]"), "duplicate scope");
        }
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;
    use crate::domain::Violations;

    fn check(provider: Provider, scopes: &[&str]) -> Vec<String> {
        let mut v = Violations::default();
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        check_scopes(provider, "scopes", &scopes, &mut v);
        v.into_vec().into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn scopes_per_provider() {
        assert!(check(Provider::Aws, &["storage", "functions"]).is_empty());
        assert_eq!(check(Provider::Aws, &[]), ["scopes"]);
        assert_eq!(check(Provider::MongodbAtlas, &["database", "storage"]), ["scopes[1]"]);
        assert_eq!(check(Provider::Gcp, &["storage", "storage"]), ["scopes[1]"]);
        assert_eq!(check(Provider::Neo4jAura, &["Database"]), ["scopes[0]"]);
    }

    #[test]
    fn a_list_longer_than_the_catalogue_is_one_violation() {
        assert_eq!(check(Provider::Aws, &["storage"; 5]), ["scopes"]);
        assert_eq!(check(Provider::MongodbAtlas, &[""; 5]), ["scopes"]);
    }
}
