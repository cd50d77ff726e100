//! The checkpoint: for each input file, how far every message is done (delivered, dead-lettered,
//! skipped or invalid), so an interrupted run continues there.
//!
//! The file is JSON, replaced atomically (written beside it, then renamed), so a crash leaves
//! either the old or the new version. Inputs are keyed by canonical path, and a fingerprint
//! (size and a hash of the first 64 KiB) shows whether the file is still the one the checkpoint
//! describes.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::read::Cursor;

/// Format version written into the file; a file with another version is not read.
const VERSION: u32 = 1;

/// Bytes at the start of a file that the fingerprint hashes.
const HEAD_BYTES: usize = 64 * 1024;

/// Identity of an input file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Size of the file on disk, compressed if it is compressed.
    pub size: u64,
    /// Bytes hashed: the first 64 KiB, or the whole file when it is smaller.
    pub head_bytes: u64,
    /// FNV-1a 64 of the first `head_bytes` bytes as stored on disk, in hex.
    pub head_hash: String,
}

/// The result of comparing a file with the fingerprint recorded for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Same,
    /// The recorded content is still at the start and more follows, as when a log was appended
    /// to or a cut-off download was completed.
    Grew,
    Changed,
}

impl Fingerprint {
    /// Reads the fingerprint of the file at `path`.
    pub fn of_file(path: &Path) -> io::Result<Fingerprint> {
        let size = std::fs::metadata(path)?.len();
        let head_bytes = size.min(HEAD_BYTES as u64);
        Ok(Fingerprint {
            size,
            head_bytes,
            head_hash: hash_head(path, head_bytes)?,
        })
    }

    /// Compares the file at `path` with this recorded fingerprint.
    pub fn compare(&self, path: &Path) -> io::Result<Comparison> {
        let size = std::fs::metadata(path)?.len();
        if size < self.size || hash_head(path, self.head_bytes)? != self.head_hash {
            return Ok(Comparison::Changed);
        }
        Ok(if size == self.size {
            Comparison::Same
        } else {
            Comparison::Grew
        })
    }
}

fn hash_head(path: &Path, bytes: u64) -> io::Result<String> {
    let mut head = Vec::new();
    File::open(path)?.take(bytes).read_to_end(&mut head)?;
    Ok(format!("{:016x}", fnv1a64(&head)))
}

/// FNV-1a, 64-bit: a stable hash that does not change with the Rust version.
fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// Counts per outcome and reason: `delivered`, `duplicate`, `skipped.<reason>`,
/// `invalid.<reason>` and `dead_letter.<reason>`.
pub type Counts = BTreeMap<String, u64>;

/// How far one input got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputCheckpoint {
    pub fingerprint: Fingerprint,
    /// Every message before this cursor is done.
    pub cursor: Cursor,
    /// Messages done before the cursor.
    pub messages: u64,
    /// Whether the whole input was read and every message in it is done.
    pub complete: bool,
    /// The error that ended reading, if one did; reading resumes at the cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub counts: Counts,
}

/// The whole checkpoint file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// Length of the problems file that belongs to this checkpoint. Lines past it were written
    /// by a run that stopped before its next checkpoint, so they are cut on resume.
    pub problems_bytes: u64,
    /// By canonical path.
    pub inputs: BTreeMap<String, InputCheckpoint>,
}

impl Default for Checkpoint {
    fn default() -> Checkpoint {
        Checkpoint {
            version: VERSION,
            problems_bytes: 0,
            inputs: BTreeMap::new(),
        }
    }
}

impl Checkpoint {
    /// Reads the checkpoint at `path`, or an empty one when the file does not exist.
    pub fn load(path: &Path) -> anyhow::Result<Checkpoint> {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(Checkpoint::default())
            }
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("failed to read checkpoint {}", path.display()))
            }
        };
        let checkpoint: Checkpoint = serde_json::from_slice(&text).with_context(|| {
            format!(
                "checkpoint {} is not valid; pass --restart to start over",
                path.display()
            )
        })?;
        if checkpoint.version != VERSION {
            anyhow::bail!(
                "checkpoint {} has format version {}, but this program reads version {VERSION}; \
                 pass --restart to start over",
                path.display(),
                checkpoint.version
            );
        }
        Ok(checkpoint)
    }

    /// Replaces the file at `path` with this checkpoint. With `sync`, the data reaches the disk
    /// before this returns; without, it survives a crash of this process but not of the machine.
    pub fn save(&self, path: &Path, sync: bool) -> io::Result<()> {
        let mut temporary = PathBuf::from(path);
        temporary.as_mut_os_string().push(".tmp");
        let mut file = File::create(&temporary)?;
        serde_json::to_writer_pretty(&mut file, self).map_err(io::Error::from)?;
        file.write_all(b"\n")?;
        if sync {
            file.sync_all()?;
        }
        drop(file);
        std::fs::rename(&temporary, path)
    }
}

/// Returns the key of an input file in the checkpoint: its canonical path.
pub fn input_key(path: &Path) -> io::Result<String> {
    Ok(std::fs::canonicalize(path)?.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Layout, Position};

    #[test]
    fn save_and_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint.json");
        let mut checkpoint = Checkpoint {
            problems_bytes: 12,
            ..Checkpoint::default()
        };
        checkpoint.inputs.insert(
            "/data/a.ndjson".into(),
            InputCheckpoint {
                fingerprint: Fingerprint {
                    size: 10,
                    head_bytes: 10,
                    head_hash: "00".into(),
                },
                cursor: Cursor {
                    layout: Layout::Array,
                    position: Position {
                        offset: 5,
                        line: 2,
                        column: 3,
                    },
                    skip: 4,
                },
                messages: 4,
                complete: false,
                error: None,
                counts: Counts::from([("delivered".to_owned(), 4)]),
            },
        );

        checkpoint.save(&path, true).unwrap();

        assert_eq!(Checkpoint::load(&path).unwrap(), checkpoint);
    }

    #[test]
    fn missing_file_is_empty_checkpoint() {
        let dir = tempfile::tempdir().unwrap();

        let checkpoint = Checkpoint::load(&dir.path().join("none.json")).unwrap();

        assert!(checkpoint.inputs.is_empty());
    }

    #[test]
    fn fingerprint_tells_same_grown_and_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, "abc").unwrap();
        let recorded = Fingerprint::of_file(&path).unwrap();

        assert_eq!(recorded.compare(&path).unwrap(), Comparison::Same);
        std::fs::write(&path, "abcdef").unwrap();
        assert_eq!(recorded.compare(&path).unwrap(), Comparison::Grew);
        std::fs::write(&path, "abd").unwrap();
        assert_eq!(recorded.compare(&path).unwrap(), Comparison::Changed);
        std::fs::write(&path, "ab").unwrap();
        assert_eq!(recorded.compare(&path).unwrap(), Comparison::Changed);
    }
}
