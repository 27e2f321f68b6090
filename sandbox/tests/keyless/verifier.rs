//! The verifier alone: each check, the JWKS cache and its bounds.

use cloudconn_sandbox::oidc::{Rejection, Verifier};
use jsonwebtoken::{EncodingKey, Header};

use crate::issuer::{ISSUER, Issuer, SUBJECT, Signer};

const AUD: &str = "sts.amazonaws.com";

#[tokio::test]
async fn a_token_of_the_issuer_verifies_with_its_claims() {
    let issuer = Issuer::start().await;
    let verified = issuer.verifier().verify(&Issuer::token(AUD), AUD).await.expect("verified");
    assert_eq!((verified.iss.as_str(), verified.sub.as_str(), verified.aud.as_str()), (ISSUER, SUBJECT, AUD));
    assert!(verified.exp > chrono::Utc::now().timestamp());
    assert_eq!(verified.claims["connection_tag"], "prod");
}

#[tokio::test]
async fn each_failed_check_is_named() {
    let issuer = Issuer::start().await;
    let verifier = issuer.verifier();
    let other_key = Issuer::sign(&Issuer::claims(AUD), Signer::Other);
    assert!(matches!(verifier.verify(&other_key, AUD).await, Err(Rejection::Signature(_))));
    assert!(matches!(verifier.verify(&Issuer::expired(AUD), AUD).await, Err(Rejection::Expired { .. })));
    assert_eq!(
        verifier.verify(&Issuer::token("api://AzureADTokenExchange"), AUD).await.err(),
        Some(Rejection::Audience { found: "api://AzureADTokenExchange".into() })
    );
    assert_eq!(
        verifier.verify(&Issuer::foreign(AUD), AUD).await.err(),
        Some(Rejection::Issuer { found: "https://elsewhere.example.com".into() })
    );
    assert!(matches!(verifier.verify("not.a.jwt", AUD).await, Err(Rejection::Malformed(_))));
    let ahead = Issuer::token_with(AUD, |c| c["nbf"] = (chrono::Utc::now().timestamp() + 600).into());
    assert!(matches!(verifier.verify(&ahead, AUD).await, Err(Rejection::NotYetValid { .. })));
    let no_sub = Issuer::token_with(AUD, |c| {
        c.as_object_mut().expect("claims").remove("sub");
    });
    assert!(matches!(verifier.verify(&no_sub, AUD).await, Err(Rejection::Malformed(_))));
}

#[tokio::test]
async fn within_the_leeway_a_token_still_verifies() {
    let issuer = Issuer::start().await;
    let just_expired = Issuer::token_with(AUD, |c| c["exp"] = (chrono::Utc::now().timestamp() - 30).into());
    assert!(issuer.verifier().verify(&just_expired, AUD).await.is_ok());
}

#[tokio::test]
async fn only_rs256_is_accepted() {
    let issuer = Issuer::start().await;
    // Signed with HMAC over a guessable secret, as the classic confusion
    // attack would: refused before any key is looked at.
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(crate::issuer::KID.into());
    let token = jsonwebtoken::encode(&header, &Issuer::claims(AUD), &EncodingKey::from_secret(b"n")).expect("sign");
    assert!(matches!(issuer.verifier().verify(&token, AUD).await, Err(Rejection::Malformed(_))));
}

#[tokio::test]
async fn the_jwks_is_cached_and_an_unknown_kid_refetches_at_most_once_a_second() {
    let issuer = Issuer::start().await;
    let verifier = issuer.verifier();
    for _ in 0..3 {
        verifier.verify(&Issuer::token(AUD), AUD).await.expect("verified");
    }
    // Discovery and JWKS, once, for max-age.
    assert_eq!(issuer.server.requests.total(), 2);
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("rotated-in".into());
    let key = EncodingKey::from_rsa_pem(include_bytes!("../../testdata/issuer.pem")).expect("key");
    let unknown = jsonwebtoken::encode(&header, &Issuer::claims(AUD), &key).expect("sign");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(matches!(verifier.verify(&unknown, AUD).await, Err(Rejection::Signature(_))));
    assert_eq!(issuer.server.requests.total(), 4, "an unknown kid refetches");
    assert!(matches!(verifier.verify(&unknown, AUD).await, Err(Rejection::Signature(_))));
    assert_eq!(issuer.server.requests.total(), 4, "but not twice within a second");
}

#[tokio::test]
async fn an_issuer_that_cannot_be_reached_or_names_another_is_unreachable() {
    let nowhere = Verifier::new(ISSUER, "http://127.0.0.1:9");
    assert!(matches!(nowhere.verify(&Issuer::token(AUD), AUD).await, Err(Rejection::Unreachable(_))));
    let issuer = Issuer::start().await;
    let confused = Verifier::new("https://other.example.com", issuer.server.url());
    let token = Issuer::token_with(AUD, |c| c["iss"] = "https://other.example.com".into());
    assert!(matches!(confused.verify(&token, AUD).await, Err(Rejection::Unreachable(_))));
}

#[tokio::test]
async fn an_oversized_document_is_refused() {
    let issuer = Issuer::start().await;
    issuer.server.faults.oversize.store(true, std::sync::atomic::Ordering::SeqCst);
    let refused = issuer.verifier().verify(&Issuer::token(AUD), AUD).await;
    assert!(matches!(refused, Err(Rejection::Unreachable(ref why)) if why.contains("larger")), "{refused:?}");
}
