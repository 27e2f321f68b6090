//! The signing key's versions: which one signs, which ones are published,
//! and each one as a JWK.
//!
//! Rotation is a new version of the same key (Vault transit `rotate`, by hand
//! or by the key's `auto_rotate_period`). Nobody tells cloudconn; the
//! schedule follows from the versions' creation times alone, so every server
//! and worker replica reaches the same answer without talking to the others:
//!
//! - a version **starts signing** `lead` after it was created (the lowest
//!   version known signs from the start: nothing came before it). `lead` is
//!   the JWKS cache period plus how stale our own copy of the key list may
//!   be, so every verifier that cached the JWKS before the version existed
//!   has refetched it by the time a token names the new `kid`;
//! - a version **stays published** until `retain` after the next version
//!   started signing: the longest token lifetime (one signed at the last
//!   moment is still honoured), plus the cache period and our staleness.

use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use rsa::{RsaPublicKey, pkcs8::DecodePublicKey, traits::PublicKeyParts};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One version of the signing key, as its store lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVersion {
    pub version: u64,
    pub created: DateTime<Utc>,
    /// SubjectPublicKeyInfo PEM (what transit returns for RSA keys).
    pub public_pem: String,
}

/// A JSON Web Key for RS256 signatures (RFC 7517), with the members every
/// cloud's verifier looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    pub kid: String,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub n: String,
    pub e: String,
}

impl Jwk {
    /// The JWK of an RSA public key in PEM. Its `kid` is the RFC 7638
    /// thumbprint: the same on every replica, and no name or version number
    /// of ours leaks into it.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let key = RsaPublicKey::from_public_key_pem(pem).map_err(|e| format!("not an RSA public key: {e}"))?;
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        // RFC 7638 §3.2: the required members, in lexicographic order, no spaces.
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        Ok(Self { kty: "RSA", kid, alg: "RS256", use_: "sig", n, e })
    }
}

/// When versions sign and how long they stay published.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// From a version's creation to its first signature.
    pub lead: Duration,
    /// From the next version's first signature to this one's removal from
    /// the JWKS.
    pub retain: Duration,
}

impl Schedule {
    /// The schedule for a JWKS cache period, our own key-list staleness and
    /// the longest token lifetime (see the module doc).
    pub fn new(jwks_max_age: Duration, refresh: Duration, token_lifetime: Duration) -> Self {
        Self { lead: jwks_max_age + refresh, retain: token_lifetime + jwks_max_age + refresh }
    }

    /// When `versions[i]` starts signing; `versions` sorted by version.
    fn signs_from(&self, versions: &[KeyVersion], i: usize) -> DateTime<Utc> {
        if i == 0 {
            return versions[0].created;
        }
        versions[i].created + chrono::Duration::from_std(self.lead).unwrap_or(chrono::Duration::MAX)
    }

    /// The version that signs at `now`: the newest one whose lead has
    /// passed. `versions` sorted by version, not empty.
    pub fn signing<'a>(&self, versions: &'a [KeyVersion], now: DateTime<Utc>) -> Option<&'a KeyVersion> {
        (0..versions.len()).rev().find(|&i| self.signs_from(versions, i) <= now).map(|i| &versions[i])
    }

    /// The versions the JWKS lists at `now`: every one not yet retired
    /// for `retain`. `versions` sorted by version.
    pub fn published<'a>(&self, versions: &'a [KeyVersion], now: DateTime<Utc>) -> Vec<&'a KeyVersion> {
        let retain = chrono::Duration::from_std(self.retain).unwrap_or(chrono::Duration::MAX);
        (0..versions.len())
            .filter(|&i| {
                // Retired once a later version signs; a later one that has
                // not started yet does not retire it.
                let successor = (i + 1..versions.len()).find(|&j| self.signs_from(versions, j) <= now);
                successor.is_none_or(|j| now < self.signs_from(versions, j) + retain)
            })
            .map(|i| &versions[i])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + chrono::Duration::minutes(minutes)
    }

    fn version(version: u64, created: i64) -> KeyVersion {
        KeyVersion { version, created: at(created), public_pem: String::new() }
    }

    fn numbers(versions: Vec<&KeyVersion>) -> Vec<u64> {
        versions.into_iter().map(|v| v.version).collect()
    }

    // Cache 60 min, staleness 1 min, tokens 5 min: lead 61, retain 66.
    fn schedule() -> Schedule {
        Schedule::new(Duration::from_secs(3600), Duration::from_secs(60), Duration::from_secs(300))
    }

    #[test]
    fn the_first_version_signs_at_once() {
        let versions = [version(1, 0)];
        assert_eq!(schedule().signing(&versions, at(0)).map(|v| v.version), Some(1));
        assert_eq!(numbers(schedule().published(&versions, at(0))), [1]);
    }

    #[test]
    fn a_new_version_is_published_a_cache_period_before_it_signs() {
        let versions = [version(1, 0), version(2, 1000)];
        let s = schedule();
        // Created: published at once, not signing yet.
        assert_eq!(s.signing(&versions, at(1000)).unwrap().version, 1);
        assert_eq!(numbers(s.published(&versions, at(1000))), [1, 2]);
        assert_eq!(s.signing(&versions, at(1060)).unwrap().version, 1);
        // Lead passed: 2 signs, 1 still published for tokens signed until now.
        assert_eq!(s.signing(&versions, at(1061)).unwrap().version, 2);
        assert_eq!(numbers(s.published(&versions, at(1061 + 65))), [1, 2]);
        // Retained long enough: gone.
        assert_eq!(numbers(s.published(&versions, at(1061 + 66))), [2]);
    }

    #[test]
    fn a_version_retires_when_a_later_one_signs_even_past_an_unstarted_one() {
        // 3 was created just now; 2 signs; 1 retired by 2.
        let versions = [version(1, 0), version(2, 100), version(3, 5000)];
        let s = schedule();
        assert_eq!(s.signing(&versions, at(5000)).unwrap().version, 2);
        assert_eq!(numbers(s.published(&versions, at(5000))), [2, 3]);
    }

    #[test]
    fn a_trimmed_history_signs_with_its_lowest_version() {
        let versions = [version(7, 0), version(8, 10)];
        assert_eq!(schedule().signing(&versions, at(10)).unwrap().version, 7);
    }

    #[test]
    fn the_kid_is_the_rfc7638_thumbprint() {
        // RFC 7638 §3.1's example key and thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let e = "AQAB";
        let key = RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(n).unwrap()),
            rsa::BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(e).unwrap()),
        )
        .unwrap();
        let pem = rsa::pkcs8::EncodePublicKey::to_public_key_pem(&key, rsa::pkcs8::LineEnding::LF).unwrap();
        let jwk = Jwk::from_pem(&pem).unwrap();
        assert_eq!(jwk.kid, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        assert_eq!((jwk.n.as_str(), jwk.e.as_str(), jwk.alg, jwk.use_), (n, e, "RS256", "sig"));
    }
}
