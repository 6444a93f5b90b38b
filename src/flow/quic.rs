//! QUIC Initial packets (RFC 9000 17.2.2): the ClientHello a client sends
//! in the CRYPTO frames of its first Initials, protected with keys anyone
//! can derive from the packet's Destination Connection ID (RFC 9001 5.2,
//! header protection 5.4, AES-128-GCM 5.3; QUIC v2, RFC 9369, alike).
//!
//! The caller passes one datagram, or the client's first datagrams one
//! after the other: zero bytes between packets (padding a datagram after
//! its last packet) are skipped. CRYPTO frames may come in any order and
//! over several packets (browsers split and shuffle them); they are put
//! back in place in the scratch and read once the ClientHello is whole.
//!
//! The cryptography is `ring`'s (`hkdf`, `aead::quic` header protection,
//! `aead` AES-128-GCM), behind the `quic` feature. The packet and frame
//! reading is written here: QUIC stacks (quinn-proto, quiche) read
//! Initials only inside a connection that allocates, and nothing here may.

#[cfg(feature = "quic")]
use super::MAX_FIRST_BYTES;
#[cfg(feature = "quic")]
use super::tls;
use super::{Bufs, Inspection, Protocol};

const V1: u32 = 1;
const V2: u32 = 0x6b33_43cf;

/// Whether `bytes` starts with a long-header packet of QUIC v1 or v2.
pub(super) fn looks_like(bytes: &[u8]) -> bool {
    match bytes {
        [b0, v0, v1, v2, v3, ..] if b0 & 0xc0 == 0xc0 => {
            matches!(u32::from_be_bytes([*v0, *v1, *v2, *v3]), V1 | V2)
        }
        _ => false,
    }
}

/// Without the `quic` feature an Initial is recognised and unread.
#[cfg(not(feature = "quic"))]
pub(super) fn inspect<'a>(_bytes: &'a [u8], _bufs: Bufs<'a, '_>) -> Inspection<'a> {
    Inspection::NoName {
        protocol: Protocol::Quic,
    }
}

/// The ClientHello carried by the Initial packets in `bytes`.
#[cfg(feature = "quic")]
pub(super) fn inspect<'a>(bytes: &'a [u8], bufs: Bufs<'a, '_>) -> Inspection<'a> {
    let bytes = bytes.get(..MAX_FIRST_BYTES).unwrap_or(bytes);
    let Bufs {
        joined,
        packet,
        filled,
        overflow,
    } = bufs;
    filled.fill(0);
    let mut keys: Option<(u32, [u8; MAX_CID], usize, Keys)> = None;
    let mut read = 0usize;
    let mut at = 0usize;
    while let Some(rest) = bytes.get(at..).filter(|r| !r.is_empty()) {
        if rest.first() == Some(&0) {
            at += 1;
            continue;
        }
        let Some(head) = header(rest) else {
            break;
        };
        at += head.total;
        if !head.initial {
            continue;
        }
        let same = matches!(&keys, Some((v, id, n, _)) if *v == head.version && id.get(..*n) == Some(head.dcid));
        if !same {
            let Some(k) = Keys::new(head.version, head.dcid) else {
                return Inspection::NotRecognised;
            };
            let mut id = [0u8; MAX_CID];
            if let Some(dst) = id.get_mut(..head.dcid.len()) {
                dst.copy_from_slice(head.dcid);
            }
            keys = Some((head.version, id, head.dcid.len(), k));
        }
        let Some((_, _, _, k)) = &keys else {
            return Inspection::NotRecognised;
        };
        let Some(plain) = open(
            k,
            rest.get(..head.total).unwrap_or_default(),
            head.pn_offset,
            packet,
        ) else {
            // Not a client's Initial (a server's, or damaged): what came
            // before stands, if anything did.
            if read == 0 {
                return Inspection::NotRecognised;
            }
            continue;
        };
        if frames(plain, joined, filled, overflow).is_none() {
            return Inspection::NotRecognised;
        }
        read += 1;
    }
    if read == 0 {
        return Inspection::NotRecognised;
    }
    let have = contiguous(filled);
    let stream = joined.get(..have).unwrap_or_default();
    let total = match stream {
        [1, a, b, c, ..] => 4 + u32::from_be_bytes([0, *a, *b, *c]) as usize,
        [_, ..] if stream.first() != Some(&1) => return Inspection::NotRecognised,
        _ => {
            return Inspection::NeedMore {
                protocol: Protocol::Quic,
                need: 4 - have,
            };
        }
    };
    if total > MAX_FIRST_BYTES {
        return Inspection::NotRecognised;
    }
    if total > joined.len() {
        overflow.set(true);
        return Inspection::NotRecognised;
    }
    match stream.get(..total) {
        Some(hello) => tls::named(Protocol::Quic, hello),
        None => Inspection::NeedMore {
            protocol: Protocol::Quic,
            need: total - have,
        },
    }
}

/// The longest connection ID (RFC 9000 17.2).
#[cfg(feature = "quic")]
const MAX_CID: usize = 20;
/// The AEAD tag.
#[cfg(feature = "quic")]
const TAG: usize = 16;

/// A long-header packet's header, as far as it is not protected.
#[cfg(feature = "quic")]
struct Header<'a> {
    version: u32,
    initial: bool,
    dcid: &'a [u8],
    /// Where the protected packet number starts.
    pn_offset: usize,
    /// The whole packet's length.
    total: usize,
}

#[cfg(feature = "quic")]
fn header(bytes: &[u8]) -> Option<Header<'_>> {
    if !looks_like(bytes) {
        return None;
    }
    let mut r = Reader { bytes, at: 0 };
    let b0 = r.u8()?;
    let version = u32::from_be_bytes(*r.take(4)?.first_chunk::<4>()?);
    let dcid_len = usize::from(r.u8()?);
    if dcid_len > MAX_CID {
        return None;
    }
    let dcid = r.take(dcid_len)?;
    let scid_len = usize::from(r.u8()?);
    if scid_len > MAX_CID {
        return None;
    }
    r.take(scid_len)?;
    let kind = (b0 >> 4) & 3;
    let (initial, retry) = match version {
        V1 => (kind == 0, kind == 3),
        _ => (kind == 1, kind == 0),
    };
    if retry {
        return None;
    }
    if initial {
        let token = usize::try_from(r.varint()?).ok()?;
        r.take(token)?;
    }
    let length = usize::try_from(r.varint()?).ok()?;
    let pn_offset = r.at;
    let total = pn_offset.checked_add(length)?;
    (total <= bytes.len()).then_some(Header {
        version,
        initial,
        dcid,
        pn_offset,
        total,
    })
}

/// The client's Initial keys for one Destination Connection ID.
#[cfg(feature = "quic")]
struct Keys {
    aead: ring::aead::LessSafeKey,
    iv: [u8; 12],
    hp: ring::aead::quic::HeaderProtectionKey,
}

#[cfg(feature = "quic")]
impl Keys {
    fn new(version: u32, dcid: &[u8]) -> Option<Keys> {
        use ring::{aead, hkdf};
        const SALT_V1: [u8; 20] = [
            0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
            0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
        ];
        const SALT_V2: [u8; 20] = [
            0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26,
            0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
        ];
        let (salt, labels): (&[u8], [&[u8]; 3]) = match version {
            V1 => (&SALT_V1, [b"quic key", b"quic iv", b"quic hp"]),
            _ => (&SALT_V2, [b"quicv2 key", b"quicv2 iv", b"quicv2 hp"]),
        };
        let initial = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(dcid);
        let mut client = [0u8; 32];
        expand_label(&initial, b"client in", &mut client)?;
        let client = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &client);
        let [key_label, iv_label, hp_label] = labels;
        let mut key = [0u8; 16];
        let mut iv = [0u8; 12];
        let mut hp = [0u8; 16];
        expand_label(&client, key_label, &mut key)?;
        expand_label(&client, iv_label, &mut iv)?;
        expand_label(&client, hp_label, &mut hp)?;
        Some(Keys {
            aead: aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &key).ok()?),
            iv,
            hp: aead::quic::HeaderProtectionKey::new(&aead::quic::AES_128, &hp).ok()?,
        })
    }
}

/// HKDF-Expand-Label (RFC 8446 7.1) with an empty context.
#[cfg(feature = "quic")]
fn expand_label(prk: &ring::hkdf::Prk, label: &[u8], out: &mut [u8]) -> Option<()> {
    struct Len(usize);
    impl ring::hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let len = u16::try_from(out.len()).ok()?.to_be_bytes();
    let label_len = [u8::try_from(b"tls13 ".len() + label.len()).ok()?];
    let info: [&[u8]; 5] = [&len, &label_len, b"tls13 ", label, &[0]];
    prk.expand(&info, Len(out.len())).ok()?.fill(out).ok()
}

/// Removes the header protection of the packet `bytes` (copied into
/// `buf`) and decrypts its payload in place: the frames, or `None` if the
/// packet does not open with these keys.
#[cfg(feature = "quic")]
fn open<'b>(keys: &Keys, bytes: &[u8], pn_offset: usize, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let pkt = buf.get_mut(..bytes.len())?;
    pkt.copy_from_slice(bytes);
    let sample = pkt.get(pn_offset + 4..pn_offset + 4 + 16)?;
    let mask = keys.hp.new_mask(sample).ok()?;
    let b0 = pkt.first_mut()?;
    *b0 ^= mask.first()? & 0x0f;
    let pn_len = usize::from(*b0 & 3) + 1;
    let mut pn = 0u64;
    for (b, m) in pkt
        .get_mut(pn_offset..pn_offset + pn_len)?
        .iter_mut()
        .zip(mask.get(1..)?)
    {
        *b ^= m;
        pn = pn << 8 | u64::from(*b);
    }
    if pkt.len() < pn_offset + pn_len + TAG {
        return None;
    }
    let (head, payload) = pkt.split_at_mut(pn_offset + pn_len);
    let mut nonce = keys.iv;
    for (n, p) in nonce.iter_mut().skip(4).zip(pn.to_be_bytes()) {
        *n ^= p;
    }
    let nonce = ring::aead::Nonce::assume_unique_for_key(nonce);
    let plain = keys
        .aead
        .open_in_place(nonce, ring::aead::Aad::from(&*head), payload)
        .ok()?;
    Some(plain)
}

/// Reads the frames of a decrypted Initial, putting CRYPTO data in place
/// in `stream` and marking it in `filled`; `None` on a frame an Initial
/// may not carry or a malformed one.
#[cfg(feature = "quic")]
fn frames(
    plain: &[u8],
    stream: &mut [u8],
    filled: &mut [u64],
    overflow: &std::cell::Cell<bool>,
) -> Option<()> {
    let mut r = Reader {
        bytes: plain,
        at: 0,
    };
    while r.at < plain.len() {
        match r.varint()? {
            // PADDING, PING.
            0x00 | 0x01 => {}
            // ACK, with ECN counts.
            t @ (0x02 | 0x03) => {
                let _largest = r.varint()?;
                let _delay = r.varint()?;
                let ranges = r.varint()?;
                let _first = r.varint()?;
                for _ in 0..ranges {
                    r.varint()?;
                    r.varint()?;
                }
                if t == 0x03 {
                    for _ in 0..3 {
                        r.varint()?;
                    }
                }
            }
            // CRYPTO.
            0x06 => {
                let offset = usize::try_from(r.varint()?).ok()?;
                let len = usize::try_from(r.varint()?).ok()?;
                let data = r.take(len)?;
                // Past the bound is beyond any ClientHello read here.
                let end = offset.checked_add(len)?;
                if end > stream.len() && end <= MAX_FIRST_BYTES {
                    overflow.set(true);
                }
                if end <= stream.len() {
                    stream.get_mut(offset..end)?.copy_from_slice(data);
                    for i in offset..end {
                        *filled.get_mut(i / 64)? |= 1 << (i % 64);
                    }
                }
            }
            // CONNECTION_CLOSE.
            0x1c => {
                r.varint()?;
                r.varint()?;
                let reason = usize::try_from(r.varint()?).ok()?;
                r.take(reason)?;
            }
            _ => return None,
        }
    }
    Some(())
}

/// How many bytes from the start of the stream are filled.
#[cfg(feature = "quic")]
fn contiguous(filled: &[u64]) -> usize {
    let mut n = 0;
    for word in filled {
        let ones = word.trailing_ones() as usize;
        n += ones;
        if ones < 64 {
            break;
        }
    }
    n
}

#[cfg(feature = "quic")]
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

#[cfg(feature = "quic")]
impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    /// A variable-length integer (RFC 9000 16).
    fn varint(&mut self) -> Option<u64> {
        let first = self.u8()?;
        let extra = (1usize << (first >> 6)) - 1;
        let mut v = u64::from(first & 0x3f);
        for b in self.take(extra)? {
            v = v << 8 | u64::from(*b);
        }
        Some(v)
    }
}
