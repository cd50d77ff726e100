//! Finds the Segment write key of a call: the Basic auth user name, else `writeKey` in the body.

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

use crate::error::{ApiError, Unauthorized};
use crate::state::Auth;

/// Result of the `Authorization` header check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderCheck {
    /// The call is authorised, by the header or because auth is disabled.
    Authorised,
    /// The call has no `Authorization` header, so the body's `writeKey` decides.
    NeedsBodyKey,
}

/// Checks the `Authorization` header before the body is read, so a wrong key is rejected cheaply.
pub(crate) fn check_header(auth: &Auth, headers: &HeaderMap) -> Result<HeaderCheck, ApiError> {
    if !auth.is_required() {
        return Ok(HeaderCheck::Authorised);
    }
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(HeaderCheck::NeedsBodyKey);
    };
    let key = value
        .to_str()
        .ok()
        .and_then(basic_user_name)
        .ok_or(ApiError::Unauthorized(Unauthorized::MalformedHeader))?;
    if auth.accepts(&key) {
        Ok(HeaderCheck::Authorised)
    } else {
        Err(ApiError::Unauthorized(Unauthorized::InvalidKey))
    }
}

/// Checks the body's `writeKey` when the header did not settle the call.
pub(crate) fn check_body(auth: &Auth, check: HeaderCheck, body: &Value) -> Result<(), ApiError> {
    if check == HeaderCheck::Authorised {
        return Ok(());
    }
    match body.get("writeKey").and_then(Value::as_str) {
        Some(key) if auth.accepts(key) => Ok(()),
        Some(_) => Err(ApiError::Unauthorized(Unauthorized::InvalidKey)),
        None => Err(ApiError::Unauthorized(Unauthorized::MissingKey)),
    }
}

/// Returns the user name of a `Basic` credential. Segment sends the write key as the user name
/// with an empty password. A credential without `:` is taken whole as the key.
fn basic_user_name(value: &str) -> Option<String> {
    let (scheme, credentials) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(credentials.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let user = match decoded.split_once(':') {
        Some((user, _password)) => user.to_owned(),
        None => decoded,
    };
    Some(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_name_is_the_key() {
        let header = format!("Basic {}", STANDARD.encode("wk-1:"));

        assert_eq!(basic_user_name(&header).as_deref(), Some("wk-1"));
    }

    #[test]
    fn credential_without_colon_is_the_key() {
        let header = format!("basic {}", STANDARD.encode("wk-1"));

        assert_eq!(basic_user_name(&header).as_deref(), Some("wk-1"));
    }

    #[test]
    fn other_schemes_are_not_basic() {
        assert_eq!(basic_user_name("Bearer abc"), None);
        assert_eq!(basic_user_name("Basic not-base64!"), None);
        assert_eq!(basic_user_name("Basic"), None);
    }
}
