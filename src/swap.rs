//! Replacing the set while lookups run on it.
//!
//! The engine asks the set once per flow, from several threads, and replaces
//! it whenever the organisation's indicators change. [`SharedSet`] holds the
//! current set behind an [`arc_swap::ArcSwap`]: a lookup takes the set with
//! a few atomic operations and never waits on a lock or on the thread that
//! replaces it; a replacement is visible to every lookup that starts after
//! it, while lookups that already took the old set finish on it. The old set
//! (and the memory map under it) is dropped when the last holder lets go;
//! [`SharedSet::replace`] makes that the writer's thread.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

/// The current set of a [`SharedSet`], held for one lookup: derefs to the
/// set. Returned by [`SharedSet::load`].
///
/// While it lives the set it points to cannot be freed. Keep it only as
/// long as the lookup: a thread holding many guards at once falls back to
/// a slower path. For a handle of its own use
/// [`SharedSet::load_full`].
pub struct SetGuard<S> {
    inner: arc_swap::Guard<Arc<S>>,
}

impl<S> Deref for SetGuard<S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for SetGuard<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SetGuard").field(&**self).finish()
    }
}

/// A set that lookups share and a writer can replace at any time.
///
/// Generic over the set, so it serves an `IndicatorSet<Mapped>` as well as
/// anything else that is `Send + Sync`.
///
/// ```
/// use indset::SharedSet;
///
/// // Stands in for an `IndicatorSet<Mapped>`.
/// let shared = SharedSet::new(vec!["old.example"]);
///
/// // A lookup: take the current set for the duration of one query.
/// let blocked = shared.with(|set| set.contains(&"old.example"));
/// assert!(blocked);
///
/// // A lookup that is still running keeps the set it started with...
/// let running = shared.load();
/// let old = shared.swap(vec!["new.example"]);
/// assert!(running.contains(&"old.example"));
/// // ...and lookups that start now see the new one.
/// assert!(shared.with(|set| set.contains(&"new.example")));
///
/// // The old set is freed when the last holder, here `running`, lets go.
/// drop(running);
/// assert_eq!(std::sync::Arc::strong_count(&old), 1);
/// ```
pub struct SharedSet<S> {
    current: ArcSwap<S>,
}

impl<S> SharedSet<S> {
    /// Shares `set`.
    pub fn new(set: S) -> SharedSet<S> {
        SharedSet::from_arc(Arc::new(set))
    }

    /// Shares a set that is already in an `Arc`.
    pub fn from_arc(set: Arc<S>) -> SharedSet<S> {
        SharedSet {
            current: ArcSwap::new(set),
        }
    }

    /// The current set, for the duration of one lookup.
    ///
    /// Wait-free in the common case (no lock, no allocation, no reference
    /// count on the shared cache line). Keep the guard only as long as the
    /// lookup: while it lives the set it points to cannot be freed, and a
    /// thread holding many guards at once falls back to a slower path. For
    /// a long-lived handle use [`load_full`](SharedSet::load_full).
    pub fn load(&self) -> SetGuard<S> {
        SetGuard {
            inner: self.current.load(),
        }
    }

    /// The current set as an `Arc` of its own, to keep as long as needed.
    ///
    /// Costs an atomic increment and decrement on the set's reference count,
    /// which threads share.
    pub fn load_full(&self) -> Arc<S> {
        self.current.load_full()
    }

    /// Calls `f` with the current set and returns what it returns.
    ///
    /// The same as [`load`](SharedSet::load), with the guard's lifetime
    /// limited to the call.
    pub fn with<R>(&self, f: impl FnOnce(&S) -> R) -> R {
        f(&self.current.load())
    }

    /// Makes `set` the current set and returns the one it replaces.
    ///
    /// Lookups running on the old set finish on it. The old set is dropped
    /// where its last holder lets go: if the caller drops the returned `Arc`
    /// while a lookup still holds the set, the lookup's thread frees it (and
    /// unmaps its file) at the end of that lookup. To keep that work off the
    /// lookup threads, use [`replace`](SharedSet::replace).
    pub fn swap(&self, set: S) -> Arc<S> {
        self.current.swap(Arc::new(set))
    }

    /// Makes `set` the current set and frees the old one on the calling
    /// thread, so that no lookup thread pays for it (unmapping a large
    /// file, a system call).
    ///
    /// Waits until the lookups still running on the old set have let it
    /// go (a lookup holds it for one query), checking every 50 µs for at
    /// most `patience`. When something still holds it then (a
    /// [`load_full`](SharedSet::load_full) handle kept somewhere), returns
    /// it as `Err`: the new set is current either way, and the caller
    /// decides when to drop the old one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use indset::SharedSet;
    ///
    /// let shared = SharedSet::new(vec!["old.example"]);
    /// shared.replace(vec!["new.example"], Duration::from_millis(100)).unwrap();
    /// assert!(shared.with(|set| set.contains(&"new.example")));
    ///
    /// // A handle kept elsewhere keeps the old set alive past the patience.
    /// let kept = shared.load_full();
    /// let old = shared.replace(vec![], Duration::ZERO).unwrap_err();
    /// assert!(std::sync::Arc::ptr_eq(&old, &kept));
    /// ```
    pub fn replace(&self, set: S, patience: Duration) -> Result<(), Arc<S>> {
        let start = Instant::now();
        let mut old = self.swap(set);
        loop {
            // The swap paid every running lookup's share of the count, so
            // the count says who still holds the old set.
            match Arc::try_unwrap(old) {
                Ok(set) => {
                    drop(set);
                    return Ok(());
                }
                Err(held) => old = held,
            }
            if start.elapsed() >= patience {
                return Err(old);
            }
            std::thread::sleep(Duration::from_micros(50));
        }
    }

    /// Makes `set` the current set and drops the reference to the old one
    /// (see [`swap`](SharedSet::swap) for where the old set is freed).
    pub fn store(&self, set: S) {
        self.current.store(Arc::new(set));
    }

    /// Like [`swap`](SharedSet::swap), for a set already behind an `Arc`
    /// (one kept to swap back to, say).
    pub fn swap_arc(&self, set: Arc<S>) -> Arc<S> {
        self.current.swap(set)
    }
}

impl<S> From<Arc<S>> for SharedSet<S> {
    fn from(set: Arc<S>) -> SharedSet<S> {
        SharedSet::from_arc(set)
    }
}

impl<S: Default> Default for SharedSet<S> {
    fn default() -> SharedSet<S> {
        SharedSet::new(S::default())
    }
}

impl<S: fmt::Debug> fmt::Debug for SharedSet<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedSet").field(&*self.load()).finish()
    }
}
