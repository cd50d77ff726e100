//! Reads Segment messages from files or standard input: NDJSON, a JSON array, or a batch object.

use std::io::Read;
use std::path::{Path, PathBuf};

use airship_mapping::{InvalidReason, Mapped};
use segment_model::parse_batch;
use serde_json::Value;

/// One input: a file, or standard input for `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    /// Returns the sources named on the command line, or standard input when none is named.
    pub(crate) fn from_args(files: &[PathBuf]) -> Vec<Source> {
        if files.is_empty() {
            return vec![Source::Stdin];
        }
        files
            .iter()
            .map(|file| {
                if file == Path::new("-") {
                    Source::Stdin
                } else {
                    Source::File(file.clone())
                }
            })
            .collect()
    }

    /// Returns the name used for this input in messages.
    pub(crate) fn name(&self) -> String {
        match self {
            Source::Stdin => "standard input".to_owned(),
            Source::File(path) => path.display().to_string(),
        }
    }

    /// Reads the whole input as UTF-8 text. Gzip input gets an error that names the tool that
    /// reads it.
    pub(crate) fn read(&self) -> std::io::Result<String> {
        let bytes = match self {
            Source::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin().lock().read_to_end(&mut bytes)?;
                bytes
            }
            Source::File(path) => std::fs::read(path)?,
        };
        if bytes.starts_with(&[0x1f, 0x8b]) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the input is gzip-compressed, which this command does not read; use `segment-airship-batch --dry-run` (same output) or decompress it first",
            ));
        }
        String::from_utf8(bytes)
            .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error))
    }
}

/// One entry of an input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// A JSON value to map as a message.
    Message(Value),
    /// Text that is not JSON, already turned into its `invalid` outcome.
    Unreadable(Mapped),
}

/// Splits the text of one input into messages.
///
/// The format is detected from the content. Text starting with `[` is one JSON array of messages.
/// Text that parses as one JSON object with a `batch` array is a batch, and the envelope's
/// `context` and `integrations` apply to every message. Any other single JSON object is one
/// message. Everything else is NDJSON: one message per line, with blank lines skipped.
pub(crate) fn split_messages(text: &str, name: &str) -> Vec<Item> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return match serde_json::from_str::<Vec<Value>>(text) {
            Ok(messages) => messages.into_iter().map(Item::Message).collect(),
            Err(error) => vec![Item::Unreadable(unreadable(format!(
                "{name} starts with `[` but is not a valid JSON array of messages: {error}"
            )))],
        };
    }
    if trimmed.starts_with('{') {
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            return whole_object(value);
        }
    }
    split_lines(text, name)
}

fn whole_object(value: Value) -> Vec<Item> {
    if value.get("batch").is_some_and(Value::is_array) {
        if let Ok(batch) = parse_batch(value.clone()) {
            return batch.messages.into_iter().map(Item::Message).collect();
        }
    }
    vec![Item::Message(value)]
}

fn split_lines(text: &str, name: &str) -> Vec<Item> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| match serde_json::from_str(line) {
            Ok(message) => Item::Message(message),
            Err(error) => Item::Unreadable(unreadable(format!(
                "line {} of {name} is not valid JSON: {} at column {}",
                index + 1,
                reason_without_position(&error),
                error.column()
            ))),
        })
        .collect()
}

fn unreadable(message: String) -> Mapped {
    Mapped::unreadable(InvalidReason::MalformedJson, message)
}

/// serde_json's message without its " at line L column C" suffix, because within one line of
/// NDJSON the line number is always 1 and would contradict the file's line number.
fn reason_without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use airship_mapping::Outcome;
    use serde_json::json;

    use super::*;

    fn messages(text: &str) -> Vec<Value> {
        split_messages(text, "events.ndjson")
            .into_iter()
            .map(|item| match item {
                Item::Message(message) => message,
                Item::Unreadable(mapped) => panic!("expected a message, got {mapped:?}"),
            })
            .collect()
    }

    fn error_message(item: &Item) -> &str {
        match item {
            Item::Unreadable(Mapped {
                outcome: Outcome::Invalid(invalid),
                ..
            }) => &invalid.message,
            other => panic!("expected an unreadable item, got {other:?}"),
        }
    }

    #[test]
    fn ndjson_lines_skip_blank_lines() {
        let text = "{\"type\":\"page\"}\n\n  \r\n{\"type\":\"track\"}\r\n";

        assert_eq!(
            messages(text),
            [json!({"type": "page"}), json!({"type": "track"})]
        );
    }

    #[test]
    fn malformed_line_names_line_and_column() {
        let items = split_messages("{\"type\":\"page\"}\n\n{oops}\n", "events.ndjson");

        assert_eq!(items.len(), 2);
        assert_eq!(
            error_message(&items[1]),
            "line 3 of events.ndjson is not valid JSON: key must be a string at column 2"
        );
    }

    #[test]
    fn array_is_split_into_messages() {
        let text = "\n [{\"type\":\"page\"},\n {\"type\":\"screen\"}]";

        assert_eq!(
            messages(text),
            [json!({"type": "page"}), json!({"type": "screen"})]
        );
    }

    #[test]
    fn broken_array_is_one_unreadable_item() {
        let items = split_messages("[{\"type\":\"page\"},", "events.json");

        assert_eq!(items.len(), 1);
        assert!(
            error_message(&items[0]).starts_with(
                "events.json starts with `[` but is not a valid JSON array of messages: "
            ),
            "{items:?}"
        );
    }

    #[test]
    fn batch_object_applies_envelope() {
        let text = r#"{"context": {"ip": "1.2.3.4"}, "batch": [{"type": "page"}]}"#;

        assert_eq!(
            messages(text),
            [json!({"type": "page", "context": {"ip": "1.2.3.4"}})]
        );
    }

    #[test]
    fn pretty_printed_object_is_one_message() {
        let text = "{\n  \"type\": \"page\",\n  \"userId\": \"jill\"\n}\n";

        assert_eq!(messages(text), [json!({"type": "page", "userId": "jill"})]);
    }

    #[test]
    fn empty_input_has_no_messages() {
        assert!(split_messages(" \n\n", "events.ndjson").is_empty());
    }

    #[test]
    fn dash_is_stdin() {
        let sources = Source::from_args(&[PathBuf::from("-"), PathBuf::from("a.ndjson")]);

        assert_eq!(
            sources,
            [Source::Stdin, Source::File(PathBuf::from("a.ndjson"))]
        );
        assert_eq!(Source::from_args(&[]), [Source::Stdin]);
    }
}
