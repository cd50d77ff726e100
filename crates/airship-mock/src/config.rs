//! Credentials the mock accepts and whether it logs each request.

use std::fmt;

/// Settings of a mock server.
#[derive(Clone)]
pub struct MockConfig {
    /// App key required in `X-UA-Appkey` on custom events.
    pub app_key: String,
    /// Token required as `Authorization: Bearer <token>` on every endpoint.
    pub access_token: String,
    /// Emits one `tracing` INFO event per recorded request, with method, path, status, headers
    /// (`Authorization` redacted) and body.
    pub log_requests: bool,
}

impl Default for MockConfig {
    /// App key `mock-app-key`, token `mock-access-token`, no request logging.
    fn default() -> MockConfig {
        MockConfig {
            app_key: "mock-app-key".into(),
            access_token: "mock-access-token".into(),
            log_requests: false,
        }
    }
}

impl fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockConfig")
            .field("app_key", &self.app_key)
            .field("access_token", &"[redacted]")
            .field("log_requests", &self.log_requests)
            .finish()
    }
}
