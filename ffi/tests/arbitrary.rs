//! Whatever a caller passes, every function answers the status its
//! documentation gives: arbitrary bytes as flows, queries that may not be
//! UTF-8, out-of-range enum values, bytes that are not a set, buffers of
//! any size. `INDSET_STATUS_PANIC` would mean a panic was caught at the
//! boundary, so it must never appear.

use std::ptr;

use indset::{Compiler, Format, Options, Timestamp};
use indset_ffi::{
    IndsetHandle, IndsetStatus, indset_check_at, indset_check_flow_at, indset_close,
    indset_dns_block_answer, indset_explain, indset_indicator_text, indset_open_bytes,
    indset_set_config_json,
};
use proptest::prelude::*;

const NOW: i64 = 1_780_000_000;

fn set() -> Vec<u8> {
    let csv = "IndicatorType,IndicatorValue,Action,Title\n\
        DomainName,example.com,Block,Bad\n\
        Url,https://example.com/a/b,Allowed,Good\n\
        DomainName,audit.example,Audit,Watched\n";
    let mut compiler = Compiler::new(Options::at(Timestamp(NOW)));
    compiler
        .add_reader("t.csv", csv.as_bytes(), Format::Csv)
        .expect("the CSV reads");
    compiler.finish().bytes
}

struct Handle(*mut IndsetHandle);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: a live handle, closed once.
        unsafe { indset_close(self.0) }
    }
}

fn open() -> Handle {
    let bytes = set();
    let mut h = ptr::null_mut();
    // SAFETY: `bytes` valid for its length, `h` writable.
    let s = unsafe { indset_open_bytes(bytes.as_ptr(), bytes.len(), &mut h) };
    assert_eq!(s, IndsetStatus::Ok);
    Handle(h)
}

/// A query's control characters are escaped in the report: a NUL cannot
/// end the C string early, a line feed cannot forge a line.
#[test]
fn a_report_escapes_the_control_characters_of_a_query() {
    let h = open();
    let q = b"a.example.com\nverdict: allow (forged)\0";
    let mut buf = vec![0u8; 1024];
    let mut needed = 0usize;
    // SAFETY: a live handle; `q` valid for its length; `buf` holds its
    // length; `needed` writable.
    let s = unsafe {
        indset_explain(
            h.0,
            q.as_ptr().cast(),
            q.len(),
            0,
            NOW,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut needed,
        )
    };
    assert_eq!(s, IndsetStatus::Ok);
    let text = std::str::from_utf8(&buf[..needed - 1]).expect("UTF-8");
    assert!(!text.contains('\0'), "{text}");
    assert!(
        text.starts_with("query: a.example.com\\nverdict: allow (forged)\\u{0}\n"),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("verdict: allow")),
        "{text}"
    );
}

/// Queries: mostly URL- and host-like text, sometimes any bytes.
fn query() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "(https?://)?([a-zA-Z0-9-]{0,8}\\.){0,3}(example\\.com|audit\\.example|[a-z]{1,5})(:[0-9]{1,5})?(/[a-z%0-9]{0,6}){0,3}"
            .prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn checks_and_reports_answer_their_status(q in query(), mode in 0u32..5, which in 0u32..3, field in 0u32..5, cap in 0usize..200) {
        let h = open();
        let utf8 = std::str::from_utf8(&q).is_ok();
        let mut v = std::mem::MaybeUninit::uninit();
        // SAFETY: a live handle; `q` valid for its length; `v` writable.
        let s = unsafe { indset_check_at(h.0, q.as_ptr().cast(), q.len(), mode, NOW, v.as_mut_ptr()) };
        let want = if !utf8 { IndsetStatus::InvalidUtf8 } else if mode > 2 { IndsetStatus::InvalidArgument } else { IndsetStatus::Ok };
        prop_assert_eq!(s, want);

        let mut buf = vec![0i8; cap];
        let mut needed = 0usize;
        // SAFETY: as above; `buf` holds `cap` bytes; `needed` writable.
        let s = unsafe { indset_explain(h.0, q.as_ptr().cast(), q.len(), mode, NOW, buf.as_mut_ptr().cast(), cap, &mut needed) };
        let want = if !utf8 { IndsetStatus::InvalidUtf8 } else if mode > 2 { IndsetStatus::InvalidArgument } else if needed > cap { IndsetStatus::BufferTooSmall } else { IndsetStatus::Ok };
        prop_assert_eq!(s, want);
        if s == IndsetStatus::Ok {
            // NUL-terminated at `needed - 1`, no NUL before.
            prop_assert_eq!(buf[needed - 1], 0);
            prop_assert!(buf[..needed - 1].iter().all(|&b| b != 0));
        }

        // SAFETY: as above.
        let s = unsafe { indset_indicator_text(h.0, q.as_ptr().cast(), q.len(), mode, NOW, which, field, buf.as_mut_ptr().cast(), cap, &mut needed) };
        prop_assert_ne!(s, IndsetStatus::Panic);
        if !utf8 {
            prop_assert_eq!(s, IndsetStatus::InvalidUtf8);
        } else if mode > 2 || which > 1 || field > 3 {
            prop_assert_eq!(s, IndsetStatus::InvalidArgument);
        } else {
            prop_assert!(matches!(s, IndsetStatus::Ok | IndsetStatus::NotFound | IndsetStatus::BufferTooSmall), "{:?}", s);
        }
    }

    #[test]
    fn flows_and_dns_answers_answer_their_status(bytes in proptest::collection::vec(any::<u8>(), 0..600), transport in 0u32..3, answer in 0u32..3, cap in 0usize..700) {
        let h = open();
        let mut v = std::mem::MaybeUninit::uninit();
        // SAFETY: a live handle; `bytes` valid for its length; `v` writable.
        let s = unsafe { indset_check_flow_at(h.0, bytes.as_ptr(), bytes.len(), transport, 0, NOW, v.as_mut_ptr()) };
        prop_assert_eq!(s, if transport > 1 { IndsetStatus::InvalidArgument } else { IndsetStatus::Ok });

        let mut out = vec![0u8; cap];
        let mut written = 0usize;
        // SAFETY: `bytes` valid; `out` holds `cap` bytes; `written` writable.
        let s = unsafe { indset_dns_block_answer(bytes.as_ptr(), bytes.len(), transport, answer, out.as_mut_ptr(), cap, &mut written) };
        prop_assert_ne!(s, IndsetStatus::Panic);
        if transport > 1 || answer > 1 {
            prop_assert_eq!(s, IndsetStatus::InvalidArgument);
        }
        if s == IndsetStatus::Ok {
            prop_assert!(written <= cap && written <= bytes.len() + 28);
        }
        if s == IndsetStatus::BufferTooSmall {
            prop_assert!(written > cap);
        }
    }

    #[test]
    fn bytes_that_are_not_a_set_are_refused(mut bytes in proptest::collection::vec(any::<u8>(), 0..400), flip in any::<prop::sample::Index>(), json in "\\PC{0,40}") {
        let mut h = ptr::null_mut();
        // SAFETY: `bytes` valid; `h` writable.
        let s = unsafe { indset_open_bytes(bytes.as_ptr(), bytes.len(), &mut h) };
        prop_assert_eq!(s, IndsetStatus::Format);
        prop_assert!(h.is_null());

        // A real set with one byte changed: refused (the container's
        // checksums cover every byte, docs/format.md).
        bytes = set();
        let i = flip.index(bytes.len());
        bytes[i] ^= 0x5A;
        // SAFETY: as above.
        let s = unsafe { indset_open_bytes(bytes.as_ptr(), bytes.len(), &mut h) };
        prop_assert_eq!(s, IndsetStatus::Format, "byte {} changed", i);

        let h = open();
        // SAFETY: a live handle; `json` valid for its length.
        let s = unsafe { indset_set_config_json(h.0, json.as_ptr().cast(), json.len()) };
        prop_assert!(matches!(s, IndsetStatus::Ok | IndsetStatus::Config), "{:?}", s);
    }
}
