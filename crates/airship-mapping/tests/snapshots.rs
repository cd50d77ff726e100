//! Snapshot of the `map` line of every Segment message under `fixtures/events`.
//!
//! Each fixture is mapped with the default settings at a fixed NOW, and the `Mapped` value is
//! compared with `tests/snapshots/<fixture name>.snap`. A fixture without a snapshot fails the
//! test. With `CI=true` insta writes nothing, and elsewhere it also writes a `.snap.new` to review.
//! Run `INSTA_UPDATE=always cargo test -p airship-mapping --test snapshots` to write the
//! snapshots, then review each one against the mapping rules before committing it.
//!
//! Snapshots hold `serde_json`'s pretty-printed text rather than insta's JSON form, because
//! insta re-serialises JSON and does not keep numbers exact under `arbitrary_precision`.

use std::collections::BTreeSet;
use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

use airship_mapping::{map_message, Mapped, Settings};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

/// Clock for every fixture. Fixtures that test nothing about time carry timestamps a few minutes
/// before it.
const NOW: &str = "2026-05-02T12:00:00Z";

/// Snapshots that come from messages built in this file rather than from fixture files.
const GENERATED_SNAPSHOTS: [&str; 1] = ["generated-track-properties-over-64kib"];

fn now() -> DateTime<Utc> {
    NOW.parse().expect("NOW is RFC 3339")
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/events")
}

fn snapshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// Lists the fixture files, sorted by name.
fn fixture_paths() -> Vec<PathBuf> {
    let dir = fixtures_dir();
    let entries =
        fs::read_dir(&dir).unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()));
    let mut paths: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no *.json fixtures in {}", dir.display());
    paths
}

fn fixture_name(path: &Path) -> String {
    path.file_stem()
        .and_then(|stem| stem.to_str())
        .expect("fixture names are UTF-8")
        .to_owned()
}

fn read_fixture(path: &Path) -> Value {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{} is not valid JSON: {err}", path.display()))
}

/// Snapshots `mapped` under `name`, in `tests/snapshots/<name>.snap`.
fn assert_mapped_snapshot(name: &str, input_file: Option<&Path>, mapped: &Mapped) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path(snapshots_dir());
    if let Some(path) = input_file {
        settings.set_input_file(path);
    }
    let line = serde_json::to_string_pretty(&mapped).expect("a mapped message serialises");
    settings.bind(|| insta::assert_snapshot!(name, line));
}

#[test]
fn fixtures_match_snapshots() {
    // Every fixture is checked before the test fails, so one run lists all changed snapshots.
    let mut mismatched = Vec::new();
    for path in fixture_paths() {
        let name = fixture_name(&path);
        let mapped = map_message(read_fixture(&path), &Settings::default(), now());
        let checked = panic::catch_unwind(|| assert_mapped_snapshot(&name, Some(&path), &mapped));
        if checked.is_err() {
            mismatched.push(name);
        }
    }
    assert!(
        mismatched.is_empty(),
        "{} fixtures do not match their snapshots: {}",
        mismatched.len(),
        mismatched.join(", ")
    );
}

/// Builds a track whose properties exceed Airship's 64 KiB limit (about 88 KB), which is too big
/// to review as a fixture file. Each string stays under the 255-character property limit.
fn cart_over_64_kib() -> Value {
    let products: Vec<Value> = (0..300)
        .map(|index| {
            json!({
                "product_id": format!("SKU-{index:04}"),
                "name": format!("Trail Running Shoe, model {index}"),
                "description": "Breathable mesh upper, rock plate, 6 mm drop. ".repeat(4),
                "price": 129.95,
                "quantity": 1
            })
        })
        .collect();
    json!({
        "type": "track",
        "event": "Cart Viewed",
        "userId": "jill",
        "messageId": "generated-cart-over-64kib",
        "timestamp": "2026-05-02T11:58:31.273Z",
        "properties": {"cart_id": "C-9001", "products": products}
    })
}

#[test]
fn generated_messages_match_snapshots() {
    let message = cart_over_64_kib();
    let size = serde_json::to_vec(&message["properties"])
        .expect("properties serialise")
        .len();
    assert!(size > 65_536, "the cart has only {size} bytes");
    let mapped = map_message(message, &Settings::default(), now());
    assert_mapped_snapshot(GENERATED_SNAPSHOTS[0], None, &mapped);
}

/// Builds a track whose `properties` serialise to exactly `size` bytes, padded with one nested
/// string.
fn track_with_properties_of_size(size: usize) -> Value {
    let properties_of = |padding: usize| -> Map<String, Value> {
        let mut properties = Map::new();
        properties.insert("payload".into(), json!({"blob": "x".repeat(padding)}));
        properties
    };
    let overhead = serde_json::to_vec(&properties_of(0))
        .expect("serialise")
        .len();
    let properties = properties_of(size - overhead);
    assert_eq!(
        serde_json::to_vec(&properties).expect("serialise").len(),
        size
    );
    json!({"type": "track", "event": "Upload", "userId": "jill", "properties": properties})
}

#[test]
fn properties_size_limit_is_64_kib() {
    let at_limit = map_message(
        track_with_properties_of_size(65_536),
        &Settings::default(),
        now(),
    );
    assert_eq!(at_limit.outcome.name(), "sent");

    let over_limit = map_message(
        track_with_properties_of_size(65_537),
        &Settings::default(),
        now(),
    );
    assert_eq!(
        over_limit.outcome.reason_code(),
        Some("properties_too_large")
    );
}

/// Every committed snapshot belongs to a fixture or a generated message, so a renamed or deleted
/// fixture cannot leave a stale snapshot behind.
#[test]
fn every_snapshot_has_a_source() {
    let mut sources: BTreeSet<String> = fixture_paths().iter().map(|p| fixture_name(p)).collect();
    sources.extend(GENERATED_SNAPSHOTS.iter().map(|name| (*name).to_owned()));

    let dir = snapshots_dir();
    let entries =
        fs::read_dir(&dir).unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".snap") else {
            continue;
        };
        assert!(
            sources.contains(stem),
            "{} has no fixture in {} and is not a generated snapshot; delete it",
            path.display(),
            fixtures_dir().display()
        );
    }
}
