//! The state folder: checkpoint, problems file and delivery spool, used by one run at a time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use rusqlite::Connection;

/// Paths inside the state folder, held while its lock is held.
#[derive(Debug)]
pub struct StateDir {
    pub dir: PathBuf,
    /// Keeps SQLite's exclusive lock on `<dir>/lock` until the run ends; the operating system
    /// drops it when the process ends, however it ends.
    _lock: Connection,
}

impl StateDir {
    /// Creates the folder when missing and takes its lock; fails when another run holds it.
    pub fn open(dir: &Path) -> anyhow::Result<StateDir> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create state folder {}", dir.display()))?;
        let lock_path = dir.join("lock");
        let failed = || format!("failed to lock state folder {}", dir.display());
        let conn = Connection::open(&lock_path).with_context(failed)?;
        conn.busy_timeout(Duration::ZERO).with_context(failed)?;
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
            .with_context(failed)?;
        // In exclusive locking mode the write lock taken here is kept until the connection closes.
        match conn.execute_batch(
            "BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER);
             DELETE FROM holder; COMMIT;",
        ) {
            Ok(()) => {}
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.code == rusqlite::ErrorCode::DatabaseBusy
                    || error.code == rusqlite::ErrorCode::DatabaseLocked =>
            {
                bail!(
                    "state folder {} is in use by another segment-airship-batch run; wait for it \
                     to end or pass another --state-dir",
                    dir.display()
                )
            }
            Err(error) => return Err(error).with_context(failed),
        }
        Ok(StateDir {
            dir: dir.to_path_buf(),
            _lock: conn,
        })
    }

    pub fn checkpoint(&self) -> PathBuf {
        self.dir.join("checkpoint.json")
    }

    /// Returns the path of the problems file: one JSON line per invalid message and dead letter,
    /// in checkpoint order.
    pub fn problems(&self) -> PathBuf {
        self.dir.join("problems.ndjson")
    }

    pub fn spool(&self) -> PathBuf {
        self.dir.join("spool.db")
    }

    /// Deletes the spool of an earlier run. Its pending messages lie after the checkpoint and are
    /// read again from the inputs, so keeping them would send them twice.
    pub fn remove_spool(&self) -> anyhow::Result<()> {
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let mut path = self.spool();
            path.as_mut_os_string().push(suffix);
            remove_if_present(&path)?;
        }
        Ok(())
    }

    /// Deletes the checkpoint and the problems file, for `--restart`.
    pub fn forget_progress(&self) -> anyhow::Result<()> {
        remove_if_present(&self.checkpoint())?;
        remove_if_present(&self.problems())
    }
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error).with_context(|| format!("failed to delete {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateDir::open(dir.path()).unwrap();

        let error = StateDir::open(dir.path()).unwrap_err();

        assert!(error.to_string().contains("in use"), "{error:#}");
        drop(first);
        StateDir::open(dir.path()).unwrap();
    }
}
