//! Segment tracking-API messages as they arrive at a destination.
//!
//! Messages keep every field they were sent with: fields this crate does not name land in `extra`,
//! and numbers stay as their original digits because the workspace enables serde_json's
//! `arbitrary_precision` feature. Values whose type Segment senders do not agree on (`userId`,
//! timestamps, `groupId`) stay `serde_json::Value`, so the mapping can name the field when it
//! rejects one.

mod batch;
mod message;

pub use batch::{parse_batch, Batch, BATCH_ENVELOPE_KEYS};
pub use message::{
    json_type_name, Alias, Common, Group, Identify, Message, MessageType, ModelError, Page, Screen,
    Track,
};
