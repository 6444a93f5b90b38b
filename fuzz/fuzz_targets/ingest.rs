//! `ingest`: arbitrary bytes read as an indicator input.
//!
//! The first byte chooses the format (`auto`, `csv`, `json`, `text`,
//! `hosts`), the name the input is read under (for `auto`'s extension
//! check), the compile time and the device group; the rest is the input.
//!
//! Properties (`docs/inputs.md`, Outcomes and Formats):
//! 1. no panic, and reading from memory never fails;
//! 2. the row accounting adds up: `accepted + rejected + skipped + merged
//!    == rows`, and `Report::adds_up` says so;
//! 3. one accepted indicator per accepted row, no two with the same key
//!    (type plus canonical value), each key canonical (its value read
//!    again as an indicator of its type gives the same key);
//! 4. every diagnostic names the input, and a line within the input's line
//!    count (line 0 for a whole-file problem only);
//! 5. every skipped and every merged row has its note or warning.
#![no_main]

use std::collections::HashSet;

use indset::ingest::{Format, Ingester, Options};
use indset::{Code, Outcome, Timestamp, canon};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 4] = ["input", "feed.csv", "list.txt", "api.json"];
const NOWS: [i64; 4] = [0, 1_760_000_000, 1_500_000_000, i64::MAX];

fuzz_target!(|data: &[u8]| {
    let Some((&select, input)) = data.split_first() else {
        return;
    };
    let format = Format::ALL[usize::from(select & 7) % Format::ALL.len()];
    let name = NAMES[usize::from(select >> 3) & 3];
    let mut opts = Options::at(Timestamp(NOWS[usize::from(select >> 5) & 3]));
    if select & 0x80 != 0 {
        opts = opts.device_group("Sales");
    }
    let mut ing = Ingester::new(opts);
    ing.read(name, input, format)
        .expect("reading from memory never fails");
    let (indicators, report) = ing.finish();

    let outcomes = report.accepted() + report.rejected() + report.skipped() + report.merged();
    assert_eq!(outcomes, report.rows(), "{report}");
    assert!(report.adds_up());
    assert_eq!(indicators.len() as u64, report.accepted(), "{report}");

    let mut keys = HashSet::new();
    for ind in &indicators {
        assert!(
            keys.insert((ind.kind, ind.host.clone(), ind.path.clone())),
            "two accepted indicators with the key {} {}",
            ind.kind,
            ind.value()
        );
        assert_eq!(
            canon::indicator(ind.kind, &ind.value()),
            Ok((ind.host.clone(), ind.path.clone())),
            "the key of {ind:?} is not canonical"
        );
    }

    let lines = input.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let (mut skipped, mut merged) = (0, 0);
    for d in report.diagnostics() {
        assert_eq!(&*d.file, name);
        assert!(d.line <= lines, "{d} in an input of {lines} lines");
        match d.code.outcome() {
            Outcome::Skipped => skipped += 1,
            Outcome::Merged => merged += 1,
            _ => {}
        }
        if d.line == 0 {
            assert_eq!(d.code, Code::MalformedRow, "{d}");
        }
    }
    // Past the first diagnostics of a code, the report counts the rest.
    for code in Code::ALL {
        match code.outcome() {
            Outcome::Skipped => skipped += report.omitted_by(code),
            Outcome::Merged => merged += report.omitted_by(code),
            _ => {}
        }
    }
    assert_eq!(skipped, report.skipped(), "{report}");
    assert_eq!(merged, report.merged(), "{report}");
});
