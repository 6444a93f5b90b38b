//! Unsigned integers of a fixed width of 0 to 32 bits, packed end to end:
//! value `i` occupies bits `i * bits .. (i + 1) * bits` of the bytes, bit 0
//! being the lowest bit of byte 0. The records and lines of a set are
//! stored this way, each at the width its largest value needs.

/// The widest value: 32 bits.
pub(crate) const MAX_BITS: u8 = 32;

/// The bits needed to store every value up to `max` (0 for `max` 0).
#[cfg(feature = "compile")]
pub(crate) fn bits_for(max: u32) -> u8 {
    (32 - max.leading_zeros()) as u8
}

/// The bytes that `n` values of `bits` bits take, or `None` when that
/// overflows.
pub(crate) fn byte_len(n: usize, bits: u8) -> Option<usize> {
    Some(n.checked_mul(usize::from(bits))?.div_ceil(8))
}

/// Packs `values` at `bits` each (at most [`MAX_BITS`]), keeping the low
/// `bits` bits of each value.
#[cfg(feature = "compile")]
pub(crate) fn pack(values: impl ExactSizeIterator<Item = u32>, bits: u8) -> Vec<u8> {
    debug_assert!(bits <= MAX_BITS);
    let mut out = Vec::with_capacity(byte_len(values.len(), bits).unwrap_or(0));
    let mask = mask(bits);
    // Bits not yet written, lowest first, and how many there are (< 8
    // after each value has been pushed).
    let (mut acc, mut filled) = (0u64, 0u32);
    for v in values {
        acc |= (u64::from(v) & mask) << filled;
        filled += u32::from(bits);
        while filled >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            filled -= 8;
        }
    }
    if filled > 0 {
        out.push(acc as u8);
    }
    out
}

fn mask(bits: u8) -> u64 {
    (1u64 << bits) - 1
}

/// A view of `n` packed values. Reading one costs one unaligned 8-byte
/// load (a copy of the last few bytes at the very end).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Packed<'a> {
    bytes: &'a [u8],
    bits: u8,
}

impl<'a> Packed<'a> {
    /// A view of `bytes` as `n` values of `bits` bits; `None` unless
    /// `bits` is at most [`MAX_BITS`] and `bytes` is exactly as long as
    /// `n` such values need.
    pub(crate) fn new(bytes: &'a [u8], bits: u8, n: usize) -> Option<Self> {
        (bits <= MAX_BITS && byte_len(n, bits) == Some(bytes.len()))
            .then_some(Packed { bytes, bits })
    }

    /// The width of a value.
    pub(crate) fn bits(&self) -> u8 {
        self.bits
    }

    /// The packed bytes.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// A view of `bytes` already checked by [`Packed::new`] (any bytes
    /// are safe: a value past them reads as `None`).
    #[inline]
    pub(crate) fn at(bytes: &'a [u8], bits: u8) -> Self {
        Packed {
            bytes,
            bits: bits.min(MAX_BITS),
        }
    }

    /// Value `i`, or `None` when the bytes end before it (the caller
    /// keeps `i` below the number of values: the bits after the last
    /// value of the last byte read as values). Every value of a zero-bit
    /// view is 0.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<u32> {
        if self.bits == 0 {
            return Some(0);
        }
        let bit = i.checked_mul(usize::from(self.bits))?;
        let (at, shift) = (bit / 8, bit % 8);
        let word = match self.bytes.get(at..at.wrapping_add(8)) {
            Some(w) => u64::from_le_bytes(w.try_into().ok()?),
            None => {
                let tail = self.bytes.get(at..)?;
                if tail.is_empty() {
                    return None;
                }
                let mut w = [0u8; 8];
                w[..tail.len()].copy_from_slice(tail);
                u64::from_le_bytes(w)
            }
        };
        // At most 32 bits from a shift of at most 7: within the 8 bytes.
        Some(((word >> shift) & mask(self.bits)) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn widths_are_those_of_the_largest_value() {
        assert_eq!(bits_for(0), 0);
        assert_eq!(bits_for(1), 1);
        assert_eq!(bits_for(3), 2);
        assert_eq!(bits_for(4), 3);
        assert_eq!(bits_for(803_661), 20);
        assert_eq!(bits_for(u32::MAX), 32);
    }

    #[test]
    fn values_sit_end_to_end_lowest_bit_first() {
        // 3-bit values 1, 2, 7: bits 001, 010, 111 from bit 0 up.
        assert_eq!(pack([1u32, 2, 7].into_iter(), 3), vec![0b1101_0001, 0b1]);
        assert_eq!(pack([5u32, 6].into_iter(), 0), Vec::<u8>::new());
    }

    #[test]
    fn a_view_needs_exactly_its_bytes() {
        assert!(Packed::new(&[0; 3], 25, 1).is_none());
        assert!(Packed::new(&[0; 3], 20, 1).is_some());
        assert!(Packed::new(&[0; 3], 12, 2).is_some());
        assert!(Packed::new(&[0; 4], 12, 2).is_none());
        assert!(Packed::new(&[], 33, 0).is_none());
        let p = Packed::new(&[0xFF; 3], 12, 2).unwrap();
        assert_eq!(
            (p.get(0), p.get(1), p.get(2)),
            (Some(4095), Some(4095), None)
        );
    }

    proptest! {
        #[test]
        fn every_value_reads_back(
            bits in 0u8..=32,
            raw in proptest::collection::vec(any::<u32>(), 0..80),
        ) {
            let values: Vec<u32> = raw.iter().map(|&v| (u64::from(v) & mask(bits)) as u32).collect();
            let bytes = pack(values.iter().copied(), bits);
            let view = Packed::new(&bytes, bits, values.len()).unwrap();
            for (i, &v) in values.iter().enumerate() {
                prop_assert_eq!(view.get(i), Some(v));
            }
            if bits > 0 {
                prop_assert_eq!(view.get(values.len() + 8), None);
            }
        }
    }
}
