//! A minter whose answers a test decides, counting its calls: for what the
//! server does around minting (cache, single flight, deadlines, refusals),
//! apart from any provider. The product's minters are tested against the
//! provider emulators.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use chrono::Utc;
use cloudconn_infra::{
    amqp::issue::{Minted, WireSecret},
    secrets::SecretFields,
};
use cloudconn_worker::{
    mint::{Mint, MintRequest, MintedCredentials, Minters, RevokeRequest},
    probe::{ErrorCode, ProbeFailure},
};

/// What the scripted minter answers.
#[derive(Debug, Clone)]
pub enum Script {
    /// An access token with this value, living the requested TTL.
    Token(String),
    /// A classified failure.
    Fail { code: ErrorCode, retryable: bool },
}

pub struct ScriptedMint {
    calls: AtomicU32,
    script: Mutex<Script>,
    delay: Mutex<Duration>,
    /// Every request seen, in order.
    pub requests: Mutex<Vec<MintRequest>>,
    /// Every revoke seen, in order.
    pub revokes: Mutex<Vec<RevokeRequest>>,
}

impl ScriptedMint {
    pub fn new(token: &str) -> Arc<Self> {
        Arc::new(Self {
            calls: AtomicU32::new(0),
            script: Mutex::new(Script::Token(token.to_owned())),
            delay: Mutex::new(Duration::ZERO),
            requests: Mutex::new(Vec::new()),
            revokes: Mutex::new(Vec::new()),
        })
    }

    /// Minters with this one for every provider.
    pub fn everywhere(self: &Arc<Self>) -> Minters {
        ["aws", "gcp", "azure", "mongodb_atlas", "neo4j_aura"]
            .into_iter()
            .fold(Minters::default(), |m, name| m.with(name, self.clone()))
    }

    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn answer(&self, script: Script) {
        *self.script.lock().unwrap() = script;
    }

    /// Each call waits this long before answering.
    pub fn delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }
}

#[async_trait::async_trait]
impl Mint for ScriptedMint {
    async fn mint(
        &self,
        request: &MintRequest,
        _credentials: &SecretFields,
    ) -> Result<MintedCredentials, ProbeFailure> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.requests.lock().unwrap().push(request.clone());
        let delay = *self.delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        let script = self.script.lock().unwrap().clone();
        match script {
            Script::Token(token) => Ok(MintedCredentials {
                credentials: Minted::AccessToken {
                    access_token: WireSecret::new(token),
                    token_type: "Bearer".into(),
                    scopes: vec![request.scope.clone()],
                    audience: String::new(),
                },
                expire_time: Utc::now() + chrono::Duration::from_std(request.ttl).unwrap_or_default(),
            }),
            Script::Fail { code, retryable } => Err(ProbeFailure {
                retryable,
                ..ProbeFailure::new(code, format!("scripted {}", code.as_str()), "scripted hint")
            }),
        }
    }

    async fn revoke(&self, request: &RevokeRequest, _credentials: &SecretFields) -> Result<u32, ProbeFailure> {
        self.revokes.lock().unwrap().push(request.clone());
        Ok(1)
    }
}
