//! Header checks Airship makes before it looks at the body: `Accept`, auth and app key.

use axum::http::{header, HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::reply::{ApiError, Rejection};
use crate::MockConfig;

const VND_MEDIA_TYPE: &str = "application/vnd.urbanairship+json";

/// Passes when some `Accept` media range is Airship's vendor type with `version=3`, else 406.
///
/// Spaces around `;` and `=` and an empty trailing parameter are tolerated, because Airship's
/// python library sends `application/vnd.urbanairship+json; version=3;`.
pub(crate) fn accept(headers: &HeaderMap) -> Result<(), Rejection> {
    let accepted = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(is_v3_media_range);
    if accepted {
        Ok(())
    } else {
        Err(ApiError::plain(
            StatusCode::NOT_ACCEPTABLE,
            "Accept header must be application/vnd.urbanairship+json; version=3",
        )
        .into())
    }
}

fn is_v3_media_range(range: &str) -> bool {
    let mut parts = range.split(';').map(str::trim);
    let media_type = parts.next().unwrap_or_default();
    if !media_type.eq_ignore_ascii_case(VND_MEDIA_TYPE) {
        return false;
    }
    parts.any(|parameter| match parameter.split_once('=') {
        Some((name, value)) => {
            name.trim().eq_ignore_ascii_case("version") && value.trim().trim_matches('"') == "3"
        }
        None => false,
    })
}

/// The credentials a request authenticated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// `Bearer <access token>`.
    Bearer,
    /// `Basic base64(app_key:master_secret)`.
    BasicMaster,
    /// `Basic base64(app_key:app_secret)`.
    BasicApp,
}

/// Identifies the credentials in `Authorization`, or returns 401 with a text body.
pub(crate) fn authenticate(
    headers: &HeaderMap,
    config: &MockConfig,
) -> Result<Credentials, Rejection> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Rejection::Unauthorized("missing Authorization header"));
    };
    let credentials = value.to_str().unwrap_or_default().trim();
    let Some((scheme, secret)) = credentials.split_once(' ') else {
        return Err(Rejection::Unauthorized(
            "Authorization header is not `Bearer <token>` or `Basic <credentials>`",
        ));
    };
    let secret = secret.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return if secret == config.access_token {
            Ok(Credentials::Bearer)
        } else {
            Err(Rejection::Unauthorized("invalid bearer token"))
        };
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(Rejection::Unauthorized(
            "Authorization scheme must be Bearer or Basic",
        ));
    }

    let decoded = BASE64
        .decode(secret)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let Some((user, password)) = decoded.as_deref().and_then(|text| text.split_once(':')) else {
        return Err(Rejection::Unauthorized(
            "Basic credentials are not base64 of `app_key:secret`",
        ));
    };
    if user != config.app_key {
        return Err(Rejection::Unauthorized(
            "the Basic auth user name is not the project app key",
        ));
    }
    if password == config.master_secret {
        Ok(Credentials::BasicMaster)
    } else if password == config.app_secret {
        Ok(Credentials::BasicApp)
    } else {
        Err(Rejection::Unauthorized(
            "the Basic auth password is neither the master secret nor the app secret",
        ))
    }
}

/// Custom events accept only Bearer tokens: Basic auth gets 401 even with valid secrets.
pub(crate) fn require_bearer(credentials: Credentials) -> Result<(), Rejection> {
    match credentials {
        Credentials::Bearer => Ok(()),
        Credentials::BasicMaster | Credentials::BasicApp => Err(Rejection::Unauthorized(
            "custom events accept only a Bearer token, not Basic auth",
        )),
    }
}

/// Passes a Bearer token or the master secret for the named-user lookup, and rejects the app
/// secret.
pub(crate) fn require_read_access(credentials: Credentials) -> Result<(), Rejection> {
    match credentials {
        Credentials::Bearer | Credentials::BasicMaster => Ok(()),
        Credentials::BasicApp => Err(Rejection::Unauthorized(
            "the app secret cannot read named users; use the master secret or a Bearer token",
        )),
    }
}

/// Passes when `X-UA-Appkey` equals the configured app key, else 401 with a text body.
pub(crate) fn app_key(headers: &HeaderMap, config: &MockConfig) -> Result<(), Rejection> {
    match headers.get("x-ua-appkey").map(|value| value.to_str()) {
        Some(Ok(key)) if key.trim() == config.app_key => Ok(()),
        Some(_) => Err(Rejection::Unauthorized(
            "X-UA-Appkey does not match the project app key",
        )),
        None => Err(Rejection::Unauthorized("missing X-UA-Appkey header")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_variants_recognised() {
        let accepted = [
            "application/vnd.urbanairship+json; version=3",
            "application/vnd.urbanairship+json;version=3",
            "application/vnd.urbanairship+json; version=3;",
            "application/vnd.urbanairship+json ; version = 3",
            "text/html, application/vnd.urbanairship+json; version=3",
            "Application/VND.UrbanAirship+JSON; Version=\"3\"",
        ];

        for value in accepted {
            assert!(value.split(',').any(is_v3_media_range), "{value}");
        }
    }

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, authorization.parse().unwrap());
        headers
    }

    fn basic(user: &str, password: &str) -> String {
        format!("Basic {}", BASE64.encode(format!("{user}:{password}")))
    }

    #[test]
    fn credentials_identified() {
        let config = MockConfig::default();
        let identify = |value: &str| authenticate(&headers(value), &config);

        assert_eq!(
            identify("Bearer mock-access-token"),
            Ok(Credentials::Bearer)
        );
        assert_eq!(
            identify(&basic("mock-app-key", "mock-master-secret")),
            Ok(Credentials::BasicMaster)
        );
        assert_eq!(
            identify(&basic("mock-app-key", "mock-app-secret")),
            Ok(Credentials::BasicApp)
        );
    }

    #[test]
    fn wrong_credentials_unauthorized() {
        let config = MockConfig::default();
        let attempts = [
            "Bearer other".to_owned(),
            basic("other-key", "mock-master-secret"),
            basic("mock-app-key", "mock-access-token"),
            "Basic not-base64!".to_owned(),
            "Digest x".to_owned(),
            "mock-access-token".to_owned(),
        ];

        for value in attempts {
            assert!(
                matches!(
                    authenticate(&headers(&value), &config),
                    Err(Rejection::Unauthorized(_))
                ),
                "{value}"
            );
        }
        assert!(authenticate(&HeaderMap::new(), &config).is_err());
    }

    #[test]
    fn accept_without_version_3_rejected() {
        let rejected = [
            "application/json",
            "application/vnd.urbanairship+json",
            "application/vnd.urbanairship+json; version=2",
            "*/*",
            "",
        ];

        for value in rejected {
            assert!(!value.split(',').any(is_v3_media_range), "{value}");
        }
    }
}
