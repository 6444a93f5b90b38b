//! Swapping in a new set when its file is replaced.
//!
//! A thread looks at the file's identity (device, inode, size, modification
//! time) every poll interval. `indset compile` replaces a set by renaming a
//! new file over it, which changes the inode; a copy over it changes the
//! size or the time. On a change the new file is opened and verified off
//! the flows' threads and swapped in ([`indset::SharedSet`]): flows decide
//! on whichever set is current when they look, and a flow that already
//! took the old one finishes with it. A file that fails verification is
//! refused with a message and the old set stays; the next change is tried
//! again. Polling rather than inotify: one `stat` per interval costs
//! nothing measurable, sees a rename over the watched name whatever the
//! directory does, and needs no extra crate.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};

use super::Engine;
use crate::message;
use crate::output::open_set;

/// How long a swap waits for flows to let the old set go before leaving
/// its unmapping to the last of them.
const PATIENCE: Duration = Duration::from_secs(1);

/// The watching thread; dropping it stops the thread and waits for it.
pub struct Watcher {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

fn identity(path: &Path) -> Option<Identity> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Identity {
        dev: meta.dev(),
        ino: meta.ino(),
        len: meta.size(),
        mtime: meta.mtime(),
        mtime_nsec: meta.mtime_nsec(),
    })
}

/// Starts watching `path`, the file the engine's set was opened from.
pub fn watch(engine: Arc<Engine>, path: PathBuf, every: Duration) -> Result<Watcher> {
    let (stop, stopped) = mpsc::channel::<()>();
    let mut seen = identity(&path);
    let thread = std::thread::Builder::new()
        .name("indset-reload".into())
        .spawn(move || {
            // Returns when the sender is dropped.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                let now = identity(&path);
                if now == seen {
                    continue;
                }
                seen = now;
                if now.is_none() {
                    eprintln!(
                        "indset: serve: {} is gone; still serving the set loaded before",
                        path.display()
                    );
                    continue;
                }
                match open_set(&path) {
                    Ok(set) => {
                        let n = set.len();
                        // When flows still hold the old set after the
                        // patience, the last of them frees it.
                        let _ = engine.set.replace(set, PATIENCE);
                        eprintln!(
                            "indset: serve: loaded the new {} ({n} indicators)",
                            path.display()
                        );
                    }
                    Err(e) => eprintln!(
                        "indset: serve: refused the new {}: {}; still serving the previous set",
                        path.display(),
                        message(&e)
                    ),
                }
            }
        })
        .context("cannot start the set watcher")?;
    Ok(Watcher {
        stop: Some(stop),
        thread: Some(thread),
    })
}
