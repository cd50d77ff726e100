//! Reads a request body within the size limit, decompresses gzip and parses the JSON.

use std::future::poll_fn;
use std::io::Read;
use std::pin::Pin;

use axum::body::{Body, HttpBody};
use axum::http::{header, HeaderMap};
use flate2::read::MultiGzDecoder;
use serde_json::Value;

use crate::error::{ApiError, BodySize};
use crate::limits::MAX_REQUEST_BYTES;

/// The body's `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
}

/// Reads the whole body as JSON, rejecting it when it is over [`MAX_REQUEST_BYTES`] before or
/// after decompression.
pub(crate) async fn read_json(headers: &HeaderMap, body: Body) -> Result<Value, ApiError> {
    let encoding = content_encoding(headers)?;
    if let Some(length) = content_length(headers) {
        if length > MAX_REQUEST_BYTES as u64 {
            return Err(ApiError::RequestTooLarge {
                size: BodySize::Exact(length),
            });
        }
    }

    let raw = read_limited(body).await?;
    let bytes = match encoding {
        Encoding::Identity => raw,
        Encoding::Gzip => gunzip(&raw)?,
    };

    serde_json::from_slice(&bytes).map_err(|error| ApiError::MalformedJson {
        reason: error.to_string(),
    })
}

fn content_encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::UnsupportedEncoding {
            encoding: String::from_utf8_lossy(value.as_bytes()).into_owned(),
        })?
        .trim();
    if text.is_empty() || text.eq_ignore_ascii_case("identity") {
        Ok(Encoding::Identity)
    } else if text.eq_ignore_ascii_case("gzip") || text.eq_ignore_ascii_case("x-gzip") {
        Ok(Encoding::Gzip)
    } else {
        Err(ApiError::UnsupportedEncoding {
            encoding: text.to_owned(),
        })
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Collects the body, stopping as soon as it passes the limit so an oversized body without
/// `Content-Length` is never held in memory.
async fn read_limited(mut body: Body) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(frame) = poll_fn(|context| Pin::new(&mut body).poll_frame(context)).await {
        let frame = frame.map_err(|error| ApiError::ReadBody {
            reason: error.to_string(),
        })?;
        let Ok(data) = frame.into_data() else {
            // Trailers carry no body bytes.
            continue;
        };
        if bytes.len() + data.len() > MAX_REQUEST_BYTES {
            return Err(ApiError::RequestTooLarge {
                size: BodySize::OverLimit,
            });
        }
        bytes.extend_from_slice(&data);
    }
    Ok(bytes)
}

/// Decompresses at most one byte more than the limit, so a small body that inflates to gigabytes
/// (a decompression bomb) costs no more than the limit.
fn gunzip(compressed: &[u8]) -> Result<Vec<u8>, ApiError> {
    let mut decompressed = Vec::new();
    MultiGzDecoder::new(compressed)
        .take(MAX_REQUEST_BYTES as u64 + 1)
        .read_to_end(&mut decompressed)
        .map_err(|error| ApiError::InvalidGzip {
            reason: error.to_string(),
        })?;
    if decompressed.len() > MAX_REQUEST_BYTES {
        return Err(ApiError::RequestTooLarge {
            size: BodySize::OverLimitDecompressed,
        });
    }
    Ok(decompressed)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use axum::http::HeaderValue;
    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn gzip_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        headers
    }

    #[tokio::test]
    async fn gzip_body_is_decompressed() {
        let body = Body::from(gzip(br#"{"type":"track"}"#));

        let value = read_json(&gzip_headers(), body).await.unwrap();

        assert_eq!(value, serde_json::json!({"type": "track"}));
    }

    #[tokio::test]
    async fn decompression_stops_past_the_limit() {
        // 20 MB of zeros compresses to about 20 KB.
        let bomb = gzip(&vec![0u8; 20 * 1024 * 1024]);
        assert!(bomb.len() < MAX_REQUEST_BYTES);

        let error = read_json(&gzip_headers(), Body::from(bomb))
            .await
            .unwrap_err();

        assert_eq!(
            error,
            ApiError::RequestTooLarge {
                size: BodySize::OverLimitDecompressed
            }
        );
    }

    #[tokio::test]
    async fn body_without_length_stops_past_the_limit() {
        let body = Body::from(vec![b' '; MAX_REQUEST_BYTES + 1]);

        let error = read_json(&HeaderMap::new(), body).await.unwrap_err();

        assert_eq!(
            error,
            ApiError::RequestTooLarge {
                size: BodySize::OverLimit
            }
        );
    }

    #[tokio::test]
    async fn body_at_the_limit_is_read() {
        let mut text = vec![b' '; MAX_REQUEST_BYTES - 2];
        text.extend_from_slice(b"{}");

        let value = read_json(&HeaderMap::new(), Body::from(text))
            .await
            .unwrap();

        assert_eq!(value, serde_json::json!({}));
    }

    #[tokio::test]
    async fn unknown_encoding_is_unsupported() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));

        let error = read_json(&headers, Body::from("{}")).await.unwrap_err();

        assert_eq!(
            error,
            ApiError::UnsupportedEncoding {
                encoding: "br".into()
            }
        );
    }
}
