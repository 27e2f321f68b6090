//! Turns SIGINT / SIGTERM into a cancelled [`CancellationToken`].
//!
//! Every long-lived loop takes a token as a parameter (never a global), so a
//! test process can run and stop many apps independently.

use tokio_util::sync::CancellationToken;

/// Returns a token that is cancelled on the first SIGINT or SIGTERM.
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown signal received");
        trigger.cancel();
    });
    token
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    // Kubernetes sends SIGTERM; a terminal sends SIGINT. If the handler cannot
    // be installed we fall back to ctrl-c alone rather than never stopping.
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs `pass` now and then every `interval` until `shutdown`: the shape of
/// every background sweep (purges, pruning, deadlines). A failed pass is
/// logged as `what` and simply tried again at the next tick.
pub async fn every<F, Fut, T, E>(
    interval: std::time::Duration,
    shutdown: &CancellationToken,
    what: &str,
    mut pass: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: Into<anyhow::Error>,
{
    loop {
        if let Err(e) = pass().await {
            tracing::warn!(error = format!("{:#}", e.into()), "{what} failed; will retry");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
