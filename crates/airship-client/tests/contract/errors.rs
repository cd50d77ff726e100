//! Every error class `LiveClient` reports, with its retry decision: rejected requests (400, 404,
//! 405, 413), credentials (401), throttling and server errors (429, 500, 503), dropped
//! connections, timeouts and refused connections.
//!
//! 406 is not covered: the client always sends the `Accept` header Airship requires.

use std::time::Duration;

use airship_client::{AirshipClient, AirshipError, AirshipRequest, Secret};
use airship_mock::InjectedFault;
use serde_json::json;

use crate::target::Target;

fn tags_request(target: &Target) -> AirshipRequest {
    AirshipRequest::named_user_tags(json!({
        "audience": {"named_user_id": [target.named_user]},
        "add": {&target.tag_group: ["contract_error_class"]}
    }))
}

fn event_request(target: &Target, name: &str) -> AirshipRequest {
    AirshipRequest::custom_events(vec![json!({
        "user": {"named_user_id": target.named_user},
        "body": {"name": name}
    })])
}

#[tokio::test]
async fn invalid_body_is_400_api_error() {
    let target = Target::start().await;
    let client = target.client();

    let error = client
        .send(&event_request(&target, "Contract Test Upper Case"))
        .await
        .unwrap_err();

    let AirshipError::Api {
        status,
        error_code,
        operation_id,
        ..
    } = &error
    else {
        panic!("expected Api, got {error:?}");
    };
    assert_eq!(*status, 400, "{error}");
    assert!(error_code.is_some_and(|code| code / 100 == 400), "{error}");
    assert!(!error.is_retryable());
    if target.is_mock() {
        assert!(operation_id.is_some(), "{error}");
        assert!(error.to_string().contains("body[0].body.name"), "{error}");
    }
}

#[tokio::test]
async fn wrong_token_is_unauthorized() {
    let target = Target::start().await;
    let client = target.client_with(|mut config| {
        config.access_token = Secret::new("contract-test-wrong-token".into());
        config
    });

    for request in [
        tags_request(&target),
        event_request(&target, "contract_test"),
    ] {
        let error = client.send(&request).await.unwrap_err();

        assert!(
            matches!(error, AirshipError::Unauthorized { .. }),
            "{}: {error:?}",
            request.path
        );
        assert!(!error.is_retryable());
        assert!(!format!("{error} {error:?}").contains("contract-test-wrong-token"));
    }
}

#[tokio::test]
async fn wrong_app_key_on_custom_events_is_unauthorized() {
    let target = Target::start().await;
    let client = target.client_with(|mut config| {
        config.app_key = "contract-test-wrong-app-key".into();
        config
    });

    let error = client
        .send(&event_request(&target, "contract_test"))
        .await
        .unwrap_err();

    assert!(
        matches!(error, AirshipError::Unauthorized { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn unknown_path_is_404_api_error() {
    let target = Target::start().await;
    let mut request = tags_request(&target);
    request.path = "/api/contract-test-unknown".into();

    let error = target.client().send(&request).await.unwrap_err();

    assert_eq!(error.status(), Some(404), "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn refused_connection_is_connect_error() {
    let target = Target::start().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let client = target.client_with(|config| config.with_base_url(format!("http://{closed}")));

    let error = client.send(&tags_request(&target)).await.unwrap_err();

    assert!(matches!(error, AirshipError::Connect { .. }), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn wrong_method_is_405_api_error() {
    let target = Target::start().await;
    let Some(_mock) = target.mock_only("wrong_method_is_405_api_error") else {
        return;
    };
    let mut request = tags_request(&target);
    // POST to the lookup route, which takes GET only.
    request.path = "/api/named_users".into();

    let error = target.client().send(&request).await.unwrap_err();

    assert_eq!(error.status(), Some(405), "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn body_over_5_mib_is_413_api_error() {
    let target = Target::start().await;
    let Some(_mock) = target.mock_only("body_over_5_mib_is_413_api_error") else {
        return;
    };
    let huge = "x".repeat(5 * 1024 * 1024);
    let request = AirshipRequest::custom_events(vec![json!({
        "user": {"named_user_id": target.named_user},
        "body": {"name": "contract_test", "properties": {"blob": huge}}
    })]);

    let error = target.client().send(&request).await.unwrap_err();

    assert_eq!(error.status(), Some(413), "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn too_many_requests_carries_retry_after() {
    let target = Target::start().await;
    let Some(mock) = target.mock_only("too_many_requests_carries_retry_after") else {
        return;
    };
    mock.mock().fail_requests(429, Some(2), Some(3)).unwrap();
    let client = target.client();

    for _ in 0..2 {
        let error = client.send(&tags_request(&target)).await.unwrap_err();

        assert_eq!(error.status(), Some(429), "{error}");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
        assert!(error.is_retryable());
    }
    let recovered = client.send(&tags_request(&target)).await.unwrap();

    assert_eq!(recovered.status, 200);
    let statuses: Vec<Option<u16>> = mock.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(429), Some(429), Some(200)]);
}

#[tokio::test]
async fn server_errors_are_retryable() {
    let target = Target::start().await;
    let Some(mock) = target.mock_only("server_errors_are_retryable") else {
        return;
    };
    mock.mock().fail_requests(500, Some(1), None).unwrap();
    mock.mock().fail_requests(503, Some(1), Some(1)).unwrap();
    let client = target.client();

    let internal = client.send(&tags_request(&target)).await.unwrap_err();
    let unavailable = client.send(&tags_request(&target)).await.unwrap_err();

    assert_eq!(internal.status(), Some(500), "{internal}");
    assert_eq!(internal.retry_after(), None);
    assert!(internal.is_retryable());
    assert_eq!(unavailable.status(), Some(503), "{unavailable}");
    assert_eq!(unavailable.retry_after(), Some(Duration::from_secs(1)));
    assert!(unavailable.is_retryable());
    assert!(matches!(
        &internal,
        AirshipError::Api {
            error_code: Some(50000),
            operation_id: Some(_),
            ..
        }
    ));
}

#[tokio::test]
async fn dropped_connection_is_retryable_connect_error() {
    let target = Target::start().await;
    let Some(mock) = target.mock_only("dropped_connection_is_retryable_connect_error") else {
        return;
    };
    mock.mock().drop_connections(1).unwrap();
    let client = target.client();

    let error = client
        .send(&event_request(&target, "contract_test"))
        .await
        .unwrap_err();
    let retried = client
        .send(&event_request(&target, "contract_test"))
        .await
        .unwrap();

    assert!(matches!(error, AirshipError::Connect { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(retried.status, 200);
    let faults: Vec<Option<InjectedFault>> = mock.requests().iter().map(|r| r.fault).collect();
    assert_eq!(faults, [Some(InjectedFault::DroppedConnection), None]);
    // The dropped event was read but not handled, so only the retry reached the profile.
    let user = mock.named_user(&target.named_user).unwrap();
    assert_eq!(user.custom_events.len(), 1);
}

#[tokio::test]
async fn slow_answer_is_timeout() {
    let target = Target::start().await;
    let Some(mock) = target.mock_only("slow_answer_is_timeout") else {
        return;
    };
    mock.mock().set_latency(Duration::from_secs(60));
    let timeout = Duration::from_secs(1);
    let client = target.client_with(|config| config.with_timeout(timeout));

    let error = client.send(&tags_request(&target)).await.unwrap_err();

    assert!(
        matches!(error, AirshipError::Timeout { timeout: limit } if limit == timeout),
        "{error:?}"
    );
    assert!(error.is_retryable());
}
