//! The worker threads that validate batches of rows while the reader
//! reads on.

use std::sync::Arc;
use std::sync::mpsc;

use super::Options;
use super::validate::{self, Checked, RawRow};

/// How many readable rows a [`Sink`](super::sink::Sink) holds before it validates them.
pub(super) const BATCH: usize = 8192;

/// The fewest rows worth a thread of their own.
const MIN_ROWS_PER_THREAD: usize = 1024;

/// Validates `rows` (the order of checks is in the module doc), in order,
/// on up to `threads` threads, appending the results to `out`; `rows` is
/// left empty, its storage kept for the next batch.
pub(super) fn check_all(
    rows: &mut Vec<RawRow>,
    out: &mut Vec<Checked>,
    opts: &Options,
    file: &Arc<str>,
    threads: usize,
) {
    let threads = threads.min(rows.len() / MIN_ROWS_PER_THREAD).max(1);
    let check = |r| validate::check(r, opts, file);
    if threads == 1 {
        out.extend(rows.drain(..).map(check));
        return;
    }
    let per = rows.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    while rows.len() > per {
        parts.push(rows.split_off(rows.len() - per));
    }
    std::thread::scope(|s| {
        let spawned: Vec<_> = parts
            .into_iter()
            .rev()
            .map(|part| s.spawn(move || part.into_iter().map(check).collect::<Vec<_>>()))
            .collect();
        out.extend(rows.drain(..).map(check));
        for h in spawned {
            out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
    });
}

/// A batch of rows to validate and the storage for their results, or, on
/// the way back, the emptied rows' storage and the results: the same
/// buffers go back and forth, so that a large input allocates (and
/// faults in) its batches once.
pub(super) type Batch = (Vec<RawRow>, Vec<Checked>);

/// A thread that validates batches of rows while the reader reads on.
pub(super) struct Worker {
    pub(super) rows: mpsc::Sender<Batch>,
    pub(super) checked: mpsc::Receiver<Batch>,
}

impl Worker {
    /// Starts a worker in `scope` that validates each batch on up to
    /// `threads` threads and sends the results back in order.
    pub(super) fn spawn<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        opts: &'scope Options,
        file: Arc<str>,
        threads: usize,
    ) -> Worker {
        let (rows, batches) = mpsc::channel::<Batch>();
        let (results, checked) = mpsc::channel();
        scope.spawn(move || {
            for (mut batch, mut out) in batches {
                check_all(&mut batch, &mut out, opts, &file, threads);
                if results.send((batch, out)).is_err() {
                    break;
                }
            }
        });
        Worker { rows, checked }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;
    use crate::indicator::Timestamp;

    #[test]
    fn checking_on_threads_keeps_the_order() {
        let values = [
            "example.com",
            "*.x.test",
            "1.2.3.4",
            "a.test/p",
            "",
            "xn--a.test",
        ];
        let rows = || -> Vec<RawRow> {
            (0..5000u64)
                .map(|line| RawRow {
                    line,
                    kind: if line % 7 == 0 { "Url" } else { "DomainName" }.into(),
                    value: format!("{}{}", line, values[line as usize % values.len()]),
                    action: if line % 11 == 0 { "Nope" } else { "Block" }.into(),
                    ..RawRow::default()
                })
                .collect()
        };
        let opts = Options::at(Timestamp(0));
        let file: Arc<str> = Arc::from("t.txt");
        let summary = |threads| -> Vec<(u64, Option<Code>, Option<String>)> {
            let mut rows = rows();
            // Results are appended after what the buffer holds.
            let mut out = vec![Err(validate::Refusal {
                line: u64::MAX,
                code: Code::MalformedRow,
                message: String::new(),
            })];
            check_all(&mut rows, &mut out, &opts, &file, threads);
            assert!(rows.is_empty(), "the rows are used up");
            assert!(matches!(&out[0], Err(e) if e.line == u64::MAX));
            out.drain(1..)
                .map(|r| match r {
                    Ok((i, _)) => (i.source.line, None, Some(i.value())),
                    Err(e) => (e.line, Some(e.code), None),
                })
                .collect()
        };
        let one = summary(1);
        assert_eq!(one.len(), 5000);
        assert!(one.iter().enumerate().all(|(i, r)| r.0 == i as u64));
        assert_eq!(summary(2), one);
        assert_eq!(summary(3), one);
    }
}
