//! Keyless connections against the stand-ins: tokens signed like
//! cloudconn's worker signs them, checked against a JWKS served like
//! cloudconn serves it, and every way each cloud refuses one.

mod aws;
mod azure;
mod gcp;
mod issuer;
mod sandbox;
mod verifier;
