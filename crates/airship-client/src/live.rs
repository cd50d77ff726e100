//! The HTTPS client that sends requests to Airship with reqwest and rustls.

use std::error::Error as _;
use std::fmt;

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{redirect, tls, StatusCode, Url};

use crate::retry_after::parse_retry_after;
use crate::{
    AirshipClient, AirshipConfig, AirshipError, AirshipRequest, AirshipResponse, USER_AGENT,
};

/// Media type that selects version 3 of the Airship API. Without it Airship returns 406.
const ACCEPT_V3: &str = "application/vnd.urbanairship+json; version=3";

/// Airship API client over HTTPS.
///
/// Sends each request once with the config's timeout and follows no redirects, so a POST body
/// never goes to another host. Cloning is cheap and shares the connection pool.
#[derive(Clone)]
pub struct LiveClient {
    config: AirshipConfig,
    /// `config.base_url` without its trailing slash.
    base_url: String,
    /// The five headers sent on every request; `Authorization` is marked sensitive.
    headers: HeaderMap,
    http: reqwest::Client,
}

impl LiveClient {
    /// Checks `config` and builds the HTTP client.
    ///
    /// Fails with [`AirshipError::InvalidRequest`] when the base URL is not an `http` or `https`
    /// URL, or when the app key or access token is empty or cannot be sent as a header.
    // NOTE: `AirshipError` is 184 bytes, over clippy's 128-byte `result_large_err` threshold,
    // because `Api` contains the parsed error body. Its fields are public API, so it stays unboxed.
    #[allow(clippy::result_large_err)]
    pub fn new(config: AirshipConfig) -> Result<LiveClient, AirshipError> {
        let invalid = |message: String| AirshipError::InvalidRequest { message };
        let base_url = check_base_url(&config.base_url).map_err(invalid)?;
        let headers = build_headers(&config).map_err(invalid)?;
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .min_tls_version(tls::Version::TLS_1_2)
            .timeout(config.timeout)
            .redirect(redirect::Policy::none())
            .build()
            .map_err(|error| AirshipError::InvalidRequest {
                message: format!("could not build the http client: {}", error_chain(&error)),
            })?;

        Ok(LiveClient {
            config,
            base_url,
            headers,
            http,
        })
    }

    /// Returns the config this client was built from.
    pub fn config(&self) -> &AirshipConfig {
        &self.config
    }

    async fn send_once(&self, request: &AirshipRequest) -> Result<AirshipResponse, AirshipError> {
        if !request.method.eq_ignore_ascii_case("POST") {
            return Err(AirshipError::InvalidRequest {
                message: format!(
                    "method `{}` for {} is not supported: every airship endpoint this client calls takes POST",
                    request.method, request.path
                ),
            });
        }
        if !request.path.starts_with('/') {
            return Err(AirshipError::InvalidRequest {
                message: format!("path `{}` must start with `/`", request.path),
            });
        }

        let url = format!("{}{}", self.base_url, request.path);
        // NOTE: serde_json is built with `arbitrary_precision`, so numbers are written with the
        // digits they were parsed with; large integer ids are not rounded through f64.
        let body =
            serde_json::to_vec(&request.body).map_err(|error| AirshipError::InvalidRequest {
                message: format!("could not serialize the body for {}: {error}", request.path),
            })?;

        let response = self
            .http
            .post(&url)
            .headers(self.headers.clone())
            .body(body)
            .send()
            .await
            .map_err(|error| self.transport_error(&error, &url))?;

        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, chrono::Utc::now()));
        let text = response
            .text()
            .await
            .map_err(|error| self.transport_error(&error, &url))?;

        if status.is_success() {
            Ok(AirshipResponse::from_body(status.as_u16(), &text))
        } else if status == StatusCode::UNAUTHORIZED {
            Err(AirshipError::Unauthorized {
                base_url: self.base_url.clone(),
                body: text,
            })
        } else {
            Err(AirshipError::from_api_response(
                status.as_u16(),
                text,
                retry_after,
            ))
        }
    }

    fn transport_error(&self, error: &reqwest::Error, url: &str) -> AirshipError {
        if error.is_timeout() {
            AirshipError::Timeout {
                timeout: self.config.timeout,
            }
        } else if error.is_builder() {
            AirshipError::InvalidRequest {
                message: format!(
                    "could not build a request for {url}: {}",
                    error_chain(error)
                ),
            }
        } else {
            AirshipError::Connect {
                message: format!(
                    "{}; check the base url and network access",
                    error_chain(error)
                ),
            }
        }
    }
}

#[async_trait]
impl AirshipClient for LiveClient {
    async fn send(&self, request: &AirshipRequest) -> Result<AirshipResponse, AirshipError> {
        let result = self.send_once(request).await;
        match &result {
            Ok(response) => tracing::debug!(
                method = %request.method,
                path = %request.path,
                status = response.status,
                operation_id = response.operation_id.as_deref(),
                "Airship request succeeded"
            ),
            Err(error) => tracing::debug!(
                method = %request.method,
                path = %request.path,
                status = error.status(),
                operation_id = api_operation_id(error),
                %error,
                "Airship request failed"
            ),
        }
        result
    }
}

impl fmt::Debug for LiveClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn api_operation_id(error: &AirshipError) -> Option<&str> {
    match error {
        AirshipError::Api { operation_id, .. } => operation_id.as_deref(),
        AirshipError::Unauthorized { .. }
        | AirshipError::Timeout { .. }
        | AirshipError::Connect { .. }
        | AirshipError::InvalidRequest { .. } => None,
    }
}

/// Returns `base_url` without its trailing slash after checking it is an absolute http(s) URL.
fn check_base_url(base_url: &str) -> Result<String, String> {
    let trimmed = base_url.trim().trim_end_matches('/');
    let invalid = |reason: String| {
        format!(
            "invalid base url `{base_url}`: {reason}; expected a url such as https://go.urbanairship.com"
        )
    };

    let url = Url::parse(trimmed).map_err(|error| invalid(error.to_string()))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(invalid(format!("unsupported scheme `{}`", url.scheme())));
    }
    if url.host_str().is_none() {
        return Err(invalid("missing host".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "a query or fragment cannot be followed by a path".into(),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Builds the five headers sent on every request, or returns why one cannot be built.
fn build_headers(config: &AirshipConfig) -> Result<HeaderMap, String> {
    if config.app_key.trim().is_empty() {
        return Err("the app key is empty: set it to the project's app key".into());
    }
    if config.access_token.expose().trim().is_empty() {
        return Err("the access token is empty: set it to an airship bearer token".into());
    }

    let mut authorization =
        HeaderValue::try_from(format!("Bearer {}", config.access_token.expose())).map_err(
            |_| "the access token contains characters not allowed in an http header".to_owned(),
        )?;
    authorization.set_sensitive(true);
    let app_key = HeaderValue::try_from(config.app_key.as_str()).map_err(|_| {
        format!(
            "app key `{}` contains characters not allowed in an http header",
            config.app_key
        )
    })?;

    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, authorization);
    headers.insert("x-ua-appkey", app_key);
    headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_V3));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        reqwest::header::USER_AGENT,
        HeaderValue::from_static(USER_AGENT),
    );
    Ok(headers)
}

/// Joins `error` and its sources, because reqwest's own message omits the cause, such as
/// "connection refused".
fn error_chain(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use crate::DataCenter;

    use super::*;

    fn config() -> AirshipConfig {
        AirshipConfig::new(DataCenter::Us, "app-key", "tok-secret")
    }

    #[test]
    fn base_url_trailing_slash_trimmed() {
        let client = LiveClient::new(config().with_base_url("http://127.0.0.1:9/")).unwrap();

        assert_eq!(client.base_url, "http://127.0.0.1:9");
    }

    #[test]
    fn base_url_without_scheme_rejected() {
        let error = LiveClient::new(config().with_base_url("go.urbanairship.com")).unwrap_err();

        assert!(
            matches!(error, AirshipError::InvalidRequest { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("go.urbanairship.com"), "{error}");
    }

    #[test]
    fn base_url_with_other_scheme_rejected() {
        let error = LiveClient::new(config().with_base_url("ftp://example.com")).unwrap_err();

        assert!(
            error.to_string().contains("unsupported scheme `ftp`"),
            "{error}"
        );
    }

    #[test]
    fn empty_token_rejected() {
        let config = AirshipConfig::new(DataCenter::Us, "app-key", "");

        let error = LiveClient::new(config).unwrap_err();

        assert!(
            error.to_string().contains("access token is empty"),
            "{error}"
        );
    }

    #[test]
    fn token_with_newline_rejected_without_echo() {
        let config = AirshipConfig::new(DataCenter::Us, "app-key", "tok\nsecret");

        let error = LiveClient::new(config).unwrap_err();

        assert!(
            !format!("{error} {error:?}").contains("secret"),
            "{error:?}"
        );
    }

    #[test]
    fn authorization_header_marked_sensitive() {
        let client = LiveClient::new(config()).unwrap();

        assert!(client.headers[AUTHORIZATION].is_sensitive());
    }
}
