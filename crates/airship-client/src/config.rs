//! Connection settings of the live client: data center, base URL, credentials and timeout.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::Secret;

/// Request timeout used by [`AirshipConfig::new`]: connect, send and read the whole response.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The Airship cloud site a project lives on. Credentials work only on their own site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataCenter {
    /// North American cloud site.
    Us,
    /// European cloud site.
    Eu,
}

impl DataCenter {
    /// API host for Basic and Bearer authentication on this site, without a trailing slash.
    pub fn base_url(self) -> &'static str {
        match self {
            DataCenter::Us => "https://go.urbanairship.com",
            DataCenter::Eu => "https://go.airship.eu",
        }
    }
}

impl fmt::Display for DataCenter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataCenter::Us => f.write_str("us"),
            DataCenter::Eu => f.write_str("eu"),
        }
    }
}

/// A data center name other than `us` or `eu`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid data center `{value}`: expected `us` or `eu`")]
pub struct ParseDataCenterError {
    /// The rejected input.
    pub value: String,
}

impl FromStr for DataCenter {
    type Err = ParseDataCenterError;

    /// Parses `us` or `eu`, ignoring ASCII case and surrounding whitespace.
    fn from_str(value: &str) -> Result<DataCenter, ParseDataCenterError> {
        let trimmed = value.trim();
        if trimmed.eq_ignore_ascii_case("us") {
            Ok(DataCenter::Us)
        } else if trimmed.eq_ignore_ascii_case("eu") {
            Ok(DataCenter::Eu)
        } else {
            Err(ParseDataCenterError {
                value: value.to_owned(),
            })
        }
    }
}

/// Connection settings for [`LiveClient`](crate::LiveClient).
///
/// `Debug` is safe to log: the access token prints as `[redacted]`.
#[derive(Clone, Debug)]
pub struct AirshipConfig {
    /// Scheme and host, optionally with a path prefix; request paths are appended to it.
    pub base_url: String,
    /// Site the credentials belong to, named in error messages.
    pub data_center: DataCenter,
    /// Project app key, sent as `X-UA-Appkey`.
    pub app_key: String,
    /// Bearer token with a role that may write named users and custom events.
    pub access_token: Secret,
    /// Limit for one whole request, from connect to the last byte of the response.
    pub timeout: Duration,
}

impl AirshipConfig {
    /// Builds a config for `data_center`'s API host with the [`DEFAULT_TIMEOUT`].
    pub fn new(
        data_center: DataCenter,
        app_key: impl Into<String>,
        access_token: impl Into<Secret>,
    ) -> AirshipConfig {
        AirshipConfig {
            base_url: data_center.base_url().to_owned(),
            data_center,
            app_key: app_key.into(),
            access_token: access_token.into(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Replaces the data center's host, for a mock server or a proxy.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> AirshipConfig {
        self.base_url = base_url.into();
        self
    }

    /// Replaces the request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> AirshipConfig {
        self.timeout = timeout;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_center_base_urls() {
        assert_eq!(DataCenter::Us.base_url(), "https://go.urbanairship.com");
        assert_eq!(DataCenter::Eu.base_url(), "https://go.airship.eu");
    }

    #[test]
    fn config_takes_base_url_from_data_center() {
        let us = AirshipConfig::new(DataCenter::Us, "key", "token");
        let eu = AirshipConfig::new(DataCenter::Eu, "key", "token");

        assert_eq!(us.base_url, "https://go.urbanairship.com");
        assert_eq!(eu.base_url, "https://go.airship.eu");
        assert_eq!(us.timeout, Duration::from_secs(30));
    }

    #[test]
    fn with_base_url_overrides_data_center_host() {
        let config =
            AirshipConfig::new(DataCenter::Eu, "key", "token").with_base_url("http://127.0.0.1:9");

        assert_eq!(config.base_url, "http://127.0.0.1:9");
        assert_eq!(config.data_center, DataCenter::Eu);
    }

    #[test]
    fn data_center_parses_any_case() {
        assert_eq!("us".parse(), Ok(DataCenter::Us));
        assert_eq!("EU".parse(), Ok(DataCenter::Eu));
        assert_eq!(" Us ".parse(), Ok(DataCenter::Us));
    }

    #[test]
    fn data_center_parse_error_names_allowed_values() {
        let error = "de".parse::<DataCenter>().unwrap_err();

        assert_eq!(
            error.to_string(),
            "invalid data center `de`: expected `us` or `eu`"
        );
    }

    #[test]
    fn data_center_displays_lowercase() {
        assert_eq!(DataCenter::Us.to_string(), "us");
        assert_eq!(DataCenter::Eu.to_string(), "eu");
    }

    #[test]
    fn config_debug_hides_token() {
        let config = AirshipConfig::new(DataCenter::Us, "key", "tok-very-secret");

        let debug = format!("{config:?}");

        assert!(!debug.contains("tok-very-secret"), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }
}
