//! The axum router: Airship routes, `/__mock/` control routes and Airship-style 404 and 405
//! responses.

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{middleware, Router};

use crate::record::{record_request, MAX_BODY_BYTES};
use crate::reply::ApiError;
use crate::{endpoints, inspect, MockAirship};

/// Builds the mock's routes over `mock`'s shared state.
///
/// Each Airship path is served with and without a trailing slash, because Airship's own
/// libraries add one and Segment's integration does not.
///
/// The drop-connection fault needs the server [`spawn`](crate::spawn) starts. A router served
/// another way responds to those requests with 500 instead.
pub fn router(mock: MockAirship) -> Router {
    Router::new()
        .route("/api/custom-events", post(endpoints::custom_events))
        .route("/api/custom-events/", post(endpoints::custom_events))
        .route("/api/named_users/tags", post(endpoints::named_user_tags))
        .route("/api/named_users/tags/", post(endpoints::named_user_tags))
        .route(
            "/api/named_users/{named_user_id}/attributes",
            post(endpoints::named_user_attributes),
        )
        .route(
            "/api/named_users/{named_user_id}/attributes/",
            post(endpoints::named_user_attributes),
        )
        .route("/api/named_users", get(endpoints::lookup_named_users))
        .route("/api/named_users/", get(endpoints::lookup_named_users))
        .route(
            "/__mock/requests",
            get(inspect::list_requests).delete(inspect::clear_requests),
        )
        .route("/__mock/reset", post(inspect::reset))
        .route(
            "/__mock/faults",
            get(inspect::list_faults)
                .post(inspect::add_fault)
                .delete(inspect::clear_faults),
        )
        .route(
            "/__mock/named_users",
            get(inspect::list_named_users).post(inspect::add_named_user),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(mock.clone(), record_request))
        .with_state(mock)
}

async fn not_found() -> ApiError {
    ApiError::plain(StatusCode::NOT_FOUND, "Not found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::plain(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
}
