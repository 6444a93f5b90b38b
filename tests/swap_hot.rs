//! Hot swap: readers that never stop see one whole set at a time while a
//! writer replaces it a thousand times, and replaced sets are freed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use indset::SharedSet;
use indset::format::{Container, KEYS, Writer};

const READERS: usize = 4;
const SWAPS: u64 = 1000;

/// Sets alive right now, to check that replaced ones are freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// A set whose every part is derived from its generation, so a reader can
/// tell a whole set from a mix of two.
struct Generation {
    number: u64,
    items: Vec<u64>,
}

impl Generation {
    fn new(number: u64) -> Generation {
        LIVE.fetch_add(1, Ordering::SeqCst);
        let len = 16 + (number % 97) as usize;
        let items = (0..len as u64).map(|i| number * 1_000 + i).collect();
        Generation { number, items }
    }

    /// Panics unless every part agrees with the generation number.
    fn check(&self) -> u64 {
        assert_eq!(self.items.len(), 16 + (self.number % 97) as usize);
        for (i, &item) in self.items.iter().enumerate() {
            assert_eq!(item, self.number * 1_000 + i as u64, "a torn set");
        }
        self.number
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn readers_see_whole_sets_while_a_writer_swaps() {
    let shared = Arc::new(SharedSet::new(Generation::new(0)));
    let done = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(READERS + 1));

    let readers: Vec<_> = (0..READERS)
        .map(|reader| {
            let (shared, done, start) = (shared.clone(), done.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let deadline = Instant::now() + Duration::from_secs(10);
                let (mut reads, mut last, mut seen) = (0u64, 0u64, 0u64);
                while !done.load(Ordering::Acquire) && Instant::now() < deadline {
                    // Both ways of reading, by turns.
                    let number = if reads % 2 == 0 {
                        shared.load().check()
                    } else {
                        shared.with(Generation::check)
                    };
                    assert!(
                        number >= last,
                        "reader {reader} went back from {last} to {number}"
                    );
                    seen += u64::from(number != last);
                    last = number;
                    reads += 1;
                }
                (reads, seen)
            })
        })
        .collect();

    start.wait();
    for number in 1..=SWAPS {
        let old = shared.swap(Generation::new(number));
        assert_eq!(old.check(), number - 1);
        // Paces the writer so readers overlap many swaps: about 1 s in all.
        thread::sleep(Duration::from_millis(1));
    }
    done.store(true, Ordering::Release);

    let mut changes = 0;
    for (reader, handle) in readers.into_iter().enumerate() {
        let (reads, seen) = handle.join().expect("a reader failed");
        assert!(reads > 0, "reader {reader} never read");
        eprintln!("reader {reader}: {reads} reads, {seen} generations seen");
        changes += seen;
    }
    assert!(changes > 0, "no reader saw a swap");
    assert_eq!(shared.load().check(), SWAPS);
    drop(shared);
    assert_eq!(
        LIVE.load(Ordering::SeqCst),
        0,
        "a replaced set was never freed"
    );
}

#[test]
fn the_old_set_lives_until_its_last_reader_lets_go() {
    let shared = SharedSet::new(vec![1u8]);
    let running = shared.load();
    let old = shared.swap(vec![2]);
    assert_eq!(**running, [1]);
    assert_eq!(shared.with(|set| set[0]), 2);
    assert_eq!(Arc::strong_count(&old), 2);
    drop(running);
    assert_eq!(Arc::strong_count(&old), 1);

    shared.store(vec![3]);
    assert_eq!(*shared.load_full(), [3]);
}

#[test]
fn a_mapped_container_can_be_swapped_under_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("set.indset");
    let write = |payload: &[u8]| {
        let mut writer = Writer::new();
        writer.add_section(KEYS, payload);
        writer.write_file(&path).unwrap();
        indset::format::map(&path).unwrap()
    };
    let shared = SharedSet::new(write(b"first"));
    let running = shared.load();
    shared.store(write(b"second"));

    let old = Container::parse(&running).unwrap();
    assert_eq!(old.section(KEYS), Some(&b"first"[..]));
    let new =
        shared.with(|map| Container::parse(map).unwrap().section(KEYS) == Some(&b"second"[..]));
    assert!(new);
}

/// Records the thread that drops it.
struct DroppedOn(Arc<std::sync::Mutex<Option<thread::ThreadId>>>);

impl Drop for DroppedOn {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(thread::current().id());
    }
}

#[test]
fn replace_frees_the_old_set_on_the_writer_once_lookups_let_go() {
    let dropped = Arc::new(std::sync::Mutex::new(None));
    let shared = Arc::new(SharedSet::new(DroppedOn(Arc::clone(&dropped))));
    // A lookup on another thread holds the old set for 20 ms.
    let taken = Arc::new(Barrier::new(2));
    let released = Arc::new(AtomicBool::new(false));
    let lookup = {
        let (shared, taken, released) = (
            Arc::clone(&shared),
            Arc::clone(&taken),
            Arc::clone(&released),
        );
        thread::spawn(move || {
            let set = shared.load();
            taken.wait();
            thread::sleep(Duration::from_millis(20));
            released.store(true, Ordering::SeqCst);
            drop(set);
        })
    };
    taken.wait();
    let fresh = Arc::new(std::sync::Mutex::new(None));
    let replaced = shared.replace(DroppedOn(Arc::clone(&fresh)), Duration::from_secs(10));
    assert!(replaced.is_ok());
    assert!(
        released.load(Ordering::SeqCst),
        "freed while a lookup held it"
    );
    assert_eq!(*dropped.lock().unwrap(), Some(thread::current().id()));
    assert_eq!(*fresh.lock().unwrap(), None, "the new set is alive");
    lookup.join().unwrap();

    // A handle kept past the patience: the old set comes back, alive.
    let kept = shared.load_full();
    let back = shared
        .replace(DroppedOn(Arc::clone(&dropped)), Duration::from_millis(5))
        .expect_err("still held");
    assert!(Arc::ptr_eq(&back, &kept));
    assert_eq!(*fresh.lock().unwrap(), None);
    drop((back, kept));
    assert_eq!(*fresh.lock().unwrap(), Some(thread::current().id()));
}
