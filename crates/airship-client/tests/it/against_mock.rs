//! `LiveClient` against the `airship-mock` server: the headers and paths it sends are the ones
//! the mock's Airship checks accept.

use airship_client::{
    AirshipClient, AirshipConfig, AirshipError, AirshipRequest, DataCenter, LiveClient,
};
use airship_mock::{MockConfig, RunningMock};
use serde_json::json;

async fn start_mock() -> RunningMock {
    airship_mock::spawn(MockConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn client_for(mock: &RunningMock, access_token: &str) -> LiveClient {
    let defaults = MockConfig::default();
    let config = AirshipConfig::new(DataCenter::Us, defaults.app_key, access_token)
        .with_base_url(mock.base_url());
    LiveClient::new(config).unwrap()
}

#[tokio::test]
async fn all_three_endpoints_accepted() {
    let mock = start_mock().await;
    let client = client_for(&mock, &MockConfig::default().access_token);
    let requests = [
        AirshipRequest::custom_events(vec![json!({
            "user": {"named_user_id": "u-42"},
            "body": {"name": "order_completed"}
        })]),
        AirshipRequest::named_user_tags(json!({
            "audience": {"named_user_id": ["u-42"]},
            "add": {"segment-integration": ["plan_pro"]}
        })),
        AirshipRequest::named_user_attributes(
            "acct/42 #ü",
            json!({"attributes": [{"action": "set", "key": "first_name", "value": "Ada"}]}),
        ),
    ];

    for request in &requests {
        let response = client.send(request).await.unwrap();

        assert_eq!(response.status, 200, "{}", request.path);
        assert!(response.operation_id.is_some(), "{}", request.path);
    }
    let paths: Vec<String> = mock
        .requests()
        .into_iter()
        .map(|recorded| recorded.path)
        .collect();
    assert_eq!(
        paths,
        [
            "/api/custom-events",
            "/api/named_users/tags",
            "/api/named_users/acct%2F42%20%23%C3%BC/attributes",
        ]
    );
}

#[tokio::test]
async fn wrong_token_is_unauthorized() {
    let mock = start_mock().await;
    let client = client_for(&mock, "not-the-mock-token");
    let request = AirshipRequest::named_user_tags(json!({
        "audience": {"named_user_id": ["u-42"]},
        "add": {"segment-integration": ["plan_pro"]}
    }));

    let error = client.send(&request).await.unwrap_err();

    assert!(
        matches!(&error, AirshipError::Unauthorized { body, .. } if body.starts_with("Unauthorized")),
        "{error:?}"
    );
}

#[tokio::test]
async fn mock_400_parsed_into_api_error() {
    let mock = start_mock().await;
    let client = client_for(&mock, &MockConfig::default().access_token);

    let error = client
        .send(&AirshipRequest::custom_events(Vec::new()))
        .await
        .unwrap_err();

    let AirshipError::Api {
        status,
        error_code,
        details,
        operation_id,
        ..
    } = &error
    else {
        panic!("expected Api, got {error:?}");
    };
    assert_eq!(*status, 400);
    assert_eq!(*error_code, Some(40000));
    assert_eq!(details.as_ref().unwrap()["path"], json!("body"));
    assert!(operation_id.is_some());
    assert!(!error.is_retryable());
}
