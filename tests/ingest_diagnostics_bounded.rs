//! The memory of an ingest grows with the distinct keys, not with the
//! rows: a report keeps the first diagnostics of each code and counts the
//! rest, and the diagnostic callback sees every one as it is found.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use indset::ingest::{Format, Ingester, MAX_DIAGNOSTICS_PER_CODE, Options};
use indset::{Code, Timestamp};

use indset_test_support::alloc;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// `line` repeated `times` times, never held whole.
struct Repeated {
    line: &'static [u8],
    times: u64,
    at: usize,
}

impl Read for Repeated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() && self.times > 0 {
            let k = (self.line.len() - self.at).min(buf.len() - n);
            buf[n..n + k].copy_from_slice(&self.line[self.at..self.at + k]);
            n += k;
            self.at += k;
            if self.at == self.line.len() {
                self.at = 0;
                self.times -= 1;
            }
        }
        Ok(n)
    }
}

/// One test only: the allocation counters are global to this binary.
#[test]
fn two_million_duplicates_keep_a_bounded_report() {
    const LINES: u64 = 2_000_000;
    let seen = Rc::new(Cell::new(0u64));
    let (peak, (indicators, report)) = alloc::peak_during(|| {
        let mut ing = Ingester::new(Options::at(Timestamp(1_780_000_000)));
        let s = Rc::clone(&seen);
        ing.on_diagnostic(move |d| {
            assert_eq!((d.code, d.line), (Code::Duplicate, s.get() + 2));
            s.set(s.get() + 1);
        });
        let input = Repeated {
            line: b"0.0.0.0 dup.example\n",
            times: LINES,
            at: 0,
        };
        ing.read("pipe", input, Format::Hosts).unwrap();
        ing.finish()
    });
    let dups = LINES - 1;
    assert_eq!(indicators.len(), 1);
    assert_eq!(report.rows(), LINES);
    assert_eq!(report.merged_by(Code::Duplicate), dups, "{report}");
    assert_eq!(seen.get(), dups, "the callback sees every diagnostic");
    assert_eq!(report.diagnostics().len(), MAX_DIAGNOSTICS_PER_CODE);
    assert_eq!(report.diagnostics()[999].line, 1001);
    assert_eq!(report.omitted(), dups - MAX_DIAGNOSTICS_PER_CODE as u64);
    assert_eq!(
        report.omitted_by(Code::Duplicate),
        dups - MAX_DIAGNOSTICS_PER_CODE as u64
    );
    assert_eq!(
        report.to_string(),
        "2000000 rows: 1 accepted, 0 rejected, 0 skipped, 1999999 merged \
         (1999999 duplicate); 1998999 diagnostics not kept in the report \
         (1998999 duplicate)"
    );
    // A diagnostic is about 150 bytes: keeping all would be 300 MB. What
    // is held is the batches of rows in flight and the kept diagnostics.
    assert!(peak < 24 << 20, "peak heap {peak} bytes");
}
