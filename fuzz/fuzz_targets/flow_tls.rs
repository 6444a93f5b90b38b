//! `flow_tls`: `flow::inspect` over TCP on bytes that begin a TLS record.
//!
//! Properties:
//! 1. no panic, no allocation beyond the target's own;
//! 2. when the bytes are one record holding exactly one ClientHello in
//!    which `tls-parser` reads a server name, `inspect` reads the same name
//!    and the same ECH flag; when `inspect` names a host and tls-parser
//!    reads the ClientHello too, the names are equal (`inspect` may refuse
//!    a damaged ClientHello without a name that tls-parser reads);
//! 3. the same message in records of another size answers the same;
//! 4. a prefix asks for more truthfully (flow_common.rs).
#![no_main]

#[path = "flow_common.rs"]
mod common;

use indset::flow::{self, Inspection, Scratch, Transport};
use libfuzzer_sys::fuzz_target;
use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};

fuzz_target!(|input: &[u8]| {
    let Some((&knobs, rest)) = input.split_first() else {
        return;
    };
    // Start as a TLS handshake record so the fuzzer spends its time inside.
    let mut bytes = vec![22, 3, 1];
    bytes.extend_from_slice(rest);
    let ours = {
        let mut scratch = Scratch::new();
        match flow::inspect(&bytes, Transport::Tcp, &mut scratch) {
            Inspection::Name { host, ech, .. } => Some((Some(host.to_vec()), ech)),
            Inspection::NoName { .. } => Some((None, false)),
            _ => None,
        }
    };
    let reference = reference(&bytes);
    if let (Some((Some(_), _)), Some(_)) = (&ours, &reference) {
        assert_eq!(ours, reference);
    }
    if bytes.len() >= 9 {
        let rec = u16::from_be_bytes([bytes[3], bytes[4]]) as usize;
        let hs = u32::from_be_bytes([0, bytes[6], bytes[7], bytes[8]]) as usize;
        if matches!(reference, Some((Some(_), _))) && rec == hs + 4 && bytes.len() == rec + 5 {
            assert_eq!(ours, reference);
        }
        // The message in records of `size` bytes.
        if rec == hs + 4 && bytes.len() >= rec + 5 && ours.is_some() {
            let size = usize::from(knobs % 64) + 1;
            let mut split = Vec::new();
            for chunk in bytes[5..5 + rec].chunks(size) {
                split.extend_from_slice(&[22, 3, 1]);
                split.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
                split.extend_from_slice(chunk);
            }
            assert_eq!(
                common::answer(&split, Transport::Tcp),
                common::answer(&bytes, Transport::Tcp)
            );
        }
    }
    common::check_prefixes(&bytes, Transport::Tcp, usize::from(knobs) * 3);
});

fn reference(record: &[u8]) -> Option<(Option<Vec<u8>>, bool)> {
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
