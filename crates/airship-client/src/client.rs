//! The narrow trait every Airship transport implements.

use async_trait::async_trait;

use crate::{AirshipError, AirshipRequest, AirshipResponse};

/// Sends one request to Airship and returns its parsed response.
///
/// Implementations add the host, credentials and headers, because the request contains only the
/// method, path and body.
#[async_trait]
pub trait AirshipClient: Send + Sync + std::fmt::Debug {
    /// Sends `request` once, without retrying.
    ///
    /// A non-2xx response is an error. Use [`AirshipError::is_retryable`] to decide whether to send again.
    async fn send(&self, request: &AirshipRequest) -> Result<AirshipResponse, AirshipError>;
}
