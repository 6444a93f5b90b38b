//! The `indset` binary on hostile and messy input: unreadable files, empty
//! sets, over-long or undecodable query lines, closed pipes, outputs that
//! name inputs, and the messages each of these gets.

use std::fs;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_indset");
const NOW: &str = "2026-06-01T00:00:00Z";

const PORTAL_CSV: &str = "\
IndicatorType,IndicatorValue,ExpirationTime,Action,Severity,Title,Description,RecommendedActions,RbacGroups,Category,MitreTechniques,GenerateAlert
DomainName,example.com,,Block,High,Example block,,,,,,True
DomainName,partner.example.com,,Allowed,,,,,,,,
IpAddress,1.2.3.4,,Block,High,An IP,,,,,,
DomainName,*.wild.example,,Block,,,,,,,,
";

/// A scratch directory holding `portal.csv` and, compiled from it,
/// `set.indset`.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let s = Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        fs::write(s.path("portal.csv"), PORTAL_CSV).expect("write portal.csv");
        let out = s.compile(&["-o", &s.arg("set.indset"), &s.arg("portal.csv")]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        s
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn compile(&self, args: &[&str]) -> Output {
        let mut all = vec!["compile", "--now", NOW];
        all.extend_from_slice(args);
        run(&all, b"")
    }

    fn lookup(&self, args: &[&str], stdin: &[u8]) -> Output {
        let set = self.arg("set.indset");
        let mut all = vec!["lookup", "--now", NOW, "--set", &set];
        all.extend_from_slice(args);
        run(&all, stdin)
    }
}

fn spawn(args: &[&str]) -> Child {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run indset")
}

/// Runs the binary with `stdin` and waits, for at most a minute.
fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = spawn(args);
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        // The child may stop reading early; that is its business.
        let _ = pipe.write_all(&input);
    });
    let out = wait_bounded(child);
    feeder.join().expect("the stdin feeder");
    out
}

/// Waits for `child`, killing it after a minute so a hang fails the test
/// instead of stalling the suite.
fn wait_bounded(mut child: Child) -> Output {
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let read_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut b);
        }
        b
    });
    let read_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut b);
        }
        b
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("indset did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: read_out.join().expect("stdout reader"),
        stderr: read_err.join().expect("stderr reader"),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json_lines(out: &Output) -> Vec<Value> {
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

// Lookup lines: bounded, and every line answered.

#[test]
fn an_overlong_query_line_is_invalid_and_the_next_is_answered() {
    let s = Scratch::new();
    let mut input = b"https://www.example.com/".to_vec();
    input.resize(3 << 20, b'a');
    input.extend_from_slice(b"\n");
    input.resize(input.len() + (3 << 20), 0);
    input.extend_from_slice(b"\nhttps://www.example.com/\n");
    let out = s.lookup(&["--summary"], &input);
    assert!(out.stdout.len() < 4096, "the answers hold no megabytes");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{}", text(&out.stdout));
    for (i, l) in lines[..2].iter().enumerate() {
        assert_eq!(l["invalid"], true, "{l}");
        assert_eq!(l["action"], "none", "{l}");
        assert_eq!(l["line"], i as u64 + 1, "{l}");
    }
    assert_eq!(lines[2]["action"], "block");
    assert!(lines[2].get("invalid").is_none());
    assert!(
        text(&out.stderr)
            .contains("3 queries: 1 block, 0 warn, 0 allow, 0 audit, 2 none (2 invalid)"),
        "{}",
        text(&out.stderr)
    );
}

/// Peak memory of a process, from /proc (Linux).
#[cfg(target_os = "linux")]
fn peak_kib(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[cfg(target_os = "linux")]
#[test]
fn an_endless_line_does_not_grow_memory() {
    let s = Scratch::new();
    let set = s.arg("set.indset");
    let mut child = spawn(&["lookup", "--now", NOW, "--set", &set]);
    let mut stdin = child.stdin.take().unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        stdin.write_all(&zeros).unwrap();
    }
    // All but a pipe's buffer of the 64 MiB has been read by now.
    let peak = peak_kib(child.id());
    stdin.write_all(b"\nexample.com\n").unwrap();
    drop(stdin);
    let out = wait_bounded(child);
    assert!(peak < 24 * 1024, "peak {peak} KiB after a 64 MiB line");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["invalid"], true);
    assert_eq!(lines[1]["action"], "block");
}

#[test]
fn lookup_help_states_the_line_cap() {
    let out = run(&["lookup", "--help"], b"");
    assert!(text(&out.stdout).contains("1 MiB"), "{}", text(&out.stdout));
}

#[test]
fn an_undecodable_line_is_invalid_and_the_run_goes_on() {
    let s = Scratch::new();
    let input = b"https://www.example.com/\n\xff\xfe bad \xc3\n\nhttps://partner.example.com/\n";
    let out = s.lookup(&["--summary"], input);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{}", text(&out.stdout));
    assert_eq!(lines[0]["action"], "block");
    assert_eq!(lines[1]["invalid"], true);
    assert_eq!(lines[1]["action"], "none");
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[2]["action"], "allow");
    assert!(
        text(&out.stderr).contains("(1 invalid)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_json_line_without_a_string_url_is_invalid() {
    let s = Scratch::new();
    let input = concat!(
        "{\"url\":123}\n",
        "{\"url\":null,\"host\":\"example.com\"}\n",
        "{\"cpt\":\"script\"}\n",
        "{\"url\":[\"https://example.com/\"]}\n",
        "{\"url\":\"https://example.com/\"}\n",
        "{\"host\":\"partner.example.com\"}\n",
    );
    let out = s.lookup(&["--summary"], input.as_bytes());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 6);
    for (l, line) in lines[..4].iter().zip(input.lines()) {
        assert_eq!(l["invalid"], true, "{l}");
        assert_eq!(l["action"], "none", "{l}");
        assert_eq!(l["query"], line, "{l}");
        assert_eq!(l["canonical"], Value::Null, "{l}");
    }
    assert_eq!(lines[4]["action"], "block");
    assert_eq!(lines[5]["action"], "allow");
    assert!(
        text(&out.stderr)
            .contains("6 queries: 1 block, 0 warn, 1 allow, 0 audit, 4 none (4 invalid)"),
        "{}",
        text(&out.stderr)
    );
}

// A closed pipe ends a subcommand quietly.

/// Runs the binary with its stdout closed before it writes (or, with
/// `read_first`, after its first line, as `| head -1` does).
fn with_stdout_closed(args: &[&str], stdin: &[u8], read_first: bool) -> Output {
    let mut child = spawn(args);
    let mut stdout = child.stdout.take().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    if read_first {
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {}
    }
    drop(stdout);
    let out = wait_bounded(child);
    feeder.join().expect("the stdin feeder");
    out
}

#[test]
fn a_closed_stdout_ends_every_subcommand_quietly() {
    let s = Scratch::new();
    // A set big enough that listing it overflows a pipe's buffer.
    let list: String = (0..5000)
        .map(|i| format!("host{i}.example.net\n"))
        .collect();
    fs::write(s.path("big.txt"), list).unwrap();
    let big = s.arg("big.indset");
    let out = s.compile(&["-o", &big, &s.arg("big.txt")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let set = s.arg("set.indset");
    let queries = "https://www.example.com/\n".repeat(20_000);
    let lookup = ["lookup", "--now", NOW, "--set", &set];
    let cases: Vec<(Vec<&str>, &[u8], bool)> = vec![
        (lookup.to_vec(), queries.as_bytes(), true),
        (lookup.to_vec(), queries.as_bytes(), false),
        (
            [&lookup[..], &["example.com"; 20_000][..]].concat(),
            b"",
            true,
        ),
        (vec!["inspect", "--list", &big], b"", true),
        (vec!["inspect", "--json", "--list", &big], b"", false),
        (
            vec!["explain", "--set", &set, "https://example.com/"],
            b"",
            false,
        ),
    ];
    for (args, stdin, read_first) in cases {
        let out = with_stdout_closed(&args, stdin, read_first);
        assert_eq!(
            (out.status.code(), text(&out.stderr)),
            (Some(0), String::new()),
            "{:?}",
            &args[..2]
        );
    }
}
