//! A check through the C ABI (URL, host or flow) allocates nothing once the
//! thread has made its first one (the set's swap slot registers the thread
//! on first use), also while another thread swaps the set.

use std::ptr;

use indset::{Compiler, Format, Options, Timestamp};
use indset_ffi::{
    IndsetDecision, IndsetHandle, IndsetMode, IndsetProtocol, IndsetStatus, IndsetTransport,
    IndsetVerdict, indset_check_at, indset_check_flow, indset_check_host, indset_check_url,
    indset_close, indset_open_bytes, indset_swap_bytes,
};
use indset_test_support::alloc::{Counting, allocations_on_this_thread};

#[global_allocator]
static GLOBAL: Counting = Counting;

const NOW: Timestamp = Timestamp(1_780_000_000);

fn compile(csv: &str) -> Vec<u8> {
    let mut compiler = Compiler::new(Options::at(NOW));
    compiler
        .add_reader("test.csv", csv.as_bytes(), Format::Csv)
        .expect("the CSV reads");
    compiler.finish().bytes
}

const FIRST: &str = "IndicatorType,IndicatorValue,Action,Title\n\
    DomainName,bad.example,Block,Bad\n\
    Url,https://bad.example/help,Allowed,Help\n\
    DomainName,watch.example,Audit,Watched\n";
const SECOND: &str = "IndicatorType,IndicatorValue,Action\nDomainName,bad.example,Allowed\n";

struct Handle(*mut IndsetHandle);

// SAFETY: the ABI documents every function but `indset_close` as callable
// from any thread at once; `Drop` closes it once, after the threads joined.
unsafe impl Send for Handle {}
// SAFETY: as for `Send`.
unsafe impl Sync for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: made by `indset_open_bytes`, closed once.
        unsafe { indset_close(self.0) }
    }
}

fn open(bytes: &[u8]) -> Handle {
    let mut h = ptr::null_mut();
    // SAFETY: `bytes` is valid for its length; `h` is writable.
    let s = unsafe { indset_open_bytes(bytes.as_ptr(), bytes.len(), &mut h) };
    assert_eq!(s, IndsetStatus::Ok);
    Handle(h)
}

fn host(h: &Handle, q: &str) -> IndsetVerdict {
    let mut v = std::mem::MaybeUninit::uninit();
    // SAFETY: a live handle, `q` valid for its length, `v` writable.
    let s = unsafe { indset_check_host(h.0, q.as_ptr().cast(), q.len(), v.as_mut_ptr()) };
    assert_eq!(s, IndsetStatus::Ok);
    // SAFETY: written on `Ok`.
    unsafe { v.assume_init() }
}

const QUERIES: [&str; 5] = [
    "bad.example",
    "www.bad.example",
    "watch.example",
    "example.org",
    "a.b.c.d.e.example.net",
];

#[test]
fn checks_do_not_allocate() {
    let h = open(&compile(FIRST));
    assert_eq!(host(&h, "bad.example").decision, IndsetDecision::Block);
    let mut decisions = Vec::with_capacity(QUERIES.len() * 3 * 100);
    let n = allocations_on_this_thread(|| {
        for _ in 0..100 {
            for q in QUERIES {
                decisions.push(host(&h, q).decision);
                let mut v = std::mem::MaybeUninit::uninit();
                let url = "https://bad.example/help/faq";
                // SAFETY: as in `host`.
                unsafe {
                    indset_check_url(h.0, url.as_ptr().cast(), url.len(), v.as_mut_ptr());
                    indset_check_at(
                        h.0,
                        url.as_ptr().cast(),
                        url.len(),
                        IndsetMode::Full as u32,
                        NOW.0,
                        v.as_mut_ptr(),
                    );
                    decisions.push(v.assume_init().decision);
                }
            }
        }
    });
    assert_eq!(n, 0, "{n} allocations in 1,500 checks");
    // The answers are the ones the rules give: a domain covers its
    // subdomains, a Url indicator beats a domain one, audits never decide.
    assert_eq!(
        &decisions[..10],
        [
            IndsetDecision::Block,
            IndsetDecision::Allow,
            IndsetDecision::Block,
            IndsetDecision::Allow,
            IndsetDecision::Audit,
            IndsetDecision::Allow,
            IndsetDecision::None,
            IndsetDecision::Allow,
            IndsetDecision::None,
            IndsetDecision::Allow,
        ]
    );
}

/// The first bytes real clients sent (tests/fixtures/flow), with their
/// transport and the protocol they are.
const FLOWS: [(&str, IndsetTransport, IndsetProtocol); 6] = [
    (
        "tls-python-1-example-com.bin",
        IndsetTransport::Tcp,
        IndsetProtocol::Tls,
    ),
    (
        "tls-python-big.bin",
        IndsetTransport::Tcp,
        IndsetProtocol::Tls,
    ),
    (
        "http-curl-1-example-com.bin",
        IndsetTransport::Tcp,
        IndsetProtocol::Http,
    ),
    (
        "dns-dig-udp-1-example-com.bin",
        IndsetTransport::Udp,
        IndsetProtocol::Dns,
    ),
    (
        "dns-dig-tcp-1-example-com.bin",
        IndsetTransport::Tcp,
        IndsetProtocol::Dns,
    ),
    (
        "quic-aioquic-1-example-com.bin",
        IndsetTransport::Udp,
        IndsetProtocol::Quic,
    ),
];

#[test]
fn flow_checks_do_not_allocate() {
    let h = open(&compile(
        "IndicatorType,IndicatorValue,Action\nDomainName,example.com,Block\n",
    ));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/flow");
    let flows: Vec<(Vec<u8>, IndsetTransport, IndsetProtocol)> = FLOWS
        .iter()
        .map(|&(name, t, p)| (std::fs::read(dir.join(name)).expect(name), t, p))
        .collect();
    let check = |bytes: &[u8], t: IndsetTransport| {
        let mut v = std::mem::MaybeUninit::uninit();
        // SAFETY: a live handle, `bytes` valid for its length, `v` writable.
        let s = unsafe {
            indset_check_flow(h.0, bytes.as_ptr(), bytes.len(), t as u32, v.as_mut_ptr())
        };
        assert_eq!(s, IndsetStatus::Ok);
        // SAFETY: written on `Ok`.
        unsafe { v.assume_init() }
    };
    check(&flows[0].0, flows[0].1);
    let mut answers = Vec::with_capacity(flows.len() * 50);
    let n = allocations_on_this_thread(|| {
        for _ in 0..50 {
            for (bytes, t, _) in &flows {
                answers.push(check(bytes, *t));
            }
        }
    });
    assert_eq!(n, 0, "{n} allocations in {} flow checks", answers.len());
    // Every capture names example.com (big.example.com for the big one),
    // which the set blocks.
    for (v, (_, _, protocol)) in answers.iter().zip(flows.iter().cycle()) {
        assert_eq!(v.protocol, *protocol as u8);
        assert_eq!(v.decision, IndsetDecision::Block);
    }
}

#[test]
fn checks_do_not_allocate_while_another_thread_swaps() {
    let first = compile(FIRST);
    let second = compile(SECOND);
    let h = open(&first);
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let checker = scope.spawn(|| {
            host(&h, "bad.example");
            let mut seen = [0usize; 2];
            let n = allocations_on_this_thread(|| {
                for _ in 0..20_000 {
                    let v = host(&h, "bad.example");
                    seen[usize::from(v.generation % 2 == 0)] += 1;
                    let want = if v.generation % 2 == 1 {
                        IndsetDecision::Block
                    } else {
                        IndsetDecision::Allow
                    };
                    assert_eq!(v.decision, want, "generation {}", v.generation);
                }
            });
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            (n, seen)
        });
        let mut swaps = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) && swaps < 200 {
            let bytes = if swaps % 2 == 0 { &second } else { &first };
            // SAFETY: a live handle; `bytes` valid for its length.
            let s = unsafe { indset_swap_bytes(h.0, bytes.as_ptr(), bytes.len(), ptr::null_mut()) };
            assert_eq!(s, IndsetStatus::Ok);
            swaps += 1;
        }
        let (n, seen) = checker.join().expect("the checker");
        assert_eq!(
            n, 0,
            "{n} allocations in 20,000 checks during {swaps} swaps"
        );
        assert!(seen[0] > 0, "{seen:?}");
    });
}
