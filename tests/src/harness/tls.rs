//! Certificates for the TLS tests, made with rcgen at test time: a CA, a
//! server certificate for `localhost`, and client certificates.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// A certificate and its private key, PEM.
#[derive(Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
}

/// A CA and what it signed.
#[derive(Clone)]
pub struct TlsMaterial {
    pub ca: String,
    pub server: Pem,
    pub client: Pem,
}

fn ca() -> (CertificateParams, KeyPair, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().expect("ca key");
    let cert = params.self_signed(&key).expect("ca cert").pem();
    (params, key, cert)
}

fn leaf(names: &[&str], ca_params: &CertificateParams, ca_key: &KeyPair) -> Pem {
    let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("leaf params");
    let key = KeyPair::generate().expect("leaf key");
    let issuer = Issuer::from_params(ca_params, ca_key);
    Pem { cert: params.signed_by(&key, &issuer).expect("leaf cert").pem(), key: key.serialize_pem() }
}

/// A fresh CA with a `localhost` server certificate and one client certificate.
pub fn generate() -> TlsMaterial {
    let (params, key, ca) = ca();
    TlsMaterial { server: leaf(&["localhost"], &params, &key), client: leaf(&["test-client"], &params, &key), ca }
}

/// A client certificate from some other CA, which the server must refuse.
pub fn stranger() -> Pem {
    let (params, key, _) = ca();
    leaf(&["stranger"], &params, &key)
}

/// A TLS channel to `port` trusting `ca`, presenting `identity` if given.
pub async fn channel(port: u16, ca: &str, identity: Option<&Pem>) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)).domain_name("localhost");
    if let Some(id) = identity {
        tls = tls.identity(Identity::from_pem(&id.cert, &id.key));
    }
    Channel::from_shared(format!("https://localhost:{port}")).expect("uri").tls_config(tls)?.connect().await
}
