//! A TCP proxy in front of a dependency that a test can take down and bring
//! back, to check that cloudconn answers `UNAVAILABLE`, writes nothing half,
//! and recovers. Down means: live connections are cut and new ones are
//! closed at once, as when the dependency's process dies. Frozen means:
//! connections stay open and new ones are accepted, but no byte moves either
//! way until thawed, as when the process is stopped (`SIGSTOP`).

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
    frozen: Arc<AtomicBool>,
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
        let frozen = Arc::new(AtomicBool::new(false));
        let cut = Arc::new(Mutex::new(CancellationToken::new()));
        let stop = CancellationToken::new();
        let (up2, frozen2, cut2, stop2) = (up.clone(), frozen.clone(), cut.clone(), stop.clone());
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
                tokio::spawn(forward(client, upstream, cut, frozen2.clone()));
            }
        });
        Ok(Self { addr, up, frozen, cut, stop })
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

    /// Holds every byte, both ways, until [`ChaosProxy::thaw`].
    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }

    pub fn thaw(&self) {
        self.frozen.store(false, Ordering::SeqCst);
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.cut.lock().unwrap_or_else(|e| e.into_inner()).cancel();
    }
}

async fn forward(client: TcpStream, upstream: SocketAddr, cut: CancellationToken, frozen: Arc<AtomicBool>) {
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::select! {
        _ = cut.cancelled() => {}
        _ = async {
            tokio::join!(pump(client_read, server_write, frozen.clone()), pump(server_read, client_write, frozen))
        } => {}
    }
}

/// Copies one direction, holding each chunk while frozen; at the end of
/// input, half-closes the other side (as `copy_bidirectional` does).
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(n) => n,
        };
        while frozen.load(Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}
