//! Header checks Airship makes before it looks at the body: `Accept`, Bearer auth and app key.

use axum::http::{header, HeaderMap, StatusCode};

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

/// Passes when `Authorization` is `Bearer <configured token>`, else 401 with a text body.
pub(crate) fn bearer(headers: &HeaderMap, config: &MockConfig) -> Result<(), Rejection> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Rejection::Unauthorized("missing Authorization header"));
    };
    let credentials = value.to_str().unwrap_or_default().trim();
    let Some((scheme, token)) = credentials.split_once(' ') else {
        return Err(Rejection::Unauthorized(
            "Authorization header is not `Bearer <token>`",
        ));
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Rejection::Unauthorized(
            "Authorization scheme must be Bearer",
        ));
    }
    if token.trim() != config.access_token {
        return Err(Rejection::Unauthorized("invalid bearer token"));
    }
    Ok(())
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
