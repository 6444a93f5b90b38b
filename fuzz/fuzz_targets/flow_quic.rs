//! `flow_quic`: QUIC Initials that carry an arbitrary ClientHello.
//!
//! The target protects the handshake message (`1`, a 24-bit length, the
//! fuzzer's bytes) as a client would (RFC 9001: Initial keys from the
//! Destination Connection ID, AES-128-GCM, header protection; `ring`), in
//! one Initial or split over two, in either order.
//!
//! Properties:
//! 1. no panic;
//! 2. `inspect` over UDP answers for the Initials what it answers for the
//!    same message in one TLS record over TCP: the same name and ECH
//!    flag, or no name, or not recognised (the QUIC layer adds nothing and
//!    loses nothing);
//! 3. the first of two Initials alone asks for more, or is not recognised
//!    when the TLS record is not.
#![no_main]

use indset::flow::{self, Inspection, Scratch, Transport};
use libfuzzer_sys::fuzz_target;
use ring::{aead, hkdf};

fuzz_target!(|input: &[u8]| {
    let Some((&knobs, rest)) = input.split_first() else {
        return;
    };
    if rest.len() > 3000 {
        return;
    }
    let mut hello = vec![1];
    hello.extend_from_slice(&(rest.len() as u32).to_be_bytes()[1..]);
    hello.extend_from_slice(rest);

    let mut record = vec![22, 3, 1];
    record.extend_from_slice(&(hello.len() as u16).to_be_bytes());
    record.extend_from_slice(&hello);
    let tls = answer(&record, Transport::Tcp);

    let dcid = [knobs, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57];
    let keys = Keys::new(&dcid);
    let split = usize::from(knobs >> 1) * hello.len() / 128;
    let (a, b) = hello.split_at(split);
    let mut datagrams = Vec::new();
    if knobs & 1 == 0 || a.is_empty() || b.is_empty() {
        datagrams.push(keys.initial(&dcid, 0, &[(0, &hello[..])]));
    } else {
        let first = keys.initial(&dcid, 0, &[(0, a)]);
        let second = keys.initial(&dcid, 1, &[(a.len(), b)]);
        // The first alone is not enough.
        let alone = answer(&first, Transport::Udp);
        assert!(
            alone.starts_with("NeedMore") || (alone == "NotRecognised" && tls == "NotRecognised"),
            "{alone} for the first of two, {tls} for the record"
        );
        if knobs & 0x80 == 0 {
            datagrams.push(first);
            datagrams.push(second);
        } else {
            datagrams.push(second);
            datagrams.push(first);
        }
    }
    let quic = answer(&datagrams.concat(), Transport::Udp);
    assert_eq!(quic.replace("Quic", "Tls"), tls);
});

fn answer(bytes: &[u8], transport: Transport) -> String {
    let mut scratch = Scratch::new();
    match flow::inspect(bytes, transport, &mut scratch) {
        Inspection::Name { host, ech, .. } => format!("Name({host:?}, {ech})"),
        Inspection::NoName { protocol } => format!("NoName({protocol:?})"),
        Inspection::NeedMore { protocol, .. } => format!("NeedMore({protocol:?})"),
        Inspection::NotRecognised => "NotRecognised".into(),
    }
}

struct Keys {
    aead: aead::LessSafeKey,
    iv: [u8; 12],
    hp: aead::quic::HeaderProtectionKey,
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand(prk: &hkdf::Prk, label: &[u8], out: &mut [u8]) {
    let len = (out.len() as u16).to_be_bytes();
    let label_len = [(6 + label.len()) as u8];
    let info: [&[u8]; 5] = [&len, &label_len, b"tls13 ", label, &[0]];
    prk.expand(&info, Len(out.len()))
        .unwrap()
        .fill(out)
        .unwrap();
}

impl Keys {
    fn new(dcid: &[u8]) -> Keys {
        // RFC 9001 5.2, QUIC v1.
        let salt = [
            0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
            0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
        ];
        let initial = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(dcid);
        let mut client = [0u8; 32];
        expand(&initial, b"client in", &mut client);
        let client = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &client);
        let (mut key, mut iv, mut hp) = ([0u8; 16], [0u8; 12], [0u8; 16]);
        expand(&client, b"quic key", &mut key);
        expand(&client, b"quic iv", &mut iv);
        expand(&client, b"quic hp", &mut hp);
        Keys {
            aead: aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &key).unwrap()),
            iv,
            hp: aead::quic::HeaderProtectionKey::new(&aead::quic::AES_128, &hp).unwrap(),
        }
    }

    /// A protected client Initial with packet number `pn` carrying CRYPTO
    /// frames (offset, data), padded to 1200 bytes.
    fn initial(&self, dcid: &[u8], pn: u8, crypto: &[(usize, &[u8])]) -> Vec<u8> {
        let mut payload = Vec::new();
        for (offset, data) in crypto {
            payload.push(0x06);
            payload.extend_from_slice(&(0x8000_0000u32 | *offset as u32).to_be_bytes());
            payload.extend_from_slice(&(0x4000u16 | data.len() as u16).to_be_bytes());
            payload.extend_from_slice(data);
        }
        // PADDING frames, a PING among them.
        payload.push(0x01);
        while payload.len() < 1100 {
            payload.push(0);
        }
        let mut packet = vec![0xc0, 0, 0, 0, 1, dcid.len() as u8];
        packet.extend_from_slice(dcid);
        packet.extend_from_slice(&[0, 0]);
        let length = 1 + payload.len() + 16;
        packet.extend_from_slice(&(0x4000u16 | length as u16).to_be_bytes());
        let pn_offset = packet.len();
        packet.push(pn);
        let mut nonce = self.iv;
        nonce[11] ^= pn;
        let tag = self
            .aead
            .seal_in_place_separate_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(&packet[..]),
                &mut payload,
            )
            .unwrap();
        packet.extend_from_slice(&payload);
        packet.extend_from_slice(tag.as_ref());
        let mask = self
            .hp
            .new_mask(&packet[pn_offset + 4..pn_offset + 20])
            .unwrap();
        packet[0] ^= mask[0] & 0x0f;
        packet[pn_offset] ^= mask[1];
        packet.resize(1200.max(packet.len()), 0);
        packet
    }
}
