//! `flow::inspect` and `check_flow` on first bytes captured from real
//! clients (curl, `openssl s_client`, Python's `ssl`, dig, aioquic) by
//! scripts/capture-flows.sh: tests/fixtures/flow/README.md says how. The
//! expected names are the ones the clients were given on their command
//! lines (MANIFEST.tsv), compared after canonicalisation (a client sends
//! an IDN as its A-label, may drop a trailing dot, keeps the case).

use std::path::PathBuf;

use indset::canon;
use indset::flow::{self, Detail, Inspection, Protocol, Scratch, Transport};
use indset::{Action, Decision, FlowStatus, Kind, Mode};
use indset_test_support::fixtures::{NOW, compile, ind};

struct Fixture {
    file: String,
    bytes: Vec<u8>,
    transport: Transport,
    protocol: Protocol,
    client: String,
    name: String,
}

fn fixtures() -> Vec<Fixture> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flow");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let all: Vec<Fixture> = manifest
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "{line}");
            Fixture {
                file: f[0].to_string(),
                bytes: std::fs::read(dir.join(f[0])).expect(f[0]),
                transport: match f[1] {
                    "tcp" => Transport::Tcp,
                    "udp" => Transport::Udp,
                    t => panic!("transport {t}"),
                },
                protocol: match f[2] {
                    "tls" => Protocol::Tls,
                    "http" => Protocol::Http,
                    "dns" => Protocol::Dns,
                    "quic" => Protocol::Quic,
                    p => panic!("protocol {p}"),
                },
                client: f[3].to_string(),
                name: f[4].to_string(),
            }
        })
        .collect();
    assert!(all.len() >= 50, "{} fixtures", all.len());
    all
}

/// The canonical host of a name as a client was given it, or as sent
/// (with a port, for `CONNECT`).
fn canonical(name: &[u8]) -> String {
    let mut buf = [0u8; canon::HOST_BUF_LEN];
    let (_, n) = canon::query_host(name, &mut buf)
        .unwrap_or_else(|e| panic!("{}: {e:?}", String::from_utf8_lossy(name)));
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

fn quic_readable() -> bool {
    cfg!(feature = "quic")
}

#[test]
fn every_fixture_names_what_the_client_was_given() {
    let mut named = 0;
    for fx in fixtures() {
        let mut scratch = Scratch::new();
        let seen = flow::inspect(&fx.bytes, fx.transport, &mut scratch);
        let what = format!("{} ({}, {:?})", fx.file, fx.client, seen);
        if fx.protocol == Protocol::Quic && !quic_readable() {
            assert_eq!(
                seen,
                Inspection::NoName {
                    protocol: Protocol::Quic
                },
                "{what}"
            );
            continue;
        }
        if fx.name.is_empty() {
            assert_eq!(
                seen,
                Inspection::NoName {
                    protocol: fx.protocol
                },
                "{what}"
            );
            continue;
        }
        let Inspection::Name {
            protocol,
            host,
            url,
            ech,
            detail,
        } = seen
        else {
            panic!("{what}");
        };
        assert_eq!(protocol, fx.protocol, "{what}");
        assert!(!ech, "no client here offers ECH: {what}");
        assert_eq!(canonical(host), canonical(fx.name.as_bytes()), "{what}");
        match (fx.protocol, fx.client.as_str()) {
            (Protocol::Http, "curl") => {
                // Origin form: the URL is built from Host and the target.
                let url = url.expect("a URL");
                let want = format!("http://{}/path/to?q=1", String::from_utf8_lossy(host));
                assert_eq!(String::from_utf8_lossy(url), want, "{what}");
                assert!(matches!(
                    detail,
                    Detail::Http {
                        method: b"GET",
                        target: b"/path/to?q=1"
                    }
                ));
            }
            (Protocol::Http, "curl-proxy") => {
                // Absolute form: the target is the URL.
                let url = url.expect("a URL");
                let want = format!("http://{}/proxied/page.html", String::from_utf8_lossy(host));
                assert_eq!(String::from_utf8_lossy(url), want, "{what}");
            }
            (Protocol::Http, "curl-connect") => {
                assert_eq!(url, None, "{what}");
                assert!(host.ends_with(b":443"), "{what}");
                assert!(matches!(
                    detail,
                    Detail::Http {
                        method: b"CONNECT",
                        ..
                    }
                ));
            }
            (Protocol::Dns, _) => {
                assert_eq!(url, None);
                let Detail::Dns(q) = detail else {
                    panic!("{what}")
                };
                // dig was asked for AAAA in class IN.
                assert_eq!((q.qtype, q.qclass), (28, 1), "{what}");
            }
            _ => assert_eq!(url, None, "{what}"),
        }
        named += 1;
    }
    assert!(named >= 45, "{named} named");
}

/// Every prefix of a TCP fixture asks for more, truthfully: it never asks
/// for more than the rest of the message, and one byte less than it asks
/// for is still not enough.
#[test]
fn every_prefix_of_a_tcp_flow_asks_for_more_truthfully() {
    for fx in fixtures()
        .into_iter()
        .filter(|f| f.transport == Transport::Tcp)
    {
        let full = fx.bytes.len();
        let mut scratch = Scratch::new();
        let whole = format!("{:?}", flow::inspect(&fx.bytes, fx.transport, &mut scratch));
        for k in 1..full {
            let mut scratch = Scratch::new();
            let seen = flow::inspect(&fx.bytes[..k], fx.transport, &mut scratch);
            let Inspection::NeedMore { protocol, need } = seen else {
                panic!("{} first {k} of {full} bytes: {seen:?}", fx.file);
            };
            assert_eq!(protocol, fx.protocol, "{} at {k}", fx.file);
            assert!(
                need >= 1 && k + need <= full,
                "{} at {k}: need {need} of {full}",
                fx.file
            );
            if need > 1 {
                let mut scratch = Scratch::new();
                let short = flow::inspect(&fx.bytes[..k + need - 1], fx.transport, &mut scratch);
                assert!(
                    matches!(short, Inspection::NeedMore { .. }),
                    "{} at {k}+{need}-1",
                    fx.file
                );
            }
            // Feeding exactly what was asked for, again and again, ends
            // with the whole answer.
            let mut at = k;
            loop {
                let mut scratch = Scratch::new();
                match flow::inspect(&fx.bytes[..at], fx.transport, &mut scratch) {
                    Inspection::NeedMore { need, .. } => at += need,
                    done => {
                        assert_eq!(format!("{done:?}"), whole, "{} from {k}", fx.file);
                        break;
                    }
                }
                assert!(at <= full, "{} from {k}: asked past the end", fx.file);
            }
        }
    }
}

/// The ClientHello of a TLS fixture carried in records of `size` bytes
/// each: TLS lets a handshake message span any number of records.
fn reframe(record: &[u8], size: usize) -> Vec<u8> {
    let (head, body) = record.split_at(5);
    let len = u16::from_be_bytes([head[3], head[4]]) as usize;
    let mut out = Vec::new();
    for chunk in body[..len].chunks(size) {
        out.extend_from_slice(&head[..3]);
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

#[test]
fn a_client_hello_split_over_records_names_the_same() {
    for fx in fixtures()
        .into_iter()
        .filter(|f| f.protocol == Protocol::Tls)
    {
        let mut scratch = Scratch::new();
        let whole = format!(
            "{:?}",
            flow::inspect(&fx.bytes, Transport::Tcp, &mut scratch)
        );
        for size in [1, 2, 3, 4, 5, 7, 64, 100, 255, 256, 511, 1000, 1400] {
            let bytes = reframe(&fx.bytes, size);
            let mut scratch = Scratch::new();
            let seen = flow::inspect(&bytes, Transport::Tcp, &mut scratch);
            assert_eq!(
                format!("{seen:?}"),
                whole,
                "{} in records of {size}",
                fx.file
            );
            // And each prefix of the records asks for more.
            for k in (1..bytes.len()).step_by(size.max(13)) {
                let mut scratch = Scratch::new();
                let seen = flow::inspect(&bytes[..k], Transport::Tcp, &mut scratch);
                match seen {
                    Inspection::NeedMore { need, .. } => assert!(k + need <= bytes.len()),
                    other => panic!("{} in records of {size}, first {k}: {other:?}", fx.file),
                }
            }
        }
    }
}

#[test]
fn the_big_client_hello_spans_more_than_a_packet() {
    let fx = fixtures()
        .into_iter()
        .find(|f| f.file == "tls-python-big.bin")
        .unwrap();
    assert!(fx.bytes.len() > 1500, "{}", fx.bytes.len());
    let mut scratch = Scratch::new();
    // One Ethernet-sized TCP segment is not enough, and says how much is
    // missing: the record's length.
    let seen = flow::inspect(&fx.bytes[..1448], Transport::Tcp, &mut scratch);
    assert_eq!(
        seen,
        Inspection::NeedMore {
            protocol: Protocol::Tls,
            need: fx.bytes.len() - 1448
        }
    );
}

#[cfg(feature = "quic")]
#[test]
fn a_quic_client_hello_over_several_initials() {
    let fx = fixtures()
        .into_iter()
        .find(|f| f.file == "quic-aioquic-big.bin")
        .unwrap();
    // aioquic pads every Initial datagram to 1200 bytes; its 200 ALPNs
    // make a ClientHello of three Initials.
    let datagrams: Vec<&[u8]> = fx.bytes.chunks(1200).take(3).collect();
    assert_eq!(datagrams.len(), 3);
    for k in 1..3 {
        let mut scratch = Scratch::new();
        let seen = flow::inspect(&fx.bytes[..1200 * k], Transport::Udp, &mut scratch);
        assert!(
            matches!(
                seen,
                Inspection::NeedMore {
                    protocol: Protocol::Quic,
                    ..
                }
            ),
            "{k}: {seen:?}"
        );
    }
    let mut scratch = Scratch::new();
    let seen = flow::inspect(&fx.bytes[..3600], Transport::Udp, &mut scratch);
    assert!(
        matches!(
            seen,
            Inspection::Name {
                host: b"big.example.com",
                ..
            }
        ),
        "{seen:?}"
    );
    // The datagrams in any order: the CRYPTO frames are put in place.
    for order in [[2, 1, 0], [1, 0, 2], [2, 0, 1]] {
        let bytes: Vec<u8> = order
            .iter()
            .flat_map(|i| datagrams[*i].iter().copied())
            .collect();
        let mut scratch = Scratch::new();
        let seen = flow::inspect(&bytes, Transport::Udp, &mut scratch);
        assert!(
            matches!(
                seen,
                Inspection::Name {
                    host: b"big.example.com",
                    ..
                }
            ),
            "{order:?}: {seen:?}"
        );
    }
}

/// The verdicts for the fixtures against a small set, in both modes.
#[test]
fn check_flow_verdicts() {
    let inds = vec![
        ind(Kind::DomainName, "example.com", Action::Block),
        ind(Kind::DomainName, "bücher.example", Action::Warn),
        ind(Kind::DomainName, "deep.example.net", Action::Audit),
        // A path: only full mode sees it, only on HTTP.
        ind(Kind::Url, "http://example.org/proxied/", Action::Block),
    ];
    let set = compile(&inds);
    for fx in fixtures() {
        for mode in [Mode::Full, Mode::Domain] {
            let v = set.check_flow_at(&fx.bytes, fx.transport, mode, NOW);
            let what = format!("{} {mode:?}: {v:?}", fx.file);
            assert_eq!(v.protocol, Some(fx.protocol), "{what}");
            if fx.name.is_empty() || (fx.protocol == Protocol::Quic && !quic_readable()) {
                assert_eq!(v.status, FlowStatus::NoName, "{what}");
                assert_eq!(v.verdict.decision, Decision::None, "{what}");
                continue;
            }
            assert_eq!(v.status, FlowStatus::Checked, "{what}");
            let host = canonical(fx.name.as_bytes());
            let want = if host == "example.com" || host.ends_with(".example.com") {
                Decision::Block
            } else if host == "xn--bcher-kva.example" {
                Decision::Warn
            } else if host.ends_with("deep.example.net") {
                Decision::Audit
            } else if host == "example.org" && mode == Mode::Full && fx.client == "curl-proxy" {
                Decision::Block
            } else {
                Decision::None
            };
            assert_eq!(v.verdict.decision, want, "{what}");
        }
    }
}

#[test]
fn the_flow_types_are_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<Scratch>();
    both::<Inspection<'static>>();
    both::<indset::FlowVerdict>();
    both::<flow::dns::DnsError>();
    // The error says how to fix it.
    let e = flow::dns::DnsError::BufferTooSmall { need: 70 };
    assert_eq!(
        e.to_string(),
        "the output buffer is too small: the answer needs 70 bytes"
    );
}
