//! Azure, keyless (kind `federated`): the same client-credentials grant,
//! with a `client_assertion` — a token cloudconn signed for the connection,
//! addressed to `api://AzureADTokenExchange` — instead of a client secret.
//! The app registration trusts it through a federated identity credential
//! naming cloudconn's issuer, the connection's `sub` exactly (Entra allows
//! no wildcards) and that audience.

use cloudconn_infra::{oidc::AZURE_AUDIENCE, secrets::SecretFields};
use secrecy::{ExposeSecret, SecretString};

use super::{ErrorCode, ProbeFailure, azure::token_refusal, oauth::ClientAuth};
use crate::keyless::{self, Keyless};

/// The kind's name in a revision.
pub const KIND: &str = "federated";

/// How a revision proves itself to Entra ID.
pub enum Credential {
    Secret(SecretString),
    /// A fresh assertion, and whom it names (for the refusals' hints).
    Assertion(SecretString, Keyless),
}

impl Credential {
    /// The revision's secret, or (keyless) a token signed now.
    pub async fn of(credentials: &SecretFields, keyless: &Option<Keyless>) -> Result<Self, ProbeFailure> {
        if keyless::kind(credentials) == KIND {
            let keyless = keyless::required(keyless)?;
            return Ok(Self::Assertion(keyless.token(AZURE_AUDIENCE).await?, keyless.clone()));
        }
        let secret = credentials.get("client_secret").map(|s| s.expose_secret().to_owned()).unwrap_or_default();
        Ok(Self::Secret(SecretString::from(secret)))
    }

    pub fn auth(&self) -> ClientAuth<'_> {
        match self {
            Self::Secret(secret) => ClientAuth::Secret(secret.expose_secret()),
            Self::Assertion(token, _) => ClientAuth::Assertion(token.expose_secret()),
        }
    }

    /// What an Entra ID refusal means for this credential: the federated
    /// credential's mismatches name the claim to fix.
    pub fn refusal(&self, description: &str) -> ProbeFailure {
        let Self::Assertion(_, keyless) = self else { return token_refusal(description) };
        let code = description.split(':').next().unwrap_or_default();
        let fix = format!(
            "The app registration needs a federated credential with issuer {}, subject {} and audience {}: \
             az ad app federated-credential create --id <client id> --parameters '{{\"name\": \"cloudconn\", \
             \"issuer\": \"{}\", \"subject\": \"{}\", \"audiences\": [\"{}\"]}}'",
            keyless.issuer_url(),
            keyless.sub(),
            AZURE_AUDIENCE,
            keyless.issuer_url(),
            keyless.sub(),
            AZURE_AUDIENCE
        );
        let (kind, message) = match code {
            "AADSTS700211" => {
                (ErrorCode::InvalidCredentials, "no federated credential of the app trusts cloudconn's issuer (iss)")
            }
            "AADSTS700213" => {
                (ErrorCode::AccessDenied, "no federated credential of the app names this connection's subject (sub)")
            }
            "AADSTS700212" => {
                (ErrorCode::InvalidCredentials, "no federated credential of the app accepts the audience (aud)")
            }
            "AADSTS700024" => {
                return ProbeFailure::transient("Entra ID took cloudconn's token for out of date (a clock apart?)");
            }
            "AADSTS700027" => (
                ErrorCode::InvalidCredentials,
                "Entra ID could not verify cloudconn's token against the issuer's keys (iss)",
            ),
            _ => return token_refusal(description),
        };
        ProbeFailure::new(kind, format!("{message} ({code})"), format!("{fix}; then validate again."))
    }
}
