//! Segment's HTTP tracking-API limits, which this service enforces the same way.

/// Maximum size of one message, serialised as compact JSON: 32 KB.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;

/// Maximum size of one request body after gzip decompression: 500 KB.
pub const MAX_REQUEST_BYTES: usize = 500 * 1024;

/// Maximum number of messages in one `/v1/batch` call.
pub const MAX_BATCH_MESSAGES: usize = 2_500;

/// Returns the number of bytes `value` takes as compact JSON, without building the string.
pub(crate) fn serialized_len(value: &serde_json::Value) -> usize {
    let mut counter = ByteCounter(0);
    // Writing to a counter cannot fail, and a `Value` always serialises.
    serde_json::to_writer(&mut counter, value).expect("a JSON value serialises");
    counter.0
}

struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn serialized_len_matches_compact_json() {
        let value = json!({"type": "track", "event": "Ünïcode", "properties": {"n": 1.50}});

        assert_eq!(
            serialized_len(&value),
            serde_json::to_string(&value).unwrap().len()
        );
    }
}
