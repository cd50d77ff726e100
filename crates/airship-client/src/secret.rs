//! A credential wrapper whose `Debug` and `Display` never show the value.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// A credential such as the Airship access token.
///
/// `Debug` and `Display` print `[redacted]`, so logging a struct that contains it does not show
/// the value. [`Secret::expose`] is the only accessor for it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// Returns the raw value. Call it only where the credential is put on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

impl FromStr for Secret {
    type Err = Infallible;

    fn from_str(value: &str) -> Result<Secret, Infallible> {
        Ok(Secret(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_value() {
        let secret = Secret::new("tok-123".into());

        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(secret.to_string(), "[redacted]");
    }

    #[test]
    fn expose_returns_value() {
        let secret: Secret = "tok-123".parse().unwrap();

        assert_eq!(secret.expose(), "tok-123");
    }

    #[test]
    fn deserializes_from_plain_string() {
        let secret: Secret = serde_json::from_str("\"tok-123\"").unwrap();

        assert_eq!(secret.expose(), "tok-123");
    }
}
