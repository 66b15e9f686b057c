//! What a bench run creates and must not leave behind: the temporary
//! folder of the `disk` files and the output folder it made, whether the
//! run ends well, fails, or is stopped. Both clean up through `Drop`; a
//! stopped run returns through the same paths as a finished one, so the
//! same `Drop`s run. (The child processes are [`children`](crate::children).)

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::Model;

/// Removes a folder and what is in it, retrying a few times: a task still
/// running may create a file between the listing and the removal.
fn remove_tree(dir: &Path) {
    for _ in 0..20 {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Raises the soft limit on open files to the hard one: the sweep holds
/// 10,000 sockets at once.
pub(crate) fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `limit` is a valid, writable `rlimit` for the duration of the
    // call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 && limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid `rlimit`; raising the soft limit up to
        // the hard one is always allowed, and a refusal changes nothing.
        unsafe {
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// The soft limit on open files, after [`raise_open_file_limit`].
pub(crate) fn open_file_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: as in `raise_open_file_limit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        // `rlim_t` is 64 bits here but not on every Unix.
        #[allow(clippy::unnecessary_cast)]
        let soft = limit.rlim_cur as u64;
        soft
    } else {
        1024
    }
}

/// The temporary folder of one run (`concur-bench-XXXXXX` in the system's
/// temporary directory): `disk` files, and Python's. Removed when dropped.
#[derive(Debug)]
pub(crate) struct Scratch {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Scratch {
    pub(crate) fn new() -> io::Result<Scratch> {
        let dir = tempfile::Builder::new().prefix("concur-bench-").tempdir()?;
        let path = dir.path().to_path_buf();
        Ok(Scratch { dir: Some(dir), path })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The file of task `index` of a `disk` cell under `model` — the name
    /// Python's side uses too.
    pub(crate) fn task_file(&self, model: Model, index: usize) -> PathBuf {
        self.path.join(format!("task-{model}-{index}.txt"))
    }

    /// The file the disk probe writes.
    pub(crate) fn probe_file(&self) -> PathBuf {
        self.path.join("probe.txt")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            if dir.close().is_err() {
                remove_tree(&self.path);
            }
        }
    }
}

/// Removes files if they exist; a file already gone is not an error.
pub(crate) fn remove_files<'a>(paths: impl IntoIterator<Item = &'a PathBuf>) {
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

/// The output folder, checked writable before the run. Folders it had to
/// create are removed again unless [`keep`](Self::keep) is called — so a
/// run that fails leaves nothing.
#[derive(Debug)]
pub(crate) struct OutDir {
    path: PathBuf,
    created: Vec<PathBuf>,
    written: Vec<PathBuf>,
    keep: bool,
}

impl OutDir {
    /// Creates the folder (and missing parents) and checks a file can be
    /// written in it.
    pub(crate) fn prepare(path: &Path) -> io::Result<OutDir> {
        let mut out = OutDir { path: path.to_path_buf(), created: Vec::new(), written: Vec::new(), keep: false };
        let mut missing = Vec::new();
        let mut next = Some(path);
        while let Some(dir) = next.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            missing.push(dir.to_path_buf());
            next = dir.parent();
        }
        for dir in missing.into_iter().rev() {
            std::fs::create_dir(&dir)?;
            out.created.push(dir);
        }
        if !path.is_dir() {
            return Err(io::Error::new(io::ErrorKind::NotADirectory, "it is not a folder"));
        }
        let probe = path.join(format!(".concur-bench-write-test-{}", std::process::id()));
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(&probe)?;
        Ok(out)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one report file, remembering it so a failure can undo it.
    pub(crate) fn write(&mut self, name: &str, contents: &[u8]) -> io::Result<PathBuf> {
        let path = self.path.join(name);
        std::fs::write(&path, contents)?;
        self.written.push(path.clone());
        Ok(path)
    }

    /// The run finished or was stopped with its report written: leave the
    /// folder and its files, and name the files.
    pub(crate) fn keep(mut self) -> Vec<PathBuf> {
        self.keep = true;
        std::mem::take(&mut self.written)
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        remove_files(&self.written);
        for dir in self.created.iter().rev() {
            // Only if empty: anything else in it is not ours.
            let _ = std::fs::remove_dir(dir);
        }
    }
}
