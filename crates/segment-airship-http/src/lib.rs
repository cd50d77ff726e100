//! HTTP service that accepts Segment tracking-API calls and delivers them to Airship.
//!
//! The routes follow Segment's HTTP tracking API: `POST /v1/<type>` for one message of each call
//! type (identify, track, group, page, screen, alias), and `POST /v1/batch` (or its alias
//! `/v1/import`) for many. Each message is mapped to validate it, the sendable ones are committed
//! to the spool, and only then does the call get its response, listing every message's outcome. The
//! delivery engine sends the spooled messages to Airship afterwards.
//!
//! [`app`] builds the router, so tests drive it without a socket. [`serve`] runs it on a listener.

mod access_log;
mod auth;
mod body;
mod error;
mod ingest;
mod limits;
mod response;
mod state;

use std::future::Future;

use axum::routing::{get, post};
use axum::Router;
use segment_model::MessageType;
use tokio::net::TcpListener;

pub use error::{ApiError, BodySize, Unauthorized};
pub use limits::{MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES, MAX_REQUEST_BYTES};
pub use state::{AppState, Auth, AuthError, Clock, WriteKey};

/// Builds the router with every route and the access log.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/health", get(ingest::health))
        .route("/v1/batch", post(ingest::batch))
        .route("/v1/import", post(ingest::batch));
    for message_type in MessageType::ALL {
        router = router.route(
            &format!("/v1/{message_type}"),
            ingest::single_route(message_type),
        );
    }
    router
        .fallback(ingest::not_found)
        .layer(axum::middleware::from_fn(access_log::log_request))
        .with_state(state)
}

/// Serves [`app`] on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
