//! IssueCredentials' answer: the one message of the API that carries
//! secret values (for the component that asked; nothing else sees them).

use cloudconn_infra::amqp::issue::Minted;
use cloudconn_proto::v1::{self as pb, issued_credentials::Credentials};

use super::IssueOutcome;
use crate::{domain::provider::Provider, view::timestamp};

pub fn issued(tag: &str, scope: &str, outcome: &IssueOutcome) -> pb::IssuedCredentials {
    let provider = Provider::from_db(&outcome.provider);
    let credentials = match (&outcome.issued.credentials, provider) {
        (Minted::AwsSession { access_key_id, secret_access_key, session_token, region, assumed_role_arn }, _) => {
            Some(Credentials::Aws(pb::AwsSessionCredentials {
                access_key_id: access_key_id.clone(),
                secret_access_key: secret_access_key.expose().to_owned(),
                session_token: session_token.expose().to_owned(),
                region: region.clone(),
                assumed_role_arn: assumed_role_arn.clone(),
            }))
        }
        (Minted::AccessToken { access_token, token_type, scopes, audience }, Some(provider)) => {
            let token = pb::AccessToken {
                access_token: access_token.expose().to_owned(),
                token_type: token_type.clone(),
                scopes: scopes.clone(),
                audience: audience.clone(),
            };
            match provider {
                Provider::Gcp => Some(Credentials::Gcp(token)),
                Provider::Azure => Some(Credentials::Azure(token)),
                Provider::Neo4jAura => Some(Credentials::Neo4jAura(token)),
                Provider::Aws | Provider::MongodbAtlas => None,
            }
        }
        (Minted::DatabaseUser { username, password, database, roles }, _) => {
            Some(Credentials::MongodbAtlas(pb::DatabaseUser {
                username: username.clone(),
                password: password.expose().to_owned(),
                database: database.clone(),
                roles: roles.clone(),
            }))
        }
        (Minted::AccessToken { .. }, None) => None,
    };
    pb::IssuedCredentials {
        tag: tag.to_owned(),
        provider: provider.map_or(pb::Provider::Unspecified, crate::view::provider_to_proto).into(),
        scope: scope.to_owned(),
        revision: outcome.revision,
        expire_time: Some(timestamp(outcome.issued.expire_time)),
        credentials,
    }
}
