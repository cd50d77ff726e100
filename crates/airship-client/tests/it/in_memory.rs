//! `InMemoryClient`: recording and scripted responses.

use std::sync::Arc;

use airship_client::{
    AirshipClient, AirshipError, AirshipRequest, AirshipResponse, InMemoryClient,
};
use serde_json::json;

fn tags_request(user: &str) -> AirshipRequest {
    AirshipRequest::named_user_tags(json!({
        "audience": {"named_user_id": [user]},
        "add": {"segment": ["plan_pro"]}
    }))
}

#[tokio::test]
async fn records_requests_in_order() {
    let client = InMemoryClient::new();

    client.send(&tags_request("u-1")).await.unwrap();
    client.send(&tags_request("u-2")).await.unwrap();

    assert_eq!(
        client.requests(),
        [tags_request("u-1"), tags_request("u-2")]
    );
}

#[tokio::test]
async fn default_answer_is_ok_with_distinct_operation_ids() {
    let client = InMemoryClient::new();

    let first = client.send(&tags_request("u-1")).await.unwrap();
    let second = client.send(&tags_request("u-1")).await.unwrap();

    assert_eq!(first.status, 200);
    assert_eq!(first.body["ok"], json!(true));
    assert_eq!(
        first.body["operation_id"].as_str(),
        first.operation_id.as_deref()
    );
    assert_ne!(first.operation_id, second.operation_id);
    assert_eq!(first.operation_id.as_deref().map(str::len), Some(36));
}

#[tokio::test]
async fn scripted_answers_used_in_order_before_default() {
    let client = InMemoryClient::new();
    let warned = AirshipResponse {
        status: 200,
        operation_id: Some("op-1".into()),
        warnings: vec!["crm".into()],
        body: json!({"ok": true, "tag_warnings": "crm"}),
    };
    client.push_response(Err(AirshipError::Timeout {
        timeout: std::time::Duration::from_secs(1),
    }));
    client.push_response(Ok(warned.clone()));

    let first = client.send(&tags_request("u-1")).await;
    let second = client.send(&tags_request("u-1")).await;
    let third = client.send(&tags_request("u-1")).await;

    assert!(matches!(first, Err(AirshipError::Timeout { .. })));
    assert_eq!(second.unwrap(), warned);
    assert!(third.unwrap().operation_id.is_some());
    assert_eq!(client.requests().len(), 3);
}

#[tokio::test]
async fn usable_as_shared_trait_object() {
    let memory = Arc::new(InMemoryClient::new());
    let client: Arc<dyn AirshipClient> = memory.clone();

    client.send(&tags_request("u-1")).await.unwrap();
    memory.clear_requests();

    assert!(memory.requests().is_empty());
}
