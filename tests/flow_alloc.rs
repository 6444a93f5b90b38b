//! Zero heap allocations per flow check: a counting global allocator
//! around `check_flow` on every captured fixture (TLS, HTTP, DNS and, with
//! the `quic` feature, QUIC with its key derivation and decryption), every
//! prefix of them, and `write_block_answer`.

use indset_test_support::alloc;
use indset_test_support::fixtures::{NOW, compile, ind};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

use alloc::allocations_on_this_thread as allocations;

use indset::flow::Transport;
use indset::flow::dns::{self, BlockAnswer};
use indset::{Action, Decision, FlowStatus, Kind, Mode};

#[test]
fn flow_checks_never_allocate() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flow");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let flows: Vec<(Vec<u8>, Transport)> = manifest
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let t = if f[1] == "udp" {
                Transport::Udp
            } else {
                Transport::Tcp
            };
            (std::fs::read(dir.join(f[0])).unwrap(), t)
        })
        .collect();
    let set = compile(&[
        ind(Kind::DomainName, "example.com", Action::Block),
        ind(Kind::Url, "http://example.org/proxied/", Action::Block),
        ind(Kind::DomainName, "deep.example.net", Action::Audit),
    ]);
    let mut checked = 0usize;
    let mut blocked = 0usize;
    let mut answered = 0usize;
    let mut out = [0u8; 1024];
    let n = allocations(|| {
        for (bytes, transport) in &flows {
            for mode in [Mode::Full, Mode::Domain] {
                let v = set.check_flow_at(bytes, *transport, mode, NOW);
                checked += usize::from(v.status == FlowStatus::Checked);
                blocked += usize::from(v.verdict.decision == Decision::Block);
                let v = set.check_flow(bytes, *transport, mode);
                checked += usize::from(v.status == FlowStatus::Checked);
            }
            for k in (1..bytes.len()).step_by(7) {
                std::hint::black_box(set.check_flow_at(&bytes[..k], *transport, Mode::Full, NOW));
            }
            for answer in [BlockAnswer::NxDomain, BlockAnswer::Unspecified] {
                answered += usize::from(
                    dns::write_block_answer(bytes, *transport, answer, &mut out).is_ok(),
                );
            }
        }
    });
    assert_eq!(n, 0, "allocations during {} flows", flows.len());
    // The checks did find names, block some, and answer the DNS queries.
    let quic = if cfg!(feature = "quic") { 7 } else { 0 };
    assert_eq!(checked, (flows.len() - 1 - 7 + quic) * 4, "checked");
    assert!(blocked > 20, "{blocked} blocked");
    assert_eq!(answered, 12 * 2, "answered");
    assert!(allocations(|| drop(std::hint::black_box(vec![1u8; 16]))) > 0);
}
