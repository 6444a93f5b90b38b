//! Where a reader delivers its rows: the batches, in input order, and
//! the accounting of each outcome.

use std::sync::Arc;

use super::lines;
use super::merge::{State, key_hash};
use super::validate::{Checked, RawRow};
use super::worker::{BATCH, Batch, Worker, check_all};
use super::{OnDiagnostic, Options};
use crate::diag::{Code, Diagnostic};

/// Where a reader delivers its rows: validates them and keeps the
/// accounting for one input.
///
/// Readable rows are held in batches. From the first full batch on, a
/// worker thread validates each batch while the reader reads the next one
/// and the results of the one before are counted; every other event
/// first settles the rows held, so counts and diagnostics come out in
/// input order exactly as if each row were handled on arrival.
pub(crate) struct Sink<'a> {
    file: Arc<str>,
    opts: &'a Options,
    pub(super) state: &'a mut State,
    /// Called with every diagnostic as it is found.
    on_diagnostic: Option<&'a mut OnDiagnostic>,
    pending: Vec<RawRow>,
    /// Starts the worker, on machines with more than one core.
    spawn: Option<Box<dyn FnOnce() -> Worker + 'a>>,
    worker: Option<Worker>,
    /// Batches sent to the worker and not counted yet.
    in_flight: usize,
    /// Emptied batch storage, for the next batches.
    spare: Vec<Batch>,
    /// The key hashes of the batch being counted.
    hashes: Vec<u64>,
}

/// How many rows ahead of the one being counted its table slot is asked
/// for.
const PREFETCH_AHEAD: usize = 8;

impl<'a> Sink<'a> {
    /// A sink for the input `file` that counts into `state`; `spawn`
    /// starts the worker, when the machine has more than one core.
    pub(super) fn new(
        file: Arc<str>,
        opts: &'a Options,
        state: &'a mut State,
        on_diagnostic: Option<&'a mut OnDiagnostic>,
        spawn: Option<Box<dyn FnOnce() -> Worker + 'a>>,
    ) -> Self {
        Sink {
            file,
            opts,
            state,
            on_diagnostic,
            pending: Vec::new(),
            spawn,
            worker: None,
            in_flight: 0,
            spare: Vec::new(),
            hashes: Vec::new(),
        }
    }
}

impl Sink<'_> {
    /// A readable row: validate, dedupe, count.
    pub(super) fn row(&mut self, raw: RawRow) {
        self.pending.push(raw);
        if self.pending.len() >= BATCH {
            if self.worker.is_none() {
                self.worker = self.spawn.take().map(|spawn| spawn());
            }
            self.send();
            // Keep one batch queued behind the one being validated.
            if self.in_flight > 1 {
                self.receive();
            }
        }
    }

    /// Hands the rows held to the worker, or without one validates and
    /// counts them.
    fn send(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        // A full batch is reserved only once the input has proved large:
        // small inputs settle often, and a fresh 2 MiB reservation at each
        // settle fragments the allocator's heap.
        let (next, out) = match self.worker {
            Some(_) => self
                .spare
                .pop()
                .unwrap_or_else(|| (Vec::with_capacity(BATCH), Vec::with_capacity(BATCH))),
            None => Default::default(),
        };
        let mut rows = std::mem::replace(&mut self.pending, next);
        match &self.worker {
            Some(worker) => {
                // Fails only when the worker panicked; `receive` then
                // stops, and the scope passes the panic on.
                let _ = worker.rows.send((rows, out));
                self.in_flight += 1;
            }
            None => {
                let mut checked = out;
                check_all(&mut rows, &mut checked, self.opts, &self.file, 1);
                self.count(&mut checked);
            }
        }
    }

    /// Counts the oldest batch sent to the worker.
    fn receive(&mut self) {
        let (rows, mut checked) = self
            .worker
            .as_ref()
            .and_then(|w| w.checked.recv().ok())
            .expect("the validation thread stopped early: it panicked");
        self.in_flight -= 1;
        self.count(&mut checked);
        self.spare.push((rows, checked));
    }

    /// Validates, dedupes and counts every row held, in order.
    pub(super) fn settle(&mut self) {
        self.send();
        while self.in_flight > 0 {
            self.receive();
        }
    }

    fn count(&mut self, checked: &mut Vec<Checked>) {
        // Each row's slot in the table of keys is asked for a few rows
        // ahead, so that its read overlaps the rows before it.
        let mut hashes = std::mem::take(&mut self.hashes);
        hashes.clear();
        hashes.extend(
            checked
                .iter()
                .map(|c| c.as_ref().map_or(0, |(ind, _)| key_hash(ind))),
        );
        for (i, checked) in checked.drain(..).enumerate() {
            if let Some(&ahead) = hashes.get(i + PREFETCH_AHEAD) {
                self.state.index.prefetch(ahead);
            }
            self.state.report.rows += 1;
            match checked {
                Err(rejection) => self.outcome(rejection.line, rejection.code, rejection.message),
                Ok((ind, note)) => self.accept(ind, note, hashes[i]),
            }
        }
        self.hashes = hashes;
    }

    /// The text of a readable line; an unreadable one (not UTF-8, too long)
    /// is reported as a malformed row and gives `None`.
    pub(super) fn text<'a>(&mut self, line: u64, read: lines::Line<'a>) -> Option<&'a str> {
        match read {
            lines::Line::Text(s) => Some(s),
            bad => {
                self.malformed(line, bad.problem().unwrap_or_default());
                None
            }
        }
    }

    pub(super) fn malformed(&mut self, line: u64, message: impl Into<String>) {
        self.refuse(line, Code::MalformedRow, message.into());
    }

    /// A row a reader refuses before validation, with `code`.
    pub(super) fn refuse(&mut self, line: u64, code: Code, message: String) {
        self.settle();
        self.state.report.rows += 1;
        self.outcome(line, code, message);
    }

    /// A row rejected for a problem already reported at file level.
    pub(super) fn malformed_silently(&mut self) {
        self.settle();
        self.state.report.rows += 1;
        self.state.report.count(Code::MalformedRow);
    }

    /// A problem with the whole file, not a row.
    pub(super) fn file_error(&mut self, line: u64, message: impl Into<String>) {
        self.settle();
        self.state.report.file_errors += 1;
        let d = Diagnostic::new(&self.file, line, Code::MalformedRow, message);
        self.emit(d);
    }

    /// Hands `d` to the callback and the report: every diagnostic goes
    /// through here.
    pub(super) fn emit(&mut self, d: Diagnostic) {
        if let Some(f) = self.on_diagnostic.as_mut() {
            f(&d);
        }
        self.state.report.keep(d);
    }

    fn outcome(&mut self, line: u64, code: Code, message: String) {
        self.state.report.count(code);
        let d = Diagnostic::new(&self.file, line, code, message);
        self.emit(d);
    }
}
