//! A row is applied as written or refused: a JSON field written twice, a
//! second indicator array, a blank device-group name and groups named by
//! id only never become a different indicator, or one for every device.

use indset::Code;
use indset::ingest::{Format, Options, Report};
use indset::{Action, Indicator, Timestamp};
use indset_test_support::fixtures::ingest_with;

fn now() -> Options {
    Options::at(Timestamp(1_700_000_000))
}

fn ingest(name: &str, text: &str, opts: Options) -> (Vec<Indicator>, Report) {
    ingest_with(opts, name, text.as_bytes(), Format::Auto)
}

#[test]
fn a_json_field_written_twice_is_refused() {
    let json = r#"[{"indicatorType":"DomainName","indicatorValue":"good.test",
                   "indicatorValue":"evil.test","action":"Block","action":"Allowed"},
                  {"indicatorType":"DomainName","indicatorValue":"a.test","Action":"Block",
                   "action":"Allowed"},
                  {"indicatorType":"DomainName","indicatorValue":"ok.test","action":"Block",
                   "comment":"x","comment":"y"}]"#;
    let (v, r) = ingest("dup.json", json, now());
    // Unknown fields may repeat; the fields read for the indicator may not.
    assert_eq!(v.len(), 1, "{:?}", r.diagnostics());
    assert_eq!(v[0].host, "ok.test");
    assert_eq!(r.rejected_by(Code::MalformedRow), 2);
    assert!(
        r.diagnostics()[0].message.contains("written twice"),
        "{:?}",
        r.diagnostics()
    );
}

#[test]
fn a_second_indicator_array_stops_the_file() {
    let json = r#"{"value":[{"indicatorType":"DomainName","indicatorValue":"a.test","action":"Block"}],
                   "value":[{"indicatorType":"DomainName","indicatorValue":"b.test","action":"Allowed"}]}"#;
    let (v, r) = ingest("two.json", json, now());
    assert!(
        v.iter().all(|i| i.host != "b.test"),
        "the second array is not read"
    );
    assert_eq!(r.file_errors(), 1);
    assert!(
        r.diagnostics()
            .iter()
            .any(|d| d.message.contains("second indicator array")),
        "{:?}",
        r.diagnostics()
    );
}

#[test]
fn blank_group_names_are_refused_not_widened() {
    let json = r#"[{"indicatorType":"DomainName","indicatorValue":"f.test","action":"Allowed",
                    "rbacGroupNames":[""]},
                   {"indicatorType":"DomainName","indicatorValue":"g.test","action":"Allowed",
                    "rbacGroupNames":"Sales,"}]"#;
    let (v, r) = ingest("blank.json", json, now());
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(
        r.rejected_by(Code::MalformedRow),
        2,
        "{:?}",
        r.diagnostics()
    );
    let csv = "IndicatorType,IndicatorValue,Action,RbacGroups\n\
               DomainName,c.test,Allowed,\",\"\n\
               DomainName,d.test,Block,\n\
               DomainName,e.test,Block, \n";
    let (v, r) = ingest("blank.csv", csv, now());
    let hosts: Vec<&str> = v.iter().map(|i| i.host.as_str()).collect();
    assert_eq!(
        hosts,
        ["d.test", "e.test"],
        "an empty or blank field is no group"
    );
    assert_eq!(r.rejected_by(Code::MalformedRow), 1);
    assert_eq!(r.diagnostics()[0].line, 2);
}

#[test]
fn groups_named_by_id_stay_with_those_groups() {
    let json = r#"[{"indicatorType":"DomainName","indicatorValue":"e.test","action":"Allowed",
                    "rbacGroupIds":[5]},
                   {"indicatorType":"DomainName","indicatorValue":"e.test","action":"Block"}]"#;
    let (v, r) = ingest("ids.json", json, now());
    assert_eq!(v.len(), 1);
    assert_eq!(
        v[0].action,
        Action::Block,
        "the scoped Allow is not for every device"
    );
    assert_eq!(r.skipped_by(Code::OtherGroup), 1);
    assert!(
        r.diagnostics()[0].message.contains("`id:5`"),
        "{:?}",
        r.diagnostics()
    );
    let (v, _) = ingest("ids.json", json, now().device_group("id:5"));
    assert_eq!(v[0].action, Action::Allow, "the set of group id 5 has it");
}

#[test]
fn text_lines_that_are_not_hosts_are_refused_with_a_hint() {
    let text = "{\n\"indicatorValue\": \"a.test\",\n}\nIndicatorType;IndicatorValue;Action\n\
                DomainName;h1.test;Allow\na\"b.test\n<html>\nallow.\nok.test\n\
                http://x.test/p;q=1\n";
    let (v, r) = ingest("mixed.txt", text, now());
    let hosts: Vec<&str> = v.iter().map(|i| i.host.as_str()).collect();
    // A `;` in a URL's path is fine; everything else here is not a host.
    assert_eq!(hosts, ["ok.test", "x.test"], "{:?}", r.diagnostics());
    assert_eq!(
        r.rejected_by(Code::MalformedRow),
        8,
        "{:?}",
        r.diagnostics()
    );
    let hint = |line: u64| {
        r.diagnostics()
            .iter()
            .find(|d| d.line == line)
            .map(|d| d.message.clone())
            .unwrap_or_default()
    };
    assert!(hint(1).contains("JSON"), "{}", hint(1));
    assert!(hint(4).contains("separated by `;`"), "{}", hint(4));
    assert!(hint(8).contains("action word"), "{}", hint(8));
}
