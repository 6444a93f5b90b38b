//! `flow::inspect` against independent parsers: `tls-parser` for
//! ClientHellos, `simple-dns` for DNS queries and the blocking answers,
//! `httparse` used directly for HTTP heads. On the captured fixtures, on
//! generated messages (proptest), and on damaged fixtures: wherever the
//! reference reads a name, `inspect` reads the same one.

use std::path::PathBuf;

use indset::flow::dns::{self, BlockAnswer};
use indset::flow::{self, Detail, Inspection, Protocol, Scratch, Transport};
use proptest::prelude::*;
use simple_dns::rdata::RData;
use simple_dns::{CLASS, Name, Packet, QCLASS, QTYPE, Question, RCODE, TYPE};
use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flow")
}

/// The fixtures whose file name starts with `prefix`.
fn fixtures(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix) && n.ends_with(".bin"))
        .map(|n| {
            let b = std::fs::read(fixture_dir().join(&n)).unwrap();
            (n, b)
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no fixtures {prefix}*");
    v
}

/// What `tls-parser` reads from one TLS record: `None` if it is not a
/// ClientHello, else its first host_name (`Some(None)` without one) and
/// whether the ECH extension is there.
fn tls_reference(record: &[u8]) -> Option<(Option<Vec<u8>>, bool)> {
    let (_, plain) = tls_parser::parse_tls_plaintext(record).ok()?;
    let Some(TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello))) = plain.msg.first()
    else {
        return None;
    };
    let Some(ext) = hello.ext else {
        return Some((None, false));
    };
    let (rest, exts) = tls_parser::parse_tls_client_hello_extensions(ext).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let mut sni = None;
    let mut ech = false;
    for e in &exts {
        match e {
            TlsExtension::SNI(names) => {
                sni = names
                    .iter()
                    .find(|(t, _)| t.0 == 0)
                    .map(|(_, n)| n.to_vec());
            }
            TlsExtension::Unknown(t, data) if t.0 == 0xfe0d => ech = data.first() == Some(&0),
            _ => {}
        }
    }
    Some((sni.filter(|n| !n.is_empty()), ech))
}

fn ours(bytes: &[u8], transport: Transport) -> String {
    let mut scratch = Scratch::new();
    format!("{:?}", flow::inspect(bytes, transport, &mut scratch))
}

fn tls_ours(record: &[u8]) -> Option<(Option<Vec<u8>>, bool)> {
    let mut scratch = Scratch::new();
    match flow::inspect(record, Transport::Tcp, &mut scratch) {
        Inspection::Name {
            protocol: Protocol::Tls,
            host,
            ech,
            ..
        } => Some((Some(host.to_vec()), ech)),
        Inspection::NoName {
            protocol: Protocol::Tls,
        } => Some((None, false)),
        _ => None,
    }
}

#[test]
fn tls_fixtures_agree_with_tls_parser() {
    for (name, bytes) in fixtures("tls-") {
        let reference = tls_reference(&bytes).unwrap_or_else(|| panic!("{name}: tls-parser"));
        assert_eq!(tls_ours(&bytes), Some(reference), "{name}");
    }
}

/// A ClientHello with the ECH extension added (no client here sends one):
/// the outer name is read, and the flag set, as tls-parser sees it too.
#[test]
fn ech_is_flagged_and_the_outer_name_read() {
    for (name, bytes) in fixtures("tls-curl-1") {
        let with_ech = add_extension(&bytes, 0xfe0d, &[0, 0, 1, 0, 1, 7, 0, 0, 0, 0]);
        let reference = tls_reference(&with_ech).unwrap();
        assert_eq!(reference, (Some(b"example.com".to_vec()), true), "{name}");
        assert_eq!(tls_ours(&with_ech), Some(reference), "{name}");
        let v = indset_test_support::fixtures::compile(&[indset_test_support::fixtures::ind(
            indset::Kind::DomainName,
            "example.com",
            indset::Action::Block,
        )])
        .check_flow(&with_ech, Transport::Tcp, indset::Mode::Domain);
        assert!(
            v.ech && v.verdict.decision == indset::Decision::Block,
            "{v:?}"
        );
    }
}

/// `record` (one TLS record holding a ClientHello) with an extension
/// appended, every length fixed.
fn add_extension(record: &[u8], kind: u16, data: &[u8]) -> Vec<u8> {
    let mut ext = kind.to_be_bytes().to_vec();
    ext.extend_from_slice(&(data.len() as u16).to_be_bytes());
    ext.extend_from_slice(data);
    let body = &record[9..];
    // Skip version, random, session id, suites, compression.
    let mut at = 34;
    at += 1 + body[at] as usize;
    at += 2 + u16::from_be_bytes([body[at], body[at + 1]]) as usize;
    at += 1 + body[at] as usize;
    let exts_len = u16::from_be_bytes([body[at], body[at + 1]]) as usize;
    let mut new_body = body[..at].to_vec();
    new_body.extend_from_slice(&((exts_len + ext.len()) as u16).to_be_bytes());
    new_body.extend_from_slice(&body[at + 2..at + 2 + exts_len]);
    new_body.extend_from_slice(&ext);
    client_hello_record(&new_body)
}

fn client_hello_record(body: &[u8]) -> Vec<u8> {
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(body);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// A generated ClientHello body: session id, suites, extensions in a
/// random order, one of them maybe `server_name`.
fn client_hello_body(
    sid: &[u8],
    suites: &[u16],
    exts: &[(u16, Vec<u8>)],
    sni: Option<&[u8]>,
    sni_at: usize,
) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7; 32]);
    b.push(sid.len() as u8);
    b.extend_from_slice(sid);
    b.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        b.extend_from_slice(&s.to_be_bytes());
    }
    b.extend_from_slice(&[1, 0]);
    let mut list: Vec<(u16, Vec<u8>)> = exts.to_vec();
    if let Some(name) = sni {
        let mut d = ((name.len() + 3) as u16).to_be_bytes().to_vec();
        d.push(0);
        d.extend_from_slice(&(name.len() as u16).to_be_bytes());
        d.extend_from_slice(name);
        list.insert(sni_at.min(list.len()), (0, d));
    }
    let mut e = Vec::new();
    for (t, d) in &list {
        e.extend_from_slice(&t.to_be_bytes());
        e.extend_from_slice(&(d.len() as u16).to_be_bytes());
        e.extend_from_slice(d);
    }
    b.extend_from_slice(&(e.len() as u16).to_be_bytes());
    b.extend_from_slice(&e);
    b
}

fn host_name() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec("[a-zA-Z0-9-]{1,20}", 1..5).prop_map(|l| l.join(".").into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Generated ClientHellos: the same name (or none) as tls-parser, and
    /// the same answer when split into records of any size.
    #[test]
    fn generated_client_hellos_agree(
        sid in prop::collection::vec(any::<u8>(), 0..=32),
        suites in prop::collection::vec(any::<u16>(), 1..40),
        exts in prop::collection::vec(
            // Types tls-parser does not read the insides of (it checks
            // those of the types it knows).
            ((0x0100u16..0x3300), prop::collection::vec(any::<u8>(), 0..300)), 0..12),
        sni in prop::option::of(host_name()),
        sni_at in 0usize..12,
        size in 1usize..600,
    ) {
        let body = client_hello_body(&sid, &suites, &exts, sni.as_deref(), sni_at);
        let record = client_hello_record(&body);
        let reference = tls_reference(&record);
        prop_assert!(reference.is_some());
        prop_assert_eq!(tls_ours(&record), reference.clone());
        prop_assert_eq!(reference.unwrap().0, sni);
        // Records of `size` bytes each.
        let mut split = Vec::new();
        for chunk in record[5..].chunks(size) {
            split.extend_from_slice(&[22, 3, 1]);
            split.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            split.extend_from_slice(chunk);
        }
        prop_assert_eq!(ours(&split, Transport::Tcp), ours(&record, Transport::Tcp));
    }

    /// Damaged fixtures: whenever both read the ClientHello they read the
    /// same name, and whenever tls-parser reads one with a name from a
    /// record holding just it, so does `inspect`. (`inspect` is the more
    /// lenient: it does not check the insides of extensions it does not
    /// read, nor that a record ends where its ClientHello does.)
    #[test]
    fn damaged_client_hellos_agree(
        pick in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let all = fixtures("tls-");
        let (name, bytes) = &all[pick.index(all.len())];
        let mut bytes = bytes.clone();
        for (at, b) in &flips {
            let i = at.index(bytes.len());
            bytes[i] = *b;
        }
        let reference = tls_reference(&bytes);
        let got = tls_ours(&bytes);
        if let (Some((Some(_), _)), Some(_)) = (&got, &reference) {
            prop_assert_eq!(&got, &reference, "{}", name);
        }
        if let Some((Some(_), _)) = &reference {
            // tls-parser reads a record that may be longer than its
            // handshake message; `inspect` needs the message whole.
            let rec = u16::from_be_bytes([bytes[3], bytes[4]]) as usize;
            let hs = u32::from_be_bytes([0, bytes[6], bytes[7], bytes[8]]) as usize;
            if rec == hs + 4 && bytes[1] == 3 && bytes[2] <= 4 {
                prop_assert_eq!(got, reference, "{}", name);
            }
        }
    }
}

// DNS.

/// What simple-dns reads from a query: id, first question's name, type, class.
fn dns_reference(msg: &[u8]) -> Option<(u16, String, u16, u16)> {
    let p = Packet::parse(msg).ok()?;
    let q = p.questions.first()?;
    // simple-dns reads the class's top bit as mDNS's unicast-response
    // flag and drops it; unicast DNS has no such flag, so the class is
    // the whole 16 bits, which `q.unicast_response` gives back.
    let top = if q.unicast_response { 0x8000 } else { 0 };
    Some((
        p.id(),
        q.qname.to_string(),
        u16::from(q.qtype),
        u16::from(q.qclass) | top,
    ))
}

fn dns_ours(bytes: &[u8], transport: Transport) -> Option<(u16, String, u16, u16)> {
    let mut scratch = Scratch::new();
    match flow::inspect(bytes, transport, &mut scratch) {
        Inspection::Name {
            protocol: Protocol::Dns,
            host,
            detail: Detail::Dns(q),
            ..
        } => Some((
            q.id,
            String::from_utf8(host.to_vec()).ok()?,
            q.qtype,
            q.qclass,
        )),
        _ => None,
    }
}

#[test]
fn dns_fixtures_agree_with_simple_dns() {
    for (name, bytes) in fixtures("dns-dig-udp") {
        let reference = dns_reference(&bytes).unwrap();
        assert_eq!(dns_ours(&bytes, Transport::Udp), Some(reference), "{name}");
    }
    for (name, bytes) in fixtures("dns-dig-tcp") {
        let reference = dns_reference(&bytes[2..]).unwrap();
        assert_eq!(dns_ours(&bytes, Transport::Tcp), Some(reference), "{name}");
    }
}

fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    query_with_edns(id, name, qtype, None)
}

/// A query with, when `edns` says so, an OPT record of that version and
/// DNSSEC OK bit, written here: simple-dns 0.13 reads and writes the
/// version in the flags' upper byte, where RFC 6891 puts the DO bit.
fn query_with_edns(id: u16, name: &str, qtype: u16, edns: Option<(u8, bool)>) -> Vec<u8> {
    let mut p = Packet::new_query(id);
    p.set_flags(simple_dns::PacketFlag::RECURSION_DESIRED);
    p.questions.push(Question::new(
        Name::new_unchecked(name),
        QTYPE::TYPE(TYPE::from(qtype)),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    let mut bytes = p.build_bytes_vec().unwrap();
    if let Some((version, dnssec_ok)) = edns {
        bytes[11] = 1;
        // Root name, OPT, 4096 bytes; extended rcode, version, flags; no
        // options.
        bytes.extend_from_slice(&[0, 0, 41, 0x10, 0, 0, version]);
        bytes.extend_from_slice(&[if dnssec_ok { 0x80 } else { 0 }, 0, 0, 0]);
    }
    bytes
}

/// An answer's OPT record when it ends with one without options (as
/// blocking answers do): (extended rcode, version, DO bit, payload size).
fn answer_edns(answer: &[u8]) -> Option<(u8, u8, bool, u16)> {
    let opt = answer.get(answer.len().checked_sub(11)?..)?;
    (opt[..3] == [0, 0, 41] && opt[9..] == [0, 0]).then(|| {
        (
            opt[5],
            opt[6],
            opt[7] & 0x80 != 0,
            u16::from_be_bytes([opt[3], opt[4]]),
        )
    })
}

/// The blocking answer, read back by simple-dns: same id and question,
/// the rcode and records asked for.
fn check_answer(q: &[u8], transport: Transport, answer: BlockAnswer) -> Result<(), TestCaseError> {
    let msg = if transport == Transport::Tcp {
        &q[2..]
    } else {
        q
    };
    let (id, name, qtype, _) = dns_reference(msg).unwrap();
    let mut out = [0u8; 600];
    let n = dns::write_block_answer(q, transport, answer, &mut out).unwrap();
    prop_assert!(n <= q.len() + 28, "{n} for {}", q.len());
    let a = if transport == Transport::Tcp {
        prop_assert_eq!(u16::from_be_bytes([out[0], out[1]]) as usize, n - 2);
        &out[2..n]
    } else {
        &out[..n]
    };
    let p = Packet::parse(a).unwrap();
    // EDNS in the query, EDNS in the answer (RFC 6891): version 0, no
    // options, the query's DO bit. The query's OPT record follows its
    // question (the name's wire form is its text and two bytes).
    prop_assert_eq!(
        p.opt().is_some(),
        Packet::parse(msg).unwrap().opt().is_some()
    );
    if p.opt().is_some() {
        let opt = &msg[12 + name.len() + 2 + 4..];
        let (ext, version, dnssec_ok, payload) = answer_edns(a).unwrap();
        prop_assert_eq!((version, payload), (0, dns::EDNS_PAYLOAD));
        prop_assert_eq!(dnssec_ok, opt[7] & 0x80 != 0);
        if opt[6] != 0 {
            // BADVERS: 16, its upper bits in the OPT record, nothing else.
            prop_assert_eq!((ext, a[3] & 0x0f), (1, 0));
            prop_assert!(p.answers.is_empty());
            return Ok(());
        }
        prop_assert_eq!(ext, 0);
    }
    prop_assert_eq!(p.id(), id);
    prop_assert!(p.has_flags(simple_dns::PacketFlag::RESPONSE));
    prop_assert!(p.has_flags(simple_dns::PacketFlag::RECURSION_DESIRED));
    prop_assert_eq!(p.questions.len(), 1);
    prop_assert_eq!(p.questions[0].qname.to_string(), name.clone());
    prop_assert_eq!(u16::from(p.questions[0].qtype), qtype);
    match answer {
        BlockAnswer::NxDomain => {
            prop_assert_eq!(p.rcode(), RCODE::NameError);
            prop_assert!(p.answers.is_empty());
        }
        BlockAnswer::Unspecified => {
            prop_assert_eq!(p.rcode(), RCODE::NoError);
            match qtype {
                1 | 28 => {
                    prop_assert_eq!(p.answers.len(), 1);
                    let rr = &p.answers[0];
                    prop_assert_eq!(rr.name.to_string(), name);
                    match &rr.rdata {
                        RData::A(a) => prop_assert_eq!((qtype, a.address), (1, 0)),
                        RData::AAAA(a) => prop_assert_eq!((qtype, a.address), (28, 0)),
                        other => prop_assert!(false, "{other:?}"),
                    }
                }
                _ => prop_assert!(p.answers.is_empty()),
            }
        }
    }
    Ok(())
}

#[test]
fn block_answers_for_the_fixtures() {
    for (name, bytes) in fixtures("dns-dig-") {
        let transport = if name.contains("-tcp-") {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        for answer in [BlockAnswer::NxDomain, BlockAnswer::Unspecified] {
            check_answer(&bytes, transport, answer).unwrap();
        }
        let mut small = [0u8; 20];
        assert!(matches!(
            dns::write_block_answer(&bytes, transport, BlockAnswer::NxDomain, &mut small),
            Err(dns::DnsError::BufferTooSmall { need }) if need > 20
        ));
    }
    // A and other types, from simple-dns's queries.
    for qtype in [1, 28, 65, 16] {
        let q = query(0x1234, "Blocked.Example.com", qtype);
        check_answer(&q, Transport::Udp, BlockAnswer::Unspecified).unwrap();
        let mut tcp = (q.len() as u16).to_be_bytes().to_vec();
        tcp.extend_from_slice(&q);
        check_answer(&tcp, Transport::Tcp, BlockAnswer::Unspecified).unwrap();
    }
    // EDNS: the answer carries an OPT record with the query's DO bit, and
    // a version the blocker does not speak gets BADVERS.
    for (edns, answer) in [
        ((0, false), BlockAnswer::Unspecified),
        ((0, true), BlockAnswer::Unspecified),
        ((0, true), BlockAnswer::NxDomain),
        ((1, false), BlockAnswer::Unspecified),
        ((1, true), BlockAnswer::NxDomain),
    ] {
        let q = query_with_edns(7, "blocked.example.com", 1, Some(edns));
        check_answer(&q, Transport::Udp, answer).unwrap();
        let mut out = [0u8; 600];
        let n = dns::write_block_answer(&q, Transport::Udp, answer, &mut out).unwrap();
        let (ext, _, dnssec_ok, _) = answer_edns(&out[..n]).unwrap();
        assert_eq!((ext, dnssec_ok), (edns.0, edns.1), "{edns:?}");
    }
    // dig's queries carry EDNS with a cookie: the answers carry EDNS too.
    for (name, bytes) in fixtures("dns-dig-udp") {
        let mut out = [0u8; 600];
        let n = dns::write_block_answer(&bytes, Transport::Udp, BlockAnswer::NxDomain, &mut out)
            .unwrap();
        assert!(Packet::parse(&bytes).unwrap().opt().is_some(), "{name}");
        assert_eq!(answer_edns(&out[..n]), Some((0, 0, false, 1232)), "{name}");
    }
    // Not a query: nothing written.
    let mut out = [0u8; 512];
    for bad in [
        &b""[..],
        b"\x12\x34\x81\x80\0\x01\0\0\0\0\0\0\x03foo\0\0\x01\0\x01",
        b"GET / HTTP/1.1\r\n",
    ] {
        assert_eq!(
            dns::write_block_answer(bad, Transport::Udp, BlockAnswer::NxDomain, &mut out),
            Err(dns::DnsError::NotAQuery)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_queries_agree(
        id in any::<u16>(),
        labels in prop::collection::vec("[a-zA-Z0-9_-]{1,63}", 1..5),
        qtype in prop::sample::select(vec![1u16, 28, 65, 5, 15, 16, 33, 255]),
        tcp in any::<bool>(),
        answer in prop::sample::select(vec![BlockAnswer::NxDomain, BlockAnswer::Unspecified]),
        edns in prop::option::of((0u8..2, any::<bool>())),
    ) {
        let name = labels.join(".");
        prop_assume!(name.len() <= 253);
        let q = query_with_edns(id, &name, qtype, edns);
        let (bytes, transport) = if tcp {
            let mut b = (q.len() as u16).to_be_bytes().to_vec();
            b.extend_from_slice(&q);
            (b, Transport::Tcp)
        } else {
            (q.clone(), Transport::Udp)
        };
        prop_assert_eq!(dns_ours(&bytes, transport), dns_reference(&q));
        check_answer(&bytes, transport, answer)?;
        if tcp {
            // Every prefix asks for exactly the rest, once the length
            // prefix is there.
            for k in 1..bytes.len() {
                let mut scratch = Scratch::new();
                let seen = flow::inspect(&bytes[..k], transport, &mut scratch);
                let need = if k < 2 { 2 - k } else { bytes.len() - k };
                prop_assert_eq!(seen, Inspection::NeedMore { protocol: Protocol::Dns, need });
            }
        }
    }

    /// Damaged queries: whenever `inspect` names a host, simple-dns reads
    /// the same question.
    #[test]
    fn damaged_queries_agree(
        pick in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let all = fixtures("dns-dig-udp");
        let (name, bytes) = &all[pick.index(all.len())];
        let mut bytes = bytes.clone();
        for (at, b) in &flips {
            let i = at.index(bytes.len());
            bytes[i] = *b;
        }
        if let Some(got) = dns_ours(&bytes, Transport::Udp) {
            // simple-dns escapes nothing: compare only plain names.
            if got.1.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_') {
                // simple-dns escapes a dot inside a label.
                if let Some(reference) = dns_reference(&bytes).filter(|r| !r.1.contains('\\')) {
                    prop_assert_eq!(Some(got), Some(reference), "{}", name);
                }
            }
        }
    }
}

// HTTP.

/// What httparse reads directly: method, target, Host.
fn http_reference(head: &[u8]) -> Option<(String, String, Option<String>)> {
    let mut headers = [httparse::EMPTY_HEADER; 100];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return None,
    }
    let host = req
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("host"))
        .map(|h| String::from_utf8_lossy(h.value).trim().to_string());
    Some((req.method?.to_string(), req.path?.to_string(), host))
}

#[test]
fn http_fixtures_agree_with_httparse() {
    for (name, bytes) in fixtures("http-") {
        let (method, target, host) = http_reference(&bytes).unwrap();
        let mut scratch = Scratch::new();
        let seen = flow::inspect(&bytes, Transport::Tcp, &mut scratch);
        let Inspection::Name {
            host: got,
            url,
            detail:
                Detail::Http {
                    method: m,
                    target: t,
                },
            ..
        } = seen
        else {
            panic!("{name}: {seen:?}");
        };
        assert_eq!((m, t), (method.as_bytes(), target.as_bytes()), "{name}");
        match method.as_str() {
            "CONNECT" => assert_eq!(got, target.as_bytes(), "{name}"),
            _ if target.starts_with('/') => {
                let host = host.unwrap();
                assert_eq!(got, host.as_bytes(), "{name}");
                assert_eq!(
                    url.unwrap(),
                    format!("http://{host}{target}").as_bytes(),
                    "{name}"
                );
            }
            _ => {
                // Absolute form: the URL is the target, its host the
                // url crate's.
                assert_eq!(url.unwrap(), target.as_bytes());
                let parsed = url::Url::parse(&target).unwrap();
                let want = parsed.host_str().unwrap().trim_end_matches('.').to_string();
                let got = String::from_utf8_lossy(got).to_ascii_lowercase();
                assert_eq!(got.trim_end_matches('.'), want, "{name}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Generated request heads: the method, target and Host httparse reads.
    #[test]
    fn generated_heads_agree(
        method in prop::sample::select(vec!["GET", "POST", "HEAD", "PUT", "OPTIONS", "PROPFIND"]),
        host in host_name(),
        port in prop::option::of(1u16..),
        path in "(/[a-zA-Z0-9._~%-]{0,12}){1,4}(\\?[a-z0-9=&]{0,20})?",
        extra in prop::collection::vec(("[A-Za-z-]{1,12}", "[ -~]{0,40}"), 0..8),
        host_at in 0usize..8,
        split in any::<prop::sample::Index>(),
    ) {
        let host = String::from_utf8(host).unwrap();
        let authority = match port { Some(p) => format!("{host}:{p}"), None => host.clone() };
        let mut headers: Vec<(String, String)> = extra
            .into_iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
            .collect();
        headers.insert(host_at.min(headers.len()), ("Host".into(), authority.clone()));
        let mut head = format!("{method} {path} HTTP/1.1\r\n");
        for (n, v) in &headers {
            head.push_str(&format!("{n}: {}\r\n", v.trim()));
        }
        head.push_str("\r\n");
        let head = head.into_bytes();
        let (m, t, h) = http_reference(&head).unwrap();
        let mut scratch = Scratch::new();
        let seen = flow::inspect(&head, Transport::Tcp, &mut scratch);
        let url = format!("http://{}{t}", h.clone().unwrap());
        prop_assert_eq!(seen, Inspection::Name {
            protocol: Protocol::Http,
            host: h.as_deref().unwrap().as_bytes(),
            url: Some(url.as_bytes()),
            ech: false,
            detail: Detail::Http { method: m.as_bytes(), target: t.as_bytes() },
        });
        // A head cut anywhere asks for more.
        let k = split.index(head.len());
        if k > 0 {
            let mut scratch = Scratch::new();
            let seen = flow::inspect(&head[..k], Transport::Tcp, &mut scratch);
            prop_assert!(matches!(seen, Inspection::NeedMore { protocol: Protocol::Http, need } if k + need <= head.len()), "{:?}", seen);
        }
    }

    /// Any bytes: no panic, and a name only when the reference reads one.
    #[test]
    fn any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2000), udp in any::<bool>()) {
        let transport = if udp { Transport::Udp } else { Transport::Tcp };
        let mut scratch = Scratch::new();
        match flow::inspect(&bytes, transport, &mut scratch) {
            Inspection::Name { protocol: Protocol::Http, detail: Detail::Http { method, .. }, .. } => {
                let (m, _, _) = http_reference(&bytes).unwrap();
                prop_assert_eq!(m.as_bytes(), method);
            }
            Inspection::Name { protocol: Protocol::Dns, .. } if udp => {
                prop_assert!(dns_reference(&bytes).is_some());
            }
            _ => {}
        }
    }
}

#[test]
fn not_recognised() {
    for (bytes, transport) in [
        (&b""[..], Transport::Tcp),
        (b"SSH-2.0-OpenSSH_9.2\r\n", Transport::Tcp),
        (b"\x16\x02\x00\x00", Transport::Tcp),
        (b"\x17\x03\x03\x00\x10", Transport::Tcp),
        (b"get / HTTP/1.1\r\nHost: a\r\n\r\n", Transport::Tcp),
        (b"\x80\x00", Transport::Udp),
    ] {
        assert_eq!(ours(bytes, transport), "NotRecognised", "{bytes:?}");
    }
    // A ClientHello announcing more than the bound.
    assert_eq!(
        ours(b"\x16\x03\x01\x40\x00\x01\x01\x00\x00", Transport::Tcp),
        "NotRecognised"
    );
    // A DNS response is not a query.
    assert_eq!(
        ours(
            b"\x12\x34\x81\x80\0\x01\0\x01\0\0\0\0\x03foo\0\0\x01\0\x01",
            Transport::Udp
        ),
        "NotRecognised"
    );
}

/// Messages bigger than the buffers `check_flow` tries first: a 9 KB
/// ClientHello over records of 1000 bytes, an HTTP head with a 6 KB
/// target. The answers are those of `inspect` with a whole scratch.
#[test]
fn check_flow_on_messages_past_its_small_buffers() {
    use indset::{Action, Decision, FlowStatus, Kind, Mode};
    use indset_test_support::fixtures::{compile, ind};
    let set = compile(&[
        ind(Kind::DomainName, "big.example.com", Action::Block),
        ind(Kind::Url, "http://long.example/aaaa", Action::Warn),
    ]);
    let (_, big) = &fixtures("tls-python-big")[0];
    // The padding extension (RFC 7685).
    let padded = add_extension(big, 21, &vec![0; 6500]);
    let mut records = Vec::new();
    for chunk in padded[5..].chunks(1000) {
        records.extend_from_slice(&[22, 3, 1]);
        records.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        records.extend_from_slice(chunk);
    }
    assert!(records.len() > 9000);
    let v = set.check_flow(&records, Transport::Tcp, Mode::Domain);
    assert_eq!(
        (v.status, v.verdict.decision),
        (FlowStatus::Checked, Decision::Block),
        "{v:?}"
    );
    let v = set.check_flow(&records[..8000], Transport::Tcp, Mode::Domain);
    assert_eq!(
        v.status,
        FlowStatus::NeedMore(records.len() - 8000),
        "{v:?}"
    );

    let head = format!(
        "GET /aaaa/{} HTTP/1.1\r\nHost: long.example\r\n\r\n",
        "a".repeat(6000)
    );
    let v = set.check_flow(head.as_bytes(), Transport::Tcp, Mode::Full);
    assert_eq!(
        (v.status, v.verdict.decision),
        (FlowStatus::Checked, Decision::Warn),
        "{v:?}"
    );
    let mut scratch = Scratch::new();
    let seen = flow::inspect(head.as_bytes(), Transport::Tcp, &mut scratch);
    let Inspection::Name { url: Some(url), .. } = seen else {
        panic!("{seen:?}")
    };
    assert_eq!(url.len(), "http://long.example/aaaa/".len() + 6000);
    let v = set.check_flow(head.as_bytes(), Transport::Tcp, Mode::Domain);
    assert_eq!(v.verdict.decision, Decision::None, "{v:?}");
}
