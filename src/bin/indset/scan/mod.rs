//! `indset scan`: hunt a set's indicators through logs.
//!
//! One reader thread reads the inputs one after another (decompressing
//! `.gz` and `.zst`), cuts them into chunks at line boundaries and numbers
//! their lines; a worker per core reads the records of a chunk and looks
//! them up; the main thread writes the workers' output in input order. A
//! fixed number of chunks is in flight at once (a token is taken before a
//! chunk is read and given back once it is written), so memory is bounded
//! by the chunk size, never by the log's.

mod formats;
mod input;

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use indset::ingest::MAX_LINE_LEN;
use indset::{Decision, Hit, Mode, Timestamp};

use crate::Status;
use crate::output::{IndicatorJson, MappedSet, open_set};
use formats::{FormatArg, Found, Reader};
use input::{Chunk, Piece};

/// At most this many malformed records are printed to stderr; every one
/// is counted in the summary.
const SHOWN_MALFORMED: u64 = 100;

/// The JSON of the indicators a worker has reported, by hit: rebuilding
/// them canonicalises the query again, which on a log where many records
/// match costs more than the lookup itself. Cleared when it reaches
/// [`MAX_INFOS`], so that its memory stays bounded.
type Infos = HashMap<Hit, Box<[u8]>>;
const MAX_INFOS: usize = 1 << 16;

/// Limits on the options, which size the buffers and threads.
const MAX_CHUNK: usize = 1 << 30;
const MAX_THREADS: usize = 1024;

/// `--summary` lists the indicators that matched the most records.
const SHOWN_INDICATORS: usize = 20;

/// Find the records of logs that a set's indicators decide.
///
/// Reads each LOG (stdin when none; `.gz` and `.zst` are decompressed,
/// recognised by their first bytes) and writes one JSON object a line for
/// each URL or host name that an indicator matches: `file`, `line`,
/// `query`, then `action`, `indicator` and `audit` as `indset lookup`
/// writes them (`indset lookup QUERY` adds the canonical form). A record is looked up exactly as `indset
/// lookup` looks up the same URL.
///
/// The format of each input is recognised from its first lines, or forced
/// with --format: JSON lines (the `url` field, else `host`, else `query`,
/// or --field), Zeek http.log and dns.log (TSV with their #fields header),
/// Squid/nginx/Apache access logs (the absolute URL of a proxy's request
/// line, a CONNECT authority, or a vhost_combined host), CSV with a header
/// (the `url` column, or --field), and free text (every http(s) URL and
/// every bare host name).
///
/// A record that cannot be read is counted, reported on stderr with its
/// file and line (the first 100), and skipped. Output is in input order;
/// the work runs on every core.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  indset scan --set set.indset proxy/access.log.gz
  indset scan --set set.indset --summary zeek/http.*.log.zst > hits.jsonl
  indset scan --set set.indset --mode domain zeek/dns.log
  indset scan --set set.indset --format csv --field link export.csv
  zcat data/requests-top500-2019.jsonl.gz | indset scan --set set.indset")]
pub struct Args {
    /// The compiled set (`indset compile -o FILE`).
    #[arg(long, value_name = "FILE")]
    set: PathBuf,
    /// `full` matches whole URLs; `domain` matches host names only, as an
    /// unsupervised device does.
    #[arg(long, default_value = "full", value_parser = crate::lookup::parse_mode)]
    mode: Mode,
    /// The log format; `auto` recognises it from each input's first lines.
    #[arg(long, value_enum, default_value = "auto")]
    format: FormatArg,
    /// The JSON field, CSV column or Zeek column that holds the URL or host.
    #[arg(long, value_name = "NAME")]
    field: Option<String>,
    /// The lookup time (RFC 3339) for expiring indicators. Default: now.
    #[arg(long, value_name = "RFC3339", value_parser = crate::output::parse_now)]
    now: Option<Timestamp>,
    /// At the end, print to stderr the records per action, and the 20
    /// indicators that matched the most.
    #[arg(long)]
    summary: bool,
    /// Print every record checked, matching or not.
    #[arg(long)]
    all: bool,
    /// Worker threads. Default: one per core.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Bytes per chunk of work (tests cut at every line with 1).
    #[arg(long, default_value_t = 1 << 20, hide = true)]
    chunk_size: usize,
    /// Log files; stdin when none (or `-`).
    #[arg(value_name = "LOG")]
    logs: Vec<PathBuf>,
}

/// What a worker made of one chunk.
#[derive(Default)]
struct Output {
    /// The input, as named on the command line.
    file: Arc<str>,
    json: Vec<u8>,
    counts: Counts,
    /// `(line, why)` of the first malformed records.
    malformed: Vec<(u64, String)>,
    /// Per deciding (or audit) indicator: records, and the first query.
    by_indicator: HashMap<(Hit, bool), (u64, String)>,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    /// Records checked per action: block, warn, allow, audit, none.
    actions: [u64; 5],
    /// Queries that cannot be parsed as a URL or host (under none).
    invalid: u64,
    malformed: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        for (a, b) in self.actions.iter_mut().zip(other.actions) {
            *a += b;
        }
        self.invalid += other.invalid;
        self.malformed += other.malformed;
    }
}

struct Scan {
    set: MappedSet,
    mode: Mode,
    now: Timestamp,
    all: bool,
}

impl Scan {
    fn check(
        &self,
        file_json: &[u8],
        line: u64,
        query: &str,
        out: &mut Output,
        infos: &mut Infos,
    ) -> Result<()> {
        let verdict = self.set.check_at(query, self.mode, self.now);
        let slot = match verdict.decision {
            Decision::Block => 0,
            Decision::Warn => 1,
            Decision::Allow => 2,
            Decision::Audit => 3,
            Decision::None => 4,
        };
        out.counts.actions[slot] += 1;
        out.counts.invalid += u64::from(verdict.invalid);
        let matched = verdict.indicator.is_some() || verdict.audit.is_some();
        if !matched && !self.all {
            return Ok(());
        }
        for (hit, audit) in [(verdict.indicator, false), (verdict.audit, true)] {
            if let Some(hit) = hit {
                out.by_indicator
                    .entry((hit, audit))
                    .or_insert_with(|| (0, query.to_string()))
                    .0 += 1;
            }
        }
        if infos.len() >= MAX_INFOS {
            infos.clear();
        }
        // One output line, fields in `indset lookup`'s order. The parts that
        // repeat (the file, each indicator) are serialised once and copied:
        // escaping them again for every match was an eighth of the CPU on
        // the real requests against the bundled lists.
        let json = &mut out.json;
        json.extend_from_slice(b"{\"file\":");
        json.extend_from_slice(file_json);
        write!(json, ",\"line\":{line},\"query\":")?;
        serde_json::to_writer(&mut *json, query)?;
        write!(json, ",\"action\":\"{}\"", verdict.decision.as_str())?;
        for (name, hit) in [("indicator", verdict.indicator), ("audit", verdict.audit)] {
            write!(json, ",\"{name}\":")?;
            match hit {
                Some(hit) => {
                    let info = infos.entry(hit).or_insert_with(|| {
                        let info = self.set.info(query.as_bytes(), self.mode, hit);
                        serde_json::to_vec(&IndicatorJson::new(&info, false))
                            .unwrap_or_else(|_| b"null".to_vec())
                            .into()
                    });
                    json.extend_from_slice(info);
                }
                None => json.extend_from_slice(b"null"),
            }
        }
        if verdict.invalid {
            json.extend_from_slice(b",\"invalid\":true");
        }
        json.extend_from_slice(b"}\n");
        Ok(())
    }

    fn chunk(&self, chunk: &Chunk, infos: &mut Infos) -> Result<Output> {
        let mut out = Output {
            file: Arc::clone(&chunk.file.name),
            ..Output::default()
        };
        let file_json = serde_json::to_vec(&*chunk.file.name)?;
        let malformed = |out: &mut Output, line: u64, why: String| {
            out.counts.malformed += 1;
            if out.malformed.len() < SHOWN_MALFORMED as usize {
                out.malformed.push((line, why));
            }
        };
        match &chunk.piece {
            Piece::TooLong { line, len } => {
                malformed(
                    &mut out,
                    *line,
                    format!("a line of {len} bytes, over the 1 MiB limit"),
                );
            }
            Piece::Lines { first_line, data } => {
                let reader: &Reader = &chunk.file.reader;
                let mut start = 0;
                let mut result = Ok(());
                let ends = memchr::memchr_iter(b'\n', data)
                    .chain((data.last() != Some(&b'\n') && !data.is_empty()).then_some(data.len()));
                for (number, end) in (*first_line..).zip(ends) {
                    let line = &data[start..end];
                    start = end + 1;
                    // The reader cuts chunks at line ends whatever their
                    // length; a line over the limit is refused here.
                    if line.len() > MAX_LINE_LEN {
                        let why = format!("a line of {} bytes, over the 1 MiB limit", line.len());
                        malformed(&mut out, number, why);
                        continue;
                    }
                    let mut found = |f: Found<'_>| match f {
                        Found::Query(q) => {
                            if result.is_ok() {
                                result = self.check(&file_json, number, &q, &mut out, infos);
                            }
                        }
                        Found::Malformed(why) => malformed(&mut out, number, why.into_owned()),
                    };
                    reader.read(number, line, &mut found);
                }
                result?;
            }
        }
        Ok(out)
    }
}

pub fn run(args: Args) -> Result<Status> {
    if args.chunk_size == 0 || args.chunk_size > MAX_CHUNK {
        bail!("--chunk-size must be between 1 and {MAX_CHUNK} bytes");
    }
    let set = open_set(&args.set)?;
    let threads = match args.threads {
        Some(n) if n == 0 || n > MAX_THREADS => {
            bail!("--threads must be between 1 and {MAX_THREADS}")
        }
        Some(n) => n,
        None => thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let scan = Arc::new(Scan {
        set,
        mode: args.mode,
        now: args.now.unwrap_or_else(Timestamp::now),
        all: args.all,
    });
    let logs: Vec<PathBuf> = if args.logs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.logs.clone()
    };
    // Fail early, before any output, on a log that cannot be opened.
    for log in logs.iter().filter(|l| l.as_os_str() != "-") {
        std::fs::File::open(log)
            .with_context(|| format!("cannot open the log {}", log.display()))?;
    }
    let bar = progress_bar(&logs);

    // Two chunks per worker in flight: one being read, one being written.
    let in_flight = threads * 2 + 2;
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        token_tx.send(())?;
    }
    let (work_tx, work_rx) = sync_channel::<Chunk>(in_flight);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<(u64, Result<Output>)>(in_flight);

    let source = input::Source {
        logs,
        format: args.format,
        field: args.field.clone(),
        chunk_size: args.chunk_size,
        bar: bar.clone(),
    };
    let reader = thread::spawn(move || source.run(&token_rx, &work_tx));
    let mut workers = Vec::new();
    for _ in 0..threads {
        let work_rx = Arc::clone(&work_rx);
        let done_tx = done_tx.clone();
        let scan = Arc::clone(&scan);
        workers.push(thread::spawn(move || worker(&scan, &work_rx, &done_tx)));
    }
    drop(done_tx);

    let written = write_in_order(&done_rx, &token_tx, args.summary);
    // On a write error (a closed pipe) dropping the receivers stops the
    // reader and the workers at their next send.
    drop(done_rx);
    drop(token_tx);
    let read = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the log reader panicked"))?;
    for w in workers {
        let _ = w.join();
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let totals = written?;
    let files = read?;
    if args.summary {
        summary(&scan, &totals, &files);
    }
    Ok(Status::Ok)
}

fn worker(scan: &Scan, work: &Mutex<Receiver<Chunk>>, done: &SyncSender<(u64, Result<Output>)>) {
    let mut infos = Infos::new();
    loop {
        let chunk = {
            let Ok(rx) = work.lock() else { return };
            match rx.recv() {
                Ok(c) => c,
                Err(_) => return,
            }
        };
        let out = scan.chunk(&chunk, &mut infos);
        if done.send((chunk.seq, out)).is_err() {
            return;
        }
    }
}

/// The totals of a run, for `--summary`.
#[derive(Default)]
struct Totals {
    counts: Counts,
    by_indicator: HashMap<(Hit, bool), (u64, String)>,
}

fn write_in_order(
    done: &Receiver<(u64, Result<Output>)>,
    tokens: &SyncSender<()>,
    summary: bool,
) -> Result<Totals> {
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut stderr = io::stderr();
    let mut pending = BTreeMap::new();
    let mut next = 0u64;
    let mut totals = Totals::default();
    let mut shown = 0u64;
    while let Ok((seq, result)) = done.recv() {
        pending.insert(seq, result);
        while let Some(result) = pending.remove(&next) {
            let output = result?;
            let file = &output.file;
            out.write_all(&output.json)?;
            for (line, why) in &output.malformed {
                if shown < SHOWN_MALFORMED {
                    let _ = writeln!(stderr, "indset: {file}:{line}: malformed record: {why}");
                }
                shown += 1;
            }
            totals.counts.add(&output.counts);
            if summary {
                for (key, (n, q)) in output.by_indicator {
                    totals.by_indicator.entry(key).or_insert((0, q)).0 += n;
                }
            }
            next += 1;
            // The reader may go on: a chunk has left memory.
            let _ = tokens.send(());
        }
    }
    out.flush()?;
    if totals.counts.malformed > SHOWN_MALFORMED {
        let _ = writeln!(
            stderr,
            "indset: {} more malformed records not shown",
            totals.counts.malformed - SHOWN_MALFORMED
        );
    }
    Ok(totals)
}

fn summary(scan: &Scan, totals: &Totals, files: &input::ReadStats) {
    let c = &totals.counts;
    let checked: u64 = c.actions.iter().sum();
    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "indset: {} files, {} bytes, {} lines: {checked} checked: {} block, {} warn, {} allow, {} audit, {} none ({} invalid); {} malformed",
        files.files,
        files.bytes,
        files.lines,
        c.actions[0],
        c.actions[1],
        c.actions[2],
        c.actions[3],
        c.actions[4],
        c.invalid,
        c.malformed
    );
    let mut rows: Vec<_> = totals.by_indicator.iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.1.1.cmp(&b.1.1)));
    let shown = rows.len().min(SHOWN_INDICATORS);
    for ((hit, audit), (n, query)) in rows.drain(..shown) {
        let info = scan.set.info(query.as_bytes(), scan.mode, *hit);
        let _ = writeln!(
            err,
            "indset: {n:>10} {} {} {} ({}){}",
            info.action.as_str(),
            info.kind.as_str(),
            info.value,
            info.id,
            if *audit { " [audit]" } else { "" }
        );
    }
    if !rows.is_empty() {
        let rest: u64 = rows.iter().map(|r| r.1.0).sum();
        let _ = writeln!(
            err,
            "indset: {rest:>10} more, by {} other indicators",
            rows.len()
        );
    }
}

fn progress_bar(logs: &[PathBuf]) -> Option<ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let total: Option<u64> = logs
        .iter()
        .map(|l| {
            std::fs::metadata(l)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len())
        })
        .sum();
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::no_length(),
    };
    let template = match total {
        Some(_) => "scan [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {eta}",
        None => "scan {bytes} {binary_bytes_per_sec}",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}
