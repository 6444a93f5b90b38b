//! End to end: the `indset` binary as a user runs it (the README).

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use indset_test_support::fixtures::{json_lines, text};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_indset");
const NOW: &str = "2026-06-01T00:00:00Z";

/// A scratch directory with a small portal CSV in it.
struct Scratch {
    dir: tempfile::TempDir,
}

const PORTAL_CSV: &str = "\
IndicatorType,IndicatorValue,ExpirationTime,Action,Severity,Title,Description,RecommendedActions,RbacGroups,Category,MitreTechniques,GenerateAlert
DomainName,example.com,,Block,High,Example block,,,,,,True
Url,https://example.com/safe,,Allowed,Low,Safe page,,,,,,False
DomainName,partner.example.com,,Allowed,,,,,,,,
Url,http://shop.example.org/login,,Warn,Medium,Phishy login,,,,,,
DomainName,tracker.example.net,,Audit,Informational,Tracker,,,,,,
IpAddress,1.2.3.4,,Block,High,An IP,,,,,,
DomainName,*.wild.example,,Block,,,,,,,,
Url,https://example.com/safe,,Block,,,,,,,,
DomainName,old.example,2020-01-01T00:00:00Z,Block,,,,,,,,
";

impl Scratch {
    fn new() -> Scratch {
        let s = Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        fs::write(s.path("portal.csv"), PORTAL_CSV).unwrap();
        s
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Compiles `portal.csv` into `set.indset`.
    fn compiled(self) -> Scratch {
        let out = run(&self.compile_args(&[]), None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        self
    }

    fn compile_args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec!["compile".into(), "--now".into(), NOW.into()];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push("-o".into());
        args.push(self.path("set.indset").display().to_string());
        args.push(self.path("portal.csv").display().to_string());
        args
    }

    fn lookup(&self, extra: &[&str], stdin: Option<&str>) -> Output {
        let mut args = vec![
            "lookup".to_string(),
            "--now".into(),
            NOW.into(),
            "--set".into(),
        ];
        args.push(self.path("set.indset").display().to_string());
        args.extend(extra.iter().map(|s| s.to_string()));
        run(&args, stdin)
    }
}

fn run(args: &[String], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run indset");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

#[test]
fn compile_reports_every_row_in_the_spec_format() {
    let s = Scratch::new();
    let out = run(&s.compile_args(&[]), None);
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    let csv = s.path("portal.csv").display().to_string();
    for want in [
        format!("{csv}:7: error[ip-indicator]: "),
        format!("{csv}:8: error[wildcard]: "),
        format!("{csv}:9: warning[conflict]: "),
        format!("{csv}:10: note[expired]: "),
    ] {
        assert!(err.contains(&want), "missing {want:?} in\n{err}");
    }
    assert!(
        err.contains("9 rows: 5 accepted, 2 rejected (1 ip-indicator, 1 wildcard), 1 skipped (1 expired), 1 merged (1 conflict)"),
        "{err}"
    );
    assert!(s.path("set.indset").is_file());
}

#[test]
fn strict_exits_1_and_writes_nothing() {
    let s = Scratch::new();
    let out = run(&s.compile_args(&["--strict"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--strict"));
    assert!(!s.path("set.indset").exists());
}

#[test]
fn report_json_counts_add_up() {
    let s = Scratch::new();
    let report = s.path("report.json").display().to_string();
    let out = run(&s.compile_args(&["--report", &report]), None);
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let n = |k: &str| r[k].as_u64().unwrap();
    assert_eq!(n("rows"), 9);
    assert_eq!(
        n("accepted") + n("rejected") + n("skipped") + n("merged"),
        9
    );
    assert_eq!(r["errors"]["ip-indicator"], 1);
    assert_eq!(r["diagnostics"].as_array().unwrap().len(), 4);
    assert_eq!(r["diagnostics"][0]["line"], 7);
}

#[test]
fn compiling_twice_gives_identical_files() {
    let s = Scratch::new().compiled();
    let first = fs::read(s.path("set.indset")).unwrap();
    let s = s.compiled();
    assert_eq!(first, fs::read(s.path("set.indset")).unwrap());
}

#[test]
fn lookup_json_has_the_spec_shape_and_precedence() {
    let s = Scratch::new().compiled();
    let out = s.lookup(
        &[
            "https://a.example.com/bad?x=1",
            "https://example.com/safe/page",
            "https://partner.example.com/x",
            "http://shop.example.org/login?next=/",
            "https://tracker.example.net/p.gif",
            "https://unrelated.test/",
            "ftp://example.com/",
        ],
        None,
    );
    let lines = json_lines(&out);
    let actions: Vec<&str> = lines
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["block", "allow", "allow", "warn", "audit", "none", "none"]
    );
    let first = &lines[0];
    let raw = text(&out.stdout);
    let raw = raw.lines().next().unwrap();
    in_order(
        raw,
        &[
            "{\"query\":",
            "\"canonical\":",
            "\"action\":",
            "\"indicator\":{\"id\":",
            "\"type\":",
            "\"value\":",
            "\"action\":",
            "\"title\":",
            "\"severity\":",
            "},\"audit\":null}",
        ],
    );
    assert_eq!(first["query"], "https://a.example.com/bad?x=1");
    assert_eq!(first["canonical"], "https://a.example.com/bad?x=1");
    let ind = &first["indicator"];
    // Without a portal id, the input file and line name the row.
    let csv = s.path("portal.csv").display().to_string();
    assert_eq!(ind["id"], format!("{csv}:2"));
    assert_eq!(ind["type"], "DomainName");
    assert_eq!(ind["value"], "example.com");
    assert_eq!(ind["title"], "Example block");
    assert_eq!(ind["severity"], "High");
    assert_eq!(lines[1]["indicator"]["value"], "example.com/safe");
    assert_eq!(lines[4]["indicator"], Value::Null);
    assert_eq!(lines[4]["audit"]["value"], "tracker.example.net");
    assert_eq!(lines[5]["indicator"], Value::Null);
    assert_eq!(lines[6]["invalid"], true);
    assert!(lines[0].get("invalid").is_none());
}

/// The fields appear in the order the README's `indset lookup` shows them.
fn in_order(raw: &str, parts: &[&str]) {
    let mut at = 0;
    for p in parts {
        let i = raw[at..]
            .find(p)
            .unwrap_or_else(|| panic!("{p} not after byte {at} in {raw}"));
        at += i + p.len();
    }
}

#[test]
fn lookup_reads_stdin_lines_and_json_lines() {
    let s = Scratch::new().compiled();
    let input = "https://www.example.com/\n\n{\"url\":\"https://partner.example.com/\",\"cpt\":\"script\"}\n";
    let lines = json_lines(&s.lookup(&[], Some(input)));
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["action"], "block");
    assert_eq!(lines[1]["query"], "https://partner.example.com/");
    assert_eq!(lines[1]["action"], "allow");
}

#[test]
fn domain_mode_ignores_paths_and_strips_ports() {
    let s = Scratch::new().compiled();
    let lines = json_lines(&s.lookup(
        &[
            "--mode",
            "domain",
            "example.com:443",
            "shop.example.org",
            "https://a.example.com/x",
        ],
        None,
    ));
    let actions: Vec<&str> = lines
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    // The Allow on example.com/safe and the Warn on shop.example.org/login
    // have paths: a device without paths never applies them.
    assert_eq!(actions, ["block", "none", "block"]);
    assert_eq!(lines[0]["canonical"], "example.com");
}

#[test]
fn app_config_privacy_web_protection_and_supervision() {
    let s = Scratch::new().compiled();
    let cfg = s.path("managed.json");
    let cfg_arg = cfg.display().to_string();

    fs::write(
        &cfg,
        r#"{"DefenderExcludeURLInReport": "true", "issupervised": true}"#,
    )
    .unwrap();
    let lines = json_lines(&s.lookup(&["--app-config", &cfg_arg, "https://example.com/x"], None));
    assert_eq!(lines[0]["query"], "hidden");
    assert_eq!(lines[0]["canonical"], "hidden");
    assert_eq!(lines[0]["action"], "block");
    assert_eq!(lines[0]["indicator"]["value"], "hidden");
    let csv = s.path("portal.csv").display().to_string();
    assert_eq!(lines[0]["indicator"]["id"], format!("{csv}:2"));
    assert!(!text(&out_stdout(&lines)).contains("example.com"));

    // Unsupervised: domain mode, so the path Allow does not apply.
    fs::write(&cfg, r#"{"issupervised": "false"}"#).unwrap();
    let lines = json_lines(&s.lookup(
        &["--app-config", &cfg_arg, "https://example.com/safe"],
        None,
    ));
    assert_eq!(lines[0]["action"], "block");
    fs::write(&cfg, r#"{"issupervised": "TRUE"}"#).unwrap();
    let lines = json_lines(&s.lookup(
        &["--app-config", &cfg_arg, "https://example.com/safe"],
        None,
    ));
    assert_eq!(lines[0]["action"], "allow");

    fs::write(&cfg, r#"{"WebProtection": false, "issupervised": true}"#).unwrap();
    let lines = json_lines(&s.lookup(&["--app-config", &cfg_arg, "https://example.com/"], None));
    assert_eq!(lines[0]["action"], "none");
    assert_eq!(lines[0]["indicator"], Value::Null);

    fs::write(&cfg, r#"{"WebProtection": "maybe"}"#).unwrap();
    let out = s.lookup(&["--app-config", &cfg_arg, "https://example.com/"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("WebProtection"),
        "{}",
        text(&out.stderr)
    );
}

fn out_stdout(lines: &[Value]) -> Vec<u8> {
    lines
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

#[test]
fn explain_lists_matches_and_the_winner() {
    let s = Scratch::new().compiled();
    let args: Vec<String> = [
        "explain",
        "--now",
        NOW,
        "--set",
        &s.path("set.indset").display().to_string(),
        "https://partner.example.com/safe",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let out = run(&args, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let o = text(&out.stdout);
    assert!(o.contains("canonical: partner.example.com/safe"), "{o}");
    let decided = o.lines().find(|l| l.contains("DECIDES")).expect(&o);
    assert!(decided.contains("partner.example.com"), "{o}");
    assert!(
        o.lines()
            .any(|l| l.contains("outranked") && l.contains("example.com")),
        "{o}"
    );
    assert!(o.contains("verdict:   allow: more labels"), "{o}");
}

#[test]
fn explain_escapes_control_characters_in_the_query() {
    let s = Scratch::new().compiled();
    let set = s.path("set.indset").display().to_string();
    let q = "a.example.com\nverdict:   allow\u{1b}[31m";
    let out = run(&["explain".into(), "--set".into(), set, q.into()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let o = text(&out.stdout);
    assert!(
        o.starts_with("query:     a.example.com\\nverdict:   allow\\u{1b}[31m\n"),
        "{o}"
    );
    assert!(!o.contains('\u{1b}'), "{o}");
    assert_eq!(
        o.lines().filter(|l| l.starts_with("verdict:")).count(),
        1,
        "{o}"
    );
}

#[test]
fn inspect_text_and_json() {
    let s = Scratch::new().compiled();
    let set = s.path("set.indset").display().to_string();
    let out = run(&["inspect".into(), set.clone()], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).contains("5 indicators (3 DomainName, 2 Url)"),
        "{}",
        text(&out.stdout)
    );
    let out = run(
        &["inspect".into(), "--json".into(), "--list".into(), set],
        None,
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["indicators"], 5);
    assert_eq!(doc["verified"], true);
    assert_eq!(doc["actions"]["allow"], 2);
    let values: Vec<&str> = doc["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["value"].as_str().unwrap())
        .collect();
    assert!(
        values.contains(&"example.com/safe") && values.contains(&"tracker.example.net"),
        "{values:?}"
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let s = Scratch::new().compiled();
    for args in [
        vec!["lookup".to_string()],
        vec![
            "compile".into(),
            "-o".into(),
            s.path("x.indset").display().to_string(),
            s.path("missing.csv").display().to_string(),
        ],
        vec![
            "lookup".into(),
            "--set".into(),
            s.path("missing.indset").display().to_string(),
            "a.example".into(),
        ],
        vec![
            "lookup".into(),
            "--mode".into(),
            "half".into(),
            "--set".into(),
            s.path("set.indset").display().to_string(),
        ],
        vec!["inspect".into(), s.path("portal.csv").display().to_string()],
    ] {
        let out = run(&args, None);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stderr).is_empty());
        assert!(
            !text(&out.stderr).contains("panicked"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_damaged_set_exits_2_with_a_message_never_a_panic() {
    let s = Scratch::new().compiled();
    let good = fs::read(s.path("set.indset")).unwrap();
    let bad = s.path("bad.indset");
    let bad_arg = bad.display().to_string();
    let mut cases: Vec<Vec<u8>> = Vec::new();
    // Every 13th bit (the library test flips them all) and a spread of
    // truncations, through the command line.
    for bit in (0..good.len() * 8).step_by(13) {
        let mut b = good.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        cases.push(b);
    }
    for len in (0..good.len()).step_by(good.len() / 16 + 1) {
        cases.push(good[..len].to_vec());
    }
    for bytes in cases {
        fs::write(&bad, &bytes).unwrap();
        let out = run(
            &[
                "lookup".into(),
                "--set".into(),
                bad_arg.clone(),
                "example.com".into(),
            ],
            None,
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with("indset: error: cannot use the set"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn help_teaches_with_examples() {
    for sub in ["compile", "lookup", "explain", "inspect"] {
        let out = run(&[sub.to_string(), "--help".into()], None);
        assert_eq!(out.status.code(), Some(0));
        let help = text(&out.stdout);
        assert!(
            help.contains("Examples:") && help.contains(&format!("indset {sub}")),
            "{sub}: {help}"
        );
    }
}
