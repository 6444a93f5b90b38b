//! Deciding from a flow's first bytes: ns per ClientHello, DNS query, HTTP
//! head and QUIC Initial, read by `flow::inspect` alone, by
//! `check_flow` (inspect + the lookup, on a set of the real lists of
//! `data/`), and by the reference parsers the tests compare with
//! (`tls-parser`, `simple-dns`, `httparse`) on the same bytes. The bytes
//! are captures from real clients (tests/fixtures/flow/).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use indset::flow::{self, Scratch, Transport};
use indset::{IndicatorSet, Mode, Timestamp};
use indset_test_support::data;

fn fixture(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/flow");
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn flows(c: &mut Criterion) {
    let set = IndicatorSet::from_bytes(indset::compile::build(&data::dedup(data::real())))
        .expect("set opens");
    let now = Timestamp(1_700_000_000);
    let tls = fixture("tls-curl-1-example-com.bin");
    let dns = fixture("dns-dig-udp-1-example-com.bin");
    let http = fixture("http-curl-1-example-com.bin");
    let quic = fixture("quic-aioquic-1-example-com.bin");
    let mut scratch = Box::new(Scratch::new());

    let mut g = c.benchmark_group("flow_tls");
    g.bench_function("inspect", |b| {
        b.iter(|| {
            black_box(flow::inspect(black_box(&tls), Transport::Tcp, &mut scratch));
        })
    });
    g.bench_function("check_flow", |b| {
        b.iter(|| black_box(set.check_flow_at(black_box(&tls), Transport::Tcp, Mode::Domain, now)))
    });
    g.bench_function("tls-parser", |b| {
        b.iter(|| black_box(tls_parser_sni(black_box(&tls))))
    });
    g.finish();

    let mut g = c.benchmark_group("flow_dns");
    g.bench_function("inspect", |b| {
        b.iter(|| {
            black_box(flow::inspect(black_box(&dns), Transport::Udp, &mut scratch));
        })
    });
    g.bench_function("check_flow", |b| {
        b.iter(|| black_box(set.check_flow_at(black_box(&dns), Transport::Udp, Mode::Domain, now)))
    });
    g.bench_function("simple-dns", |b| {
        b.iter(|| {
            let p = simple_dns::Packet::parse(black_box(&dns)).ok();
            black_box(p.map(|p| p.questions.len()))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("flow_http");
    g.bench_function("inspect", |b| {
        b.iter(|| {
            black_box(flow::inspect(
                black_box(&http),
                Transport::Tcp,
                &mut scratch,
            ));
        })
    });
    g.bench_function("check_flow", |b| {
        b.iter(|| black_box(set.check_flow_at(black_box(&http), Transport::Tcp, Mode::Full, now)))
    });
    g.bench_function("httparse", |b| {
        b.iter(|| {
            let mut headers = [httparse::EMPTY_HEADER; 100];
            let mut req = httparse::Request::new(&mut headers);
            black_box(req.parse(black_box(&http)).ok());
            black_box(req.path);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("flow_quic");
    g.bench_function("inspect", |b| {
        b.iter(|| {
            black_box(flow::inspect(
                black_box(&quic),
                Transport::Udp,
                &mut scratch,
            ));
        })
    });
    g.bench_function("check_flow", |b| {
        b.iter(|| black_box(set.check_flow_at(black_box(&quic), Transport::Udp, Mode::Domain, now)))
    });
    g.finish();
}

/// The server name as tls-parser reads it.
fn tls_parser_sni(record: &[u8]) -> Option<usize> {
    use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};
    let (_, plain) = tls_parser::parse_tls_plaintext(record).ok()?;
    let Some(TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello))) = plain.msg.first()
    else {
        return None;
    };
    let (_, exts) = tls_parser::parse_tls_client_hello_extensions(hello.ext?).ok()?;
    exts.iter().find_map(|e| match e {
        TlsExtension::SNI(names) => names.first().map(|(_, n)| n.len()),
        _ => None,
    })
}

criterion_group!(benches, flows);
criterion_main!(benches);
