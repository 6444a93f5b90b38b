//! Little-endian integers at an offset: the one reader every part of a
//! set's bytes goes through (header, section table, sections), and the
//! string encoding the sections share. Reads are bounds-checked and give
//! `None` past the end, never a panic.

/// The little-endian `u32` at `at`, `None` past the end.
#[inline]
pub(crate) fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..)?.first_chunk::<4>()?;
    Some(u32::from_le_bytes(*b))
}

/// The little-endian `u64` at `at`, `None` past the end.
#[inline]
pub(crate) fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..)?.first_chunk::<8>()?;
    Some(u64::from_le_bytes(*b))
}

/// The little-endian `i64` at `at`, `None` past the end.
#[inline]
pub(crate) fn i64_at(bytes: &[u8], at: usize) -> Option<i64> {
    let b = bytes.get(at..)?.first_chunk::<8>()?;
    Some(i64::from_le_bytes(*b))
}

/// Appends a string as its length (`u32`) and its UTF-8 bytes.
#[cfg(feature = "compile")]
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// The string at `*at` (a `u32` length and its bytes), moving `*at` past
/// it; `None` when it does not fit `bytes`. Invalid UTF-8 is replaced.
pub(crate) fn str_at(bytes: &[u8], at: &mut usize) -> Option<String> {
    let len = u32_at(bytes, *at)? as usize;
    let start = at.checked_add(4)?;
    let s = bytes.get(start..start.checked_add(len)?)?;
    *at = start + len;
    Some(String::from_utf8_lossy(s).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_strings_read_back_and_stop_at_the_end() {
        let mut b = Vec::new();
        push_str(&mut b, "ab");
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(u32_at(&b, 0), Some(2));
        let mut at = 0;
        assert_eq!(str_at(&b, &mut at).as_deref(), Some("ab"));
        assert_eq!(at, 6);
        assert_eq!(u64_at(&b, 6), Some(u64::MAX));
        assert_eq!(i64_at(&b, 6), Some(-1));
        assert_eq!(u64_at(&b, 7), None);
        assert_eq!(u32_at(&b, usize::MAX), None);
        let mut at = 6;
        assert_eq!(str_at(&b, &mut at), None);
    }
}
