//! Maps one message and sends its requests to Airship, in order, without retrying.

use airship_client::{AirshipClient, AirshipError, AirshipRequest, AirshipResponse};
use airship_mapping::{map_message, Mapped, Outcome, Settings};
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// One message after mapping and sending: the mapping result plus what happened to each request.
///
/// Serialises as the `map` output line of the message with a `delivery` object added.
#[derive(Debug)]
pub struct Delivered {
    /// The mapping result, unchanged.
    pub mapped: Mapped,
    /// One entry per request of a `sent` outcome, in sending order; empty for other outcomes.
    pub requests: Vec<RequestResult>,
}

/// One request with its delivery state.
#[derive(Debug)]
pub struct RequestResult {
    pub request: AirshipRequest,
    pub result: RequestState,
}

/// The state of one request after delivery.
#[derive(Debug)]
pub enum RequestState {
    /// Airship responded with a 2xx status.
    Accepted(AirshipResponse),
    /// Airship responded with another status, or could not be reached.
    Failed(AirshipError),
    /// Not sent, because an earlier request of the same message failed.
    NotSent,
}

/// The delivery result of a whole message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Airship accepted every request.
    Delivered,
    /// A request failed; later requests of the message were not sent.
    Failed,
    /// The mapping skipped the message, so nothing was sent.
    Skipped,
    /// The mapping found the message invalid, so nothing was sent.
    Invalid,
}

impl DeliveryStatus {
    /// Returns the snake_case name, as in the `delivery.status` field.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Skipped => "skipped",
            DeliveryStatus::Invalid => "invalid",
        }
    }
}

/// Maps `raw` and sends the resulting requests with `client`.
///
/// Returns no error: a mapping problem becomes a skipped or invalid outcome, and an Airship error
/// is recorded on the request that caused it.
pub async fn deliver_message(
    client: &dyn AirshipClient,
    raw: Value,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Delivered {
    let mapped = map_message(raw, settings, now);
    send_mapped(client, mapped).await
}

/// Sends the requests of a `sent` outcome in order, stopping at the first failure.
///
/// Requests after a failure are reported as [`RequestState::NotSent`], because Airship must apply
/// a message's requests in order (tags before attributes).
// NOTE: durable delivery (spool, retries, batching across messages) replaces this function; the
// front ends only see `Delivered`.
pub async fn send_mapped(client: &dyn AirshipClient, mapped: Mapped) -> Delivered {
    let mut requests = Vec::with_capacity(mapped.requests().len());
    let mut failed = false;

    for request in mapped.requests() {
        let result = if failed {
            RequestState::NotSent
        } else {
            send_one(client, mapped.message_id.as_deref(), request).await
        };
        failed |= matches!(result, RequestState::Failed(_));
        requests.push(RequestResult {
            request: request.clone(),
            result,
        });
    }

    Delivered { mapped, requests }
}

async fn send_one(
    client: &dyn AirshipClient,
    message_id: Option<&str>,
    request: &AirshipRequest,
) -> RequestState {
    match client.send(request).await {
        Ok(response) => {
            if response.warnings.is_empty() {
                tracing::debug!(
                    message_id,
                    path = %request.path,
                    status = response.status,
                    operation_id = response.operation_id.as_deref(),
                    "Airship accepted a request."
                );
            } else {
                tracing::warn!(
                    message_id,
                    path = %request.path,
                    operation_id = response.operation_id.as_deref(),
                    warnings = ?response.warnings,
                    "Airship accepted a request but skipped part of it."
                );
            }
            RequestState::Accepted(response)
        }
        Err(error) => {
            tracing::error!(
                message_id,
                path = %request.path,
                status = error.status(),
                retryable = error.is_retryable(),
                error = %error,
                "Airship request failed; the message is not delivered."
            );
            RequestState::Failed(error)
        }
    }
}

impl Delivered {
    /// Returns the delivery result of the whole message.
    pub fn status(&self) -> DeliveryStatus {
        match &self.mapped.outcome {
            Outcome::Skipped { .. } => DeliveryStatus::Skipped,
            Outcome::Invalid(_) => DeliveryStatus::Invalid,
            Outcome::Sent { .. } if self.error().is_some() => DeliveryStatus::Failed,
            Outcome::Sent { .. } => DeliveryStatus::Delivered,
        }
    }

    /// Returns the error of the request that failed, if one did.
    pub fn error(&self) -> Option<&AirshipError> {
        self.requests
            .iter()
            .find_map(|result| match &result.result {
                RequestState::Failed(error) => Some(error),
                RequestState::Accepted(_) | RequestState::NotSent => None,
            })
    }

    /// Returns the `delivery` object of the JSON form, for serialising on its own.
    pub fn report(&self) -> DeliveryReport<'_> {
        DeliveryReport { delivered: self }
    }
}

impl Serialize for Delivered {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Line<'a> {
            #[serde(flatten)]
            mapped: &'a Mapped,
            delivery: DeliveryReport<'a>,
        }

        Line {
            mapped: &self.mapped,
            delivery: self.report(),
        }
        .serialize(serializer)
    }
}

/// The `delivery` object: `{"status": ..., "requests": [...]}`.
///
/// Each request entry carries `method`, `path` and `result` (`accepted`, `failed` or `not_sent`);
/// accepted ones add `status`, `operation_id` and any `warnings`, failed ones add `error`.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryReport<'a> {
    delivered: &'a Delivered,
}

impl Serialize for DeliveryReport<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Report<'a> {
            status: DeliveryStatus,
            requests: Vec<RequestEntry<'a>>,
        }

        Report {
            status: self.delivered.status(),
            requests: self
                .delivered
                .requests
                .iter()
                .map(RequestEntry::new)
                .collect(),
        }
        .serialize(serializer)
    }
}

#[derive(Serialize)]
struct RequestEntry<'a> {
    method: &'a str,
    path: &'a str,
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation_id: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<DeliveryError>,
}

impl<'a> RequestEntry<'a> {
    fn new(result: &'a RequestResult) -> RequestEntry<'a> {
        let mut entry = RequestEntry {
            method: &result.request.method,
            path: &result.request.path,
            result: "not_sent",
            status: None,
            operation_id: None,
            warnings: &[],
            error: None,
        };
        match &result.result {
            RequestState::Accepted(response) => {
                entry.result = "accepted";
                entry.status = Some(response.status);
                entry.operation_id = Some(response.operation_id.as_deref());
                entry.warnings = &response.warnings;
            }
            RequestState::Failed(error) => {
                entry.result = "failed";
                entry.error = Some(DeliveryError::from(error));
            }
            RequestState::NotSent => {}
        }
        entry
    }
}

/// The serialisable form of an [`AirshipError`].
///
/// `kind` is one of `unauthorized`, `api`, `timeout`, `connect` and `invalid_request`, and
/// `message` is the error's sentence. The other fields come from Airship's error response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryError {
    pub kind: &'static str,
    pub message: String,
    pub retryable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
}

impl From<&AirshipError> for DeliveryError {
    fn from(error: &AirshipError) -> DeliveryError {
        let mut report = DeliveryError {
            kind: "api",
            message: error.to_string(),
            retryable: error.is_retryable(),
            status: error.status(),
            error: None,
            error_code: None,
            details: None,
            operation_id: None,
        };
        match error {
            AirshipError::Api {
                error,
                error_code,
                details,
                operation_id,
                ..
            } => {
                report.error = error.clone();
                report.error_code = *error_code;
                report.details = details.clone();
                report.operation_id = operation_id.clone();
            }
            AirshipError::Unauthorized { .. } => report.kind = "unauthorized",
            AirshipError::Timeout { .. } => report.kind = "timeout",
            AirshipError::Connect { .. } => report.kind = "connect",
            AirshipError::InvalidRequest { .. } => report.kind = "invalid_request",
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use airship_client::InMemoryClient;
    use airship_mapping::{Invalid, InvalidReason};
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-05-02T12:00:00Z".parse().unwrap()
    }

    fn sent(requests: Vec<AirshipRequest>) -> Mapped {
        Mapped {
            message_id: Some("m-1".into()),
            message_type: Some("identify".into()),
            outcome: Outcome::Sent { requests },
            warnings: Vec::new(),
        }
    }

    fn tags() -> AirshipRequest {
        AirshipRequest::named_user_tags(json!({"audience": {"named_user_id": ["jill"]}}))
    }

    fn attributes() -> AirshipRequest {
        AirshipRequest::named_user_attributes("jill", json!({"attributes": []}))
    }

    fn bad_request() -> AirshipError {
        AirshipError::Api {
            status: 400,
            error: Some("Tag group not found".into()),
            error_code: Some(40001),
            details: Some(json!({"error": "group crm does not exist"})),
            operation_id: Some("op-err".into()),
            body: String::new(),
            retry_after: None,
        }
    }

    #[tokio::test]
    async fn every_request_accepted_is_delivered() {
        let client = InMemoryClient::new();

        let delivered = send_mapped(&client, sent(vec![tags(), attributes()])).await;

        assert_eq!(delivered.status(), DeliveryStatus::Delivered);
        assert_eq!(client.requests(), vec![tags(), attributes()]);
        assert_eq!(
            serde_json::to_value(delivered.report()).unwrap(),
            json!({"status": "delivered", "requests": [
                {"method": "POST", "path": "/api/named_users/tags", "result": "accepted",
                 "status": 200, "operation_id": "00000000-0000-4000-8000-000000000001"},
                {"method": "POST", "path": "/api/named_users/jill/attributes", "result": "accepted",
                 "status": 200, "operation_id": "00000000-0000-4000-8000-000000000002"},
            ]})
        );
    }

    #[tokio::test]
    async fn failure_stops_later_requests() {
        let client = InMemoryClient::new();
        client.push_response(Err(bad_request()));

        let delivered = send_mapped(&client, sent(vec![tags(), attributes()])).await;

        assert_eq!(delivered.status(), DeliveryStatus::Failed);
        assert_eq!(client.requests(), vec![tags()]);
        let report = serde_json::to_value(delivered.report()).unwrap();
        assert_eq!(report["status"], "failed");
        assert_eq!(
            report["requests"][1],
            json!({"method": "POST", "path": "/api/named_users/jill/attributes", "result": "not_sent"})
        );
        let failed = &report["requests"][0];
        assert_eq!(failed["result"], "failed");
        assert_eq!(
            failed["error"],
            json!({
                "kind": "api",
                "message": bad_request().to_string(),
                "retryable": false,
                "status": 400,
                "error": "Tag group not found",
                "error_code": 40001,
                "details": {"error": "group crm does not exist"},
                "operation_id": "op-err"
            })
        );
    }

    #[tokio::test]
    async fn accepted_warnings_are_reported() {
        let client = InMemoryClient::new();
        client.push_response(Ok(AirshipResponse {
            status: 200,
            operation_id: None,
            warnings: vec!["crm".into()],
            body: json!({"ok": true, "tag_warnings": "crm"}),
        }));

        let delivered = send_mapped(&client, sent(vec![tags()])).await;

        assert_eq!(
            serde_json::to_value(delivered.report()).unwrap()["requests"][0],
            json!({"method": "POST", "path": "/api/named_users/tags", "result": "accepted",
                   "status": 200, "operation_id": null, "warnings": ["crm"]})
        );
    }

    #[tokio::test]
    async fn json_form_is_map_line_with_delivery() {
        let client = InMemoryClient::new();
        let mapped = sent(vec![tags()]);
        let map_line = serde_json::to_value(&mapped).unwrap();

        let delivered = send_mapped(&client, mapped).await;

        let mut expected = map_line;
        expected["delivery"] = serde_json::to_value(delivered.report()).unwrap();
        assert_eq!(serde_json::to_value(&delivered).unwrap(), expected);
    }

    #[tokio::test]
    async fn unsupported_type_is_skipped_without_requests() {
        let client = InMemoryClient::new();
        let raw = json!({"type": "page", "messageId": "m-2", "userId": "jill"});

        let delivered = deliver_message(&client, raw, &Settings::default(), now()).await;

        assert_eq!(delivered.status(), DeliveryStatus::Skipped);
        assert!(client.requests().is_empty());
        let line = serde_json::to_value(&delivered).unwrap();
        assert_eq!(line["outcome"], "skipped");
        assert_eq!(line["reason"], "unsupported_type");
        assert_eq!(
            line["delivery"],
            json!({"status": "skipped", "requests": []})
        );
    }

    #[tokio::test]
    async fn invalid_outcome_is_not_sent() {
        let client = InMemoryClient::new();
        let mapped = Mapped {
            outcome: Outcome::Invalid(Invalid {
                reason: InvalidReason::InvalidUserId,
                field: "userId".into(),
                message: "userId has surrounding whitespace".into(),
            }),
            ..sent(Vec::new())
        };

        let delivered = send_mapped(&client, mapped).await;

        assert_eq!(delivered.status(), DeliveryStatus::Invalid);
        assert!(delivered.error().is_none());
        assert!(client.requests().is_empty());
    }
}
