//! A temporary directory for one test, deleted when the test is done with
//! it, a failed test's too (the guard is dropped as the panic unwinds): the
//! tests leave nothing under the system's temporary directory.

use std::ops::Deref;
use std::path::{Path, PathBuf};

/// A fresh directory `oplife-NAME-PID` under the system's temporary
/// directory, and a path in it; it derefs to that path. Dropping it deletes
/// the directory and everything in it.
#[derive(Debug)]
pub struct Scratch {
    dir: PathBuf,
    path: PathBuf,
}

impl Scratch {
    /// The directory for `name` (emptied first, if an interrupted run left
    /// it), with `file` in it as the path it derefs to.
    ///
    /// # Errors
    ///
    /// When the directory cannot be made.
    pub fn file(name: &str, file: &str) -> std::io::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("oplife-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(file);
        Ok(Scratch { dir, path })
    }

    /// The directory for `name`, as the path it derefs to.
    ///
    /// # Errors
    ///
    /// When the directory cannot be made.
    pub fn dir(name: &str) -> std::io::Result<Scratch> {
        let mut scratch = Scratch::file(name, "")?;
        scratch.path.clone_from(&scratch.dir);
        Ok(scratch)
    }
}

impl Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
