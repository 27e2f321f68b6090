//! A TCP proxy in front of a dependency that a test can take down and bring
//! back, to check that cloudconn answers `UNAVAILABLE`, writes nothing half,
//! and recovers. Down means: live connections are cut and new ones are
//! closed at once, as when the dependency's process dies.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

pub struct ChaosProxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    /// Cancelled on `down()` to cut the connections of the current period.
    cut: Arc<Mutex<CancellationToken>>,
    stop: CancellationToken,
}

impl ChaosProxy {
    /// Starts a proxy on a free loopback port forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let up = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(Mutex::new(CancellationToken::new()));
        let stop = CancellationToken::new();
        let (up2, cut2, stop2) = (up.clone(), cut.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let (client, _) = tokio::select! {
                    _ = stop2.cancelled() => return,
                    accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let cut = cut2.lock().unwrap_or_else(|e| e.into_inner()).clone();
                tokio::spawn(forward(client, upstream, cut));
            }
        });
        Ok(Self { addr, up, cut, stop })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts live connections and refuses new ones until [`ChaosProxy::up`].
    pub fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        let mut cut = self.cut.lock().unwrap_or_else(|e| e.into_inner());
        cut.cancel();
        *cut = CancellationToken::new();
    }

    pub fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.cut.lock().unwrap_or_else(|e| e.into_inner()).cancel();
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr, cut: CancellationToken) {
    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
    tokio::select! {
        _ = cut.cancelled() => {}
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
    }
}
