//! Every field has a size limit, so that neither the ingest nor the set
//! holds what an input chose to make huge.

use std::io::{self, Read};

use indset::ingest::{Format, Ingester, Options, Report};
use indset::{Code, Indicator, Timestamp};

use indset_test_support::alloc;
use indset_test_support::fixtures::{hosts, ingest_with};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

const NOW: Timestamp = Timestamp(1_761_350_400);

/// Held by each test: the heap counters are global to this binary.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Gives `head`, `len` bytes of `fill`, then `tail`, never holding them.
struct Padded {
    parts: Vec<Vec<u8>>,
    fill: u8,
    left: u64,
}

impl Read for Padded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.parts.len() == 1 && self.left > 0 {
            let n = (self.left as usize).min(buf.len());
            buf[..n].fill(self.fill);
            self.left -= n as u64;
            return Ok(n);
        }
        let Some(part) = self.parts.first_mut() else {
            return Ok(0);
        };
        let n = part.len().min(buf.len());
        buf[..n].copy_from_slice(&part[..n]);
        part.drain(..n);
        if part.is_empty() {
            self.parts.remove(0);
        }
        Ok(n)
    }
}

/// A 64 MiB description is one `too-long` row; the JSON reader holds none
/// of it and reads on at the next element.
/// Compiled for the device group `x`, which the rows with groups name
/// (so that they are kept when they are within the limits).
fn ingest(name: &str, bytes: &[u8], format: Format) -> (Vec<Indicator>, Report) {
    ingest_with(Options::at(NOW).device_group("x"), name, bytes, format)
}

#[test]
fn a_huge_json_description_is_one_rejected_row_and_is_not_held() {
    let _alone = alone();
    const LEN: u64 = 64 << 20;
    let head = "[\n{\"indicatorValue\":\"a.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"},\n\
                {\"indicatorValue\":\"big.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\",\"description\":\"";
    let tail = "\"},\n{\"indicatorValue\":\"c.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"}\n]\n";
    let input = Padded {
        parts: vec![head.as_bytes().to_vec(), tail.as_bytes().to_vec()],
        fill: b'x',
        left: LEN,
    };
    let (peak, (v, r)) = alloc::peak_during(|| {
        let mut ing = Ingester::new(Options::at(NOW));
        ing.read("big.json", input, Format::Json).unwrap();
        ing.finish()
    });
    assert_eq!(hosts(&v), ["a.test", "c.test"], "{:?}", r.diagnostics());
    let d: Vec<_> = r.diagnostics().iter().map(|d| (d.line, d.code)).collect();
    assert_eq!(d, [(3, Code::TooLong)]);
    let m = &r.diagnostics()[0].message;
    assert!(m.contains("`description`") && m.contains("32768"), "{m}");
    assert_eq!((r.rows(), r.rejected_by(Code::TooLong)), (3, 1));
    assert!(peak < 4 << 20, "peak heap {peak} bytes");
}

/// Each field over its limit, in CSV and in JSON: one `too-long` row
/// naming the field and the limit; the rows around it are read.
#[test]
fn every_field_has_a_limit() {
    let _alone = alone();
    let table: [(&str, &str, usize, usize); 7] = [
        ("IndicatorValue", "indicatorValue", 8 * 1024, 0),
        ("Title", "title", 1024, 0),
        ("Description", "description", 32 * 1024, 0),
        ("Category", "category", 256, 0),
        ("Id", "id", 256, 0),
        ("RbacGroups", "rbacGroupNames", 256, 0),
        ("RbacGroups", "rbacGroupNames", 1, 256),
    ];
    for (column, field, limit, groups) in table {
        let over = if groups > 0 {
            vec!["g"; groups + 1].join(",")
        } else if column == "IndicatorValue" {
            format!("{}.test", "a".repeat(limit))
        } else {
            "a".repeat(limit + 1)
        };
        let value = |v: &str| {
            if column == "IndicatorValue" {
                over.clone()
            } else {
                v.to_string()
            }
        };
        let extra = if column == "IndicatorValue" {
            "Title"
        } else {
            column
        };
        let csv = format!(
            "IndicatorType,IndicatorValue,Action,{extra}\nDomainName,a.test,Block,x\n\
             DomainName,{},Block,\"{}\"\nDomainName,c.test,Block,x\n",
            value("b.test"),
            if column == "IndicatorValue" {
                "x"
            } else {
                &over
            }
        );
        let json = format!(
            "[{{\"indicatorValue\":\"a.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"}},\n\
             {{\"indicatorValue\":\"{}\",\"indicatorType\":\"DomainName\",\"action\":\"Block\",\"{}\":\"{}\"}},\n\
             {{\"indicatorValue\":\"c.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"}}]",
            value("b.test"),
            if column == "IndicatorValue" {
                "title"
            } else {
                field
            },
            if column == "IndicatorValue" {
                "x"
            } else {
                &over
            }
        );
        for (name, text, line) in [("f.csv", csv, 3), ("f.json", json, 2)] {
            let (v, r) = ingest(name, text.as_bytes(), Format::Auto);
            assert_eq!(
                hosts(&v),
                ["a.test", "c.test"],
                "{name} {column}: {:?}",
                r.diagnostics()
            );
            let d = &r.diagnostics()[0];
            assert_eq!(
                (r.diagnostics().len(), d.line, d.code),
                (1, line, Code::TooLong),
                "{d}"
            );
            let limit = if groups > 0 { groups } else { limit };
            assert!(d.message.contains(&limit.to_string()), "{d}");
            assert!(
                d.message.to_lowercase().contains(&column.to_lowercase()),
                "{d}"
            );
        }
    }
}

/// An element over 1 MiB of short fields cannot be skipped without
/// holding it: it is one `too-long` row and the file stops there.
#[test]
fn a_json_element_over_a_mebibyte_stops_the_file() {
    let _alone = alone();
    let groups = vec!["\"g\""; 300_000].join(",");
    let text = format!(
        "[{{\"indicatorValue\":\"a.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"}},\n\
         {{\"indicatorValue\":\"b.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\",\"rbacGroupNames\":[{groups}]}},\n\
         {{\"indicatorValue\":\"c.test\",\"indicatorType\":\"DomainName\",\"action\":\"Block\"}}]"
    );
    let (v, r) = ingest("e.json", text.as_bytes(), Format::Json);
    assert_eq!(hosts(&v), ["a.test"]);
    let d: Vec<_> = r.diagnostics().iter().map(|d| (d.line, d.code)).collect();
    assert_eq!(d, [(2, Code::TooLong), (2, Code::MalformedRow)]);
    assert!(
        r.diagnostics()[1]
            .message
            .contains("nothing from line 2 on was read")
    );
    assert_eq!((r.rows(), r.file_errors()), (2, 1));
}
