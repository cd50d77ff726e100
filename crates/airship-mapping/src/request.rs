//! The Airship requests the mapping produces, before any host, header or credential is added.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Characters left as they are in a path segment: RFC 3986 unreserved characters.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The Airship endpoints this destination writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `POST /api/named_users/tags`
    NamedUserTags,
    /// `POST /api/named_users/{id}/attributes`
    NamedUserAttributes,
    /// `POST /api/custom-events`
    CustomEvents,
}

/// One Airship API call: method, percent-encoded path without host, and JSON body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AirshipRequest {
    pub method: String,
    pub path: String,
    pub body: Value,
}

impl AirshipRequest {
    /// `POST /api/named_users/tags` with the given body.
    pub fn named_user_tags(body: Value) -> AirshipRequest {
        AirshipRequest {
            method: "POST".into(),
            path: "/api/named_users/tags".into(),
            body,
        }
    }

    /// `POST /api/named_users/{id}/attributes`, with the id encoded as one path segment.
    pub fn named_user_attributes(named_user_id: &str, body: Value) -> AirshipRequest {
        AirshipRequest {
            method: "POST".into(),
            path: format!(
                "/api/named_users/{}/attributes",
                encode_path_segment(named_user_id)
            ),
            body,
        }
    }

    /// `POST /api/custom-events` with a JSON array of events.
    pub fn custom_events(events: Vec<Value>) -> AirshipRequest {
        AirshipRequest {
            method: "POST".into(),
            path: "/api/custom-events".into(),
            body: Value::Array(events),
        }
    }

    /// Returns the endpoint the path addresses, or `None` for a path this destination never produces.
    pub fn endpoint(&self) -> Option<Endpoint> {
        let path = self.path.trim_end_matches('/');
        if path == "/api/named_users/tags" {
            Some(Endpoint::NamedUserTags)
        } else if path == "/api/custom-events" {
            Some(Endpoint::CustomEvents)
        } else if path.starts_with("/api/named_users/") && path.ends_with("/attributes") {
            Some(Endpoint::NamedUserAttributes)
        } else {
            None
        }
    }
}

/// Percent-encodes `segment` so it stays one URL path segment (`acct/42 #ü` → `acct%2F42%20%23%C3%BC`).
pub fn encode_path_segment(segment: &str) -> String {
    utf8_percent_encode(segment, PATH_SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segment_encodes_reserved_and_non_ascii() {
        assert_eq!(encode_path_segment("acct/42 #ü"), "acct%2F42%20%23%C3%BC");
        assert_eq!(encode_path_segment("a-b.c_d~e"), "a-b.c_d~e");
    }

    #[test]
    fn endpoint_accepts_trailing_slash() {
        let request = AirshipRequest {
            method: "POST".into(),
            path: "/api/custom-events/".into(),
            body: Value::Null,
        };
        assert_eq!(request.endpoint(), Some(Endpoint::CustomEvents));
    }
}
