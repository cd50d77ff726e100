//! Starting a mock server on a socket and stopping it again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::connection::{ConnectionHandle, DroppableListener};
use crate::named_users::NamedUser;
use crate::{router, MockAirship, MockConfig, RecordedRequest};

/// Checks `config`, binds `addr` and serves the mock on a background task until
/// [`RunningMock::shutdown`] is called or the handle is dropped. Port 0 picks a free port; read it
/// from [`RunningMock::local_addr`].
pub async fn spawn(config: MockConfig, addr: SocketAddr) -> anyhow::Result<RunningMock> {
    config.validate().context("invalid airship mock config")?;
    spawn_with(MockAirship::new(config), addr).await
}

/// Serves existing state like [`spawn`], for faults or named users that must be in place before
/// the first request arrives.
pub async fn spawn_with(mock: MockAirship, addr: SocketAddr) -> anyhow::Result<RunningMock> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("failed to bind the airship mock to {addr}"))?;
    let local_addr = listener
        .local_addr()
        .context("failed to read the airship mock's bound address")?;

    let app = router(mock.clone()).into_make_service_with_connect_info::<ConnectionHandle>();
    let (shutdown_sender, shutdown_receiver) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(DroppableListener::new(listener), app)
            .with_graceful_shutdown(async {
                // A dropped sender means the handle is gone, which also stops the server.
                let _ = shutdown_receiver.await;
            })
            .await
    });

    let running = RunningMock {
        local_addr,
        mock,
        shutdown_sender: Some(shutdown_sender),
        task: Some(task),
    };
    tracing::info!(
        address = %local_addr,
        base_url = %running.base_url(),
        "Mock Airship listening"
    );
    Ok(running)
}

/// Handle to a mock server started with [`spawn`]. Dropping it signals the server to stop but
/// does not wait for open connections to finish.
#[derive(Debug)]
pub struct RunningMock {
    local_addr: SocketAddr,
    mock: MockAirship,
    shutdown_sender: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningMock {
    /// Returns the bound address, with the real port when port 0 was requested.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Returns `http://<ip>:<port>` for clients, using loopback when bound to all interfaces.
    pub fn base_url(&self) -> String {
        let ip = match self.local_addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.local_addr.port()))
    }

    /// Returns the shared state, for handing to another router or test helper.
    pub fn mock(&self) -> &MockAirship {
        &self.mock
    }

    /// Returns every recorded request in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.mock.requests()
    }

    /// Restores the start state: no recorded requests, no faults, and only the known named
    /// users, with no tags, attributes or events.
    pub fn reset(&self) {
        self.mock.reset();
    }

    /// Returns named user `id` with its tags, attributes and events, or `None` when it does not
    /// exist.
    pub fn named_user(&self, id: &str) -> Option<NamedUser> {
        self.mock.named_user(id)
    }

    /// Stops accepting connections, waits for in-flight requests to finish, then returns.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(sender) = self.shutdown_sender.take() {
            let _ = sender.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .context("the airship mock task panicked")?
                .context("the airship mock server failed")?;
        }
        tracing::info!(address = %self.local_addr, "Mock Airship stopped");
        Ok(())
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        if let Some(sender) = self.shutdown_sender.take() {
            let _ = sender.send(());
        }
    }
}
