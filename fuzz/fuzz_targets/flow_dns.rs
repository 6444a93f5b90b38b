//! `flow_dns`: `flow::inspect` on DNS queries over UDP and TCP, and
//! `dns::write_block_answer`.
//!
//! Properties:
//! 1. no panic;
//! 2. when `inspect` names a host and `simple-dns` reads the query, they
//!    read the same id, name, type and class (names simple-dns escapes
//!    aside);
//! 3. over TCP (the same message with its length prefix) the answer is
//!    the same, and a prefix asks for more truthfully (flow_common.rs);
//! 4. a query `inspect` names gets a blocking answer (at most the query +
//!    28 bytes) that simple-dns reads back, when it reads the query: same
//!    id and question, NXDOMAIN or 0.0.0.0/::; an OPT record (EDNS) when
//!    the query's one additional record is one, none when it has none.
#![no_main]

#[path = "flow_common.rs"]
mod common;

use indset::flow::dns::{self, BlockAnswer};
use indset::flow::{self, Detail, Inspection, Scratch, Transport};
use libfuzzer_sys::fuzz_target;
use simple_dns::Packet;

fuzz_target!(|input: &[u8]| {
    let Some((&knobs, msg)) = input.split_first() else {
        return;
    };
    let mut scratch = Scratch::new();
    let seen = flow::inspect(msg, Transport::Udp, &mut scratch);
    let mut tcp = (msg.len() as u16).to_be_bytes().to_vec();
    tcp.extend_from_slice(msg);
    let Inspection::Name {
        host,
        detail: Detail::Dns(q),
        ..
    } = seen
    else {
        common::check_prefixes(&tcp, Transport::Tcp, usize::from(knobs));
        return;
    };
    let host = String::from_utf8_lossy(host).into_owned();
    if let Ok(p) = Packet::parse(msg) {
        let r = &p.questions[0];
        let name = r.qname.to_string();
        if !name.contains('\\') && host.is_ascii() {
            assert_eq!(
                (p.id(), name, u16::from(r.qtype), u16::from(r.qclass)),
                // simple-dns reads the top bit of the class as mDNS's
                // unicast-response flag.
                (q.id, host.clone(), q.qtype, q.qclass & 0x7fff)
            );
        }
    }
    if msg.len() <= dns::MAX_TCP_QUERY {
        assert_eq!(
            common::answer(&tcp, Transport::Tcp),
            common::answer(msg, Transport::Udp)
        );
    }
    common::check_prefixes(&tcp, Transport::Tcp, usize::from(knobs));

    let answer = if knobs & 1 == 0 {
        BlockAnswer::NxDomain
    } else {
        BlockAnswer::Unspecified
    };
    let mut out = vec![0u8; msg.len() + 28];
    let Ok(n) = dns::write_block_answer(msg, Transport::Udp, answer, &mut out) else {
        // Only a query with more than one question is refused.
        assert_ne!(u16::from_be_bytes([msg[4], msg[5]]), 1);
        return;
    };
    let Ok(asked) = Packet::parse(msg) else {
        return;
    };
    if q.qclass != 1 {
        // simple-dns refuses some types (0, ...) in a question, and
        // classes other than IN (ANY, ...) in the record it reads back.
        return;
    }
    let reply = Packet::parse(&out[..n]).expect("simple-dns reads the answer");
    assert_eq!(reply.id(), q.id);
    assert_eq!(reply.questions.len(), 1);
    assert_eq!(u16::from(reply.questions[0].qtype), q.qtype);
    // EDNS back when the query has it: always when its one additional
    // record is an OPT record; never when it has none.
    let additional = u16::from_be_bytes([msg[10], msg[11]]);
    // Where the question ends (its name is not compressed: inspect read
    // it), so where that record starts: with the root name, as RFC 6891
    // has it.
    let mut end = 12;
    while let Some(&len) = msg.get(end) {
        end += 1 + usize::from(len);
        if len == 0 {
            break;
        }
    }
    if asked.opt().is_some() && additional == 1 && msg.get(end + 4) == Some(&0) {
        assert!(reply.opt().is_some(), "no OPT record in the answer");
    }
    if let Some(opt) = reply.opt() {
        assert!(
            asked.opt().is_some(),
            "an OPT record the query did not have"
        );
        assert_eq!(opt.udp_packet_size, dns::EDNS_PAYLOAD);
    }
    // BADVERS (the query's EDNS version is not 0) answers nothing.
    let badvers = reply.opt().is_some() && out[n - 6] == 1;
    let records = match (answer, q.qtype) {
        _ if badvers => 0,
        (BlockAnswer::Unspecified, 1 | 28) => 1,
        _ => 0,
    };
    assert_eq!(reply.answers.len(), records);
});
