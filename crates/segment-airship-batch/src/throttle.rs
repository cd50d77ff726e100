//! A client wrapper that caps the requests in flight (`--concurrency`) and the requests started
//! per second (`--rate`), retries included.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use airship_client::{AirshipClient, AirshipError, AirshipRequest, AirshipResponse};
use async_trait::async_trait;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Forwards to `inner` within the limits.
#[derive(Debug)]
pub struct Throttled {
    inner: Arc<dyn AirshipClient>,
    in_flight: Semaphore,
    /// Gap between request starts, and the earliest start of the next request.
    pacing: Option<(Duration, Mutex<Instant>)>,
}

impl Throttled {
    /// Allows `concurrency` requests at once and, with `rate`, at most that many starts per
    /// second, spaced evenly.
    pub fn new(inner: Arc<dyn AirshipClient>, concurrency: usize, rate: Option<f64>) -> Throttled {
        Throttled {
            inner,
            in_flight: Semaphore::new(concurrency.max(1)),
            pacing: rate.map(|rate| {
                (
                    Duration::from_secs_f64(1.0 / rate),
                    Mutex::new(Instant::now()),
                )
            }),
        }
    }

    /// Reserves the next start time and returns it.
    fn next_start(&self) -> Option<Instant> {
        let (gap, next) = self.pacing.as_ref()?;
        let mut next = next.lock().expect("the pacing lock is never poisoned");
        let start = (*next).max(Instant::now());
        *next = start + *gap;
        Some(start)
    }
}

#[async_trait]
impl AirshipClient for Throttled {
    async fn send(&self, request: &AirshipRequest) -> Result<AirshipResponse, AirshipError> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        if let Some(start) = self.next_start() {
            tokio::time::sleep_until(start).await;
        }
        self.inner.send(request).await
    }
}

#[cfg(test)]
mod tests {
    use airship_client::InMemoryClient;
    use airship_mapping::AirshipRequest;
    use serde_json::json;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rate_spaces_request_starts() {
        let inner = Arc::new(InMemoryClient::new());
        let client = Throttled::new(inner.clone(), 4, Some(10.0));
        let request = AirshipRequest::custom_events(vec![json!({})]);
        let started = Instant::now();

        for _ in 0..5 {
            client.send(&request).await.unwrap();
        }

        // Five starts at 10 per second: the first at once, the fifth 400 ms later.
        assert_eq!(started.elapsed(), Duration::from_millis(400));
        assert_eq!(inner.requests().len(), 5);
    }
}
