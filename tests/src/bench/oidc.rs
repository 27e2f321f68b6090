//! What a keyless connection adds to each validation and issue: one token
//! signed by Vault's transit engine (RSA-2048, PKCS#1 v1.5), as the worker
//! signs it (`cloudconn_infra::oidc`, through the Vault store), next to the
//! Vault call every mint already makes (a KV read of the revision), in the
//! same run, at the same concurrency. The signing runs in this process,
//! standing in for the worker: its CPU is in the `bench` share.

use std::{collections::HashMap, sync::Arc, time::Duration};

use cloudconn_infra::{
    config::{OidcConfig, VaultConfig},
    oidc::{Subject, transit::issuer},
    vault::VaultStore,
};
use secrecy::SecretString;

use super::{
    closed_loop,
    report::Entry,
    scenarios::{Deployment, Sizes},
};

pub async fn signing(d: &Deployment, s: &Sizes) -> anyhow::Result<Entry> {
    let key = format!("{}-oidc", d.prefix);
    let _ = vaultrs::sys::mount::enable(&*d.vault, "transit", "transit", None).await;
    let mut options = vaultrs::api::transit::requests::CreateKeyRequest::builder();
    options.key_type(vaultrs::api::transit::KeyType::Rsa2048);
    vaultrs::transit::key::create(&*d.vault, "transit", &key, Some(&mut options)).await?;
    let vault = VaultConfig {
        vault_addr: Some(crate::harness::env::vault_addr()),
        vault_token: Some(SecretString::from(crate::harness::env::vault_token())),
        ..VaultConfig::default()
    };
    let store = Arc::new(VaultStore::connect(&vault, Duration::from_secs(5)).await?);
    let oidc = OidcConfig {
        oidc_issuer: Some("https://cloudconn.example.com".into()),
        oidc_key: key.clone(),
        ..OidcConfig::default()
    };
    let issuer = issuer(&oidc, store).ok_or_else(|| anyhow::anyhow!("an issuer is configured"))?;
    let subject = Arc::new(Subject {
        workspace: "bench".into(),
        connection_id: uuid::Uuid::new_v4().to_string(),
        tag: "bench_aws".into(),
        scope: "storage".into(),
        consumer: "bench".into(),
    });
    // The key list is read once, then cached (as in the worker).
    issuer.token(&subject, "sts.amazonaws.com").await?;
    let total = s.issue_misses.max(200);
    let (run, cpu) = d
        .measure(closed_loop(s.callers, total, move |_| {
            let (issuer, subject) = (issuer.clone(), subject.clone());
            async move {
                issuer.token(&subject, "sts.amazonaws.com").await?;
                Ok(())
            }
        }))
        .await?;

    let path = format!("{}/oidc-bench", d.prefix);
    vaultrs::kv2::set(&*d.vault, &d.vault_mount, &path, &HashMap::from([("role_arn", "x")])).await?;
    let (vault, mount) = (d.vault.clone(), d.vault_mount.clone());
    let (raw, raw_cpu) = d
        .measure(closed_loop(s.callers, total, move |_| {
            let (vault, mount, path) = (vault.clone(), mount.clone(), path.clone());
            async move {
                let _: HashMap<String, String> = vaultrs::kv2::read(&*vault, &mount, &path).await?;
                Ok(())
            }
        }))
        .await?;
    let _ = vaultrs::transit::key::update(
        &*d.vault,
        "transit",
        &key,
        Some(vaultrs::api::transit::requests::UpdateKeyConfigurationRequest::builder().deletion_allowed(true)),
    )
    .await;
    let _ = vaultrs::transit::key::delete(&*d.vault, "transit", &key).await;
    Ok(Entry::new("Keyless token (Vault transit sign, RSA-2048)", &run)
        .cpu(cpu)
        .against_run("Vault KV read (vaultrs)", &raw, raw_cpu)
        .target("- (what a keyless validation or issue adds)"))
}
