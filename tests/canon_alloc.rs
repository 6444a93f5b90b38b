//! The query path never allocates: `canon::url`, `canon::query_host` and
//! `canon::host` into stack buffers, counted by a global allocator, over
//! the real request URLs in `data/requests-top500-2019.jsonl.gz` and over
//! internationalised hosts.

use indset::canon::{self, HOST_BUF_LEN, QUERY_BUF_LEN};

use indset_test_support::alloc;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

use alloc::allocations_on_this_thread as allocations;

use indset_test_support::data as common;

#[test]
fn real_requests_canonicalise_without_allocating() {
    let urls = common::request_urls();
    assert!(urls.len() > 30_000, "{} urls", urls.len());
    let mut buf = [0u8; QUERY_BUF_LEN];
    let mut hbuf = [0u8; HOST_BUF_LEN];
    let mut ok = 0usize;
    let n = allocations(|| {
        for u in &urls {
            if let Ok(c) = canon::url(u.as_bytes(), &mut buf) {
                ok += usize::from(!c.host.is_empty());
            }
            let _ = canon::query_host(u.as_bytes(), &mut hbuf);
        }
    });
    assert_eq!(n, 0, "allocations while canonicalising {} URLs", urls.len());
    assert!(ok > 30_000, "{ok} canonicalised");
}

#[test]
fn idn_hosts_without_allocating() {
    // Up to 8 labels from the first non-ASCII one on, and up to 253 code
    // points after mapping, the idna crate works in its inline buffers.
    let hosts = [
        "bücher.example",
        "BÜCHER。EXAMPLE",
        "xn--bcher-kva.example",
        "a.b.c.d.e.f.g.h.i.j.k.bücher.example",
        "例子.公司",
        "مثال.إختبار",
        "ß.ü.ö.ä.é.è.ê.ë",
        "%C3%BC.example",
    ];
    let mut buf = [0u8; QUERY_BUF_LEN];
    let mut hbuf = [0u8; HOST_BUF_LEN];
    for h in hosts {
        let url = format!("https://{h}/p?q");
        let n = allocations(|| {
            canon::host(h.as_bytes(), &mut hbuf).expect(h);
            canon::query_host(h.as_bytes(), &mut hbuf).expect(h);
            canon::url(url.as_bytes(), &mut buf).expect(h);
        });
        assert_eq!(n, 0, "{h}");
    }
}

/// Documents the known limit: from the ninth label after the first
/// non-ASCII one, the idna crate's label list spills to the heap.
#[test]
fn idn_hosts_with_many_labels_may_allocate() {
    let h = "ü.a.b.c.d.e.f.g.h.example";
    let mut hbuf = [0u8; HOST_BUF_LEN];
    let n = allocations(|| {
        canon::host(h.as_bytes(), &mut hbuf).expect(h);
    });
    assert!(n <= 2, "{n} allocations for {h}");
    eprintln!("{h}: {n} allocations");
}

#[test]
fn the_counter_counts() {
    let n = allocations(|| drop(std::hint::black_box(Vec::<u8>::with_capacity(8))));
    assert_eq!(n, 1);
}
