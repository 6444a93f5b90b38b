//! The heap an ingest needs: a small input must stay small on a phone,
//! however many rows of it are rejected, skipped or merged.

use indset::Timestamp;
use indset::ingest::{Format, Ingester, Options};

use indset_test_support::alloc;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// One test only: the counters are global to this binary.
#[test]
fn a_small_input_with_many_diagnostics_peaks_at_a_small_heap() {
    // 400 rows of 60 bytes, three in four rejected or merged, so the
    // rows held are settled about 300 times.
    let mut csv = String::from("IndicatorType,IndicatorValue,Action\n");
    for i in 0..100 {
        csv.push_str(&format!("DomainName,host{i}.example.com,Block\n"));
        csv.push_str("DomainName,co.uk,Block\n");
        csv.push_str(&format!("DomainName,HOST{i}.example.com,Block\n"));
        csv.push_str(&format!("IpAddress,192.0.2.{i},Block\n"));
    }
    let (peak, (indicators, report)) = alloc::peak_during(|| {
        let mut ing = Ingester::new(Options::at(Timestamp(1_780_000_000)));
        ing.read("small.csv", csv.as_bytes(), Format::Csv).unwrap();
        ing.finish()
    });

    assert_eq!(report.rows(), 400);
    // `co.uk` is accepted once with a warning, then merged like the
    // upper-case spellings; every address is rejected.
    assert_eq!(indicators.len(), 101, "{report}");
    assert_eq!(report.rejected(), 100, "{report}");
    assert_eq!(report.merged(), 199, "{report}");
    // The input is 16 KiB; everything ingest keeps about it (indicators,
    // diagnostics with their messages, the key index) fits in well under
    // 512 KiB. A full batch reserved at each settle would be 2 MiB.
    assert!(peak < 512 * 1024, "peak heap {peak} bytes");
}
