//! The inputs named on the command line: files, folders walked in sorted order, and standard
//! input.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use crate::read::Source;

/// Expands the command-line paths into sources, in order. No path, or `-`, is standard input.
/// A folder contributes every file below it, in byte order of the paths, skipping names that
/// start with `.`.
pub fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<Source>> {
    if paths.is_empty() {
        return Ok(vec![Source::Stdin]);
    }
    let mut sources = Vec::new();
    let mut stdin_seen = false;
    for path in paths {
        if path == Path::new("-") {
            if stdin_seen {
                bail!("standard input (`-`) is named twice; it can be read only once");
            }
            stdin_seen = true;
            sources.push(Source::Stdin);
            continue;
        }
        let metadata = std::fs::metadata(path)
            .with_context(|| format!("input {} cannot be read", path.display()))?;
        if metadata.is_dir() {
            walk(path, &mut sources)?;
        } else {
            sources.push(Source::File(path.clone()));
        }
    }
    Ok(sources)
}

fn walk(folder: &Path, sources: &mut Vec<Source>) -> anyhow::Result<()> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(folder)
        .with_context(|| format!("failed to list folder {}", folder.display()))?
    {
        let entry = entry.with_context(|| format!("failed to list folder {}", folder.display()))?;
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        entries.push(entry.path());
    }
    entries.sort();
    for path in entries {
        let metadata = std::fs::metadata(&path)
            .with_context(|| format!("input {} cannot be read", path.display()))?;
        if metadata.is_dir() {
            walk(&path, sources)?;
        } else if metadata.is_file() {
            sources.push(Source::File(path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_walk_sorted_without_hidden() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.ndjson", "a/2.json", "a/10.json", ".hidden", "c/.tmp"] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }

        let sources = expand(&[dir.path().to_path_buf()]).unwrap();

        let names: Vec<String> = sources
            .iter()
            .map(|source| match source {
                Source::File(path) => path.strip_prefix(dir.path()).unwrap().display().to_string(),
                Source::Stdin => "-".into(),
            })
            .collect();
        assert_eq!(names, ["a/10.json", "a/2.json", "b.ndjson"]);
    }

    #[test]
    fn missing_input_is_an_error() {
        let error = expand(&[PathBuf::from("/no/such/file.ndjson")]).unwrap_err();

        assert!(
            format!("{error:#}").contains("/no/such/file.ndjson"),
            "{error:#}"
        );
    }

    #[test]
    fn no_path_is_stdin() {
        assert_eq!(expand(&[]).unwrap(), [Source::Stdin]);
    }
}
