//! `indset` for Python: open a compiled `.indset` set and check URLs or
//! host names against it, one at a time ([`Set::check`]) or a whole
//! pyarrow string array at once ([`Set::check_batch`], the call a Spark
//! `mapInArrow` job makes), with the same answers as `indset lookup`.
//!
//! Arrays cross over the Arrow C data interface (pyarrow's
//! `_export_to_c`/`_import_from_c`): the strings are read in place, never
//! copied into Python objects, and the batch runs without the GIL.

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::str::FromStr;

use arrow_array::cast::AsArray;
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi, to_ffi};
use arrow_array::{Array, ArrayRef, StringArray, make_array};
use indset::{Decision, Hit, IndicatorSet, Mapped, Mode, Timestamp, Verdict};
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// A compiled set: a memory-mapped file or bytes held in memory.
enum Bytes {
    Mapped(IndicatorSet<Mapped>),
    Owned(IndicatorSet<Vec<u8>>),
}

impl Bytes {
    fn check(&self, query: &[u8], mode: Mode, now: Option<Timestamp>) -> Verdict {
        match (self, now) {
            (Bytes::Mapped(s), Some(t)) => s.check_at(query, mode, t),
            (Bytes::Mapped(s), None) => s.check(query, mode),
            (Bytes::Owned(s), Some(t)) => s.check_at(query, mode, t),
            (Bytes::Owned(s), None) => s.check(query, mode),
        }
    }

    fn id(&self, query: &[u8], mode: Mode, hit: Hit) -> String {
        match self {
            Bytes::Mapped(s) => s.info(query, mode, hit).id,
            Bytes::Owned(s) => s.info(query, mode, hit).id,
        }
    }

    fn len(&self) -> usize {
        match self {
            Bytes::Mapped(s) => s.len(),
            Bytes::Owned(s) => s.len(),
        }
    }
}

/// A compiled indicator set (`indset compile -o FILE`), verified when
/// opened. Shared safely between threads; opening maps the file, so many
/// processes on one machine share its pages.
#[pyclass(frozen, module = "indset")]
struct Set {
    inner: Bytes,
}

/// The answer for one query.
#[pyclass(frozen, get_all, name = "Verdict", module = "indset")]
struct PyVerdict {
    /// `block`, `warn`, `allow`, `audit` or `none`.
    decision: &'static str,
    /// The id of the deciding indicator, or None.
    indicator: Option<String>,
    /// The id of the reported audit indicator, or None.
    audit: Option<String>,
    /// The query could not be parsed as a URL (or host).
    invalid: bool,
}

#[pymethods]
impl PyVerdict {
    fn __repr__(&self) -> String {
        let text = |s: Option<&str>| match s {
            Some(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            None => "None".to_string(),
        };
        format!(
            "Verdict(decision={}, indicator={}, audit={}, invalid={})",
            text(Some(self.decision)),
            text(self.indicator.as_deref()),
            text(self.audit.as_deref()),
            if self.invalid { "True" } else { "False" }
        )
    }
}

fn mode(s: &str) -> PyResult<Mode> {
    Mode::from_str(s).map_err(|_| {
        PyValueError::new_err(format!("`{s}` is not a mode; use \"full\" or \"domain\""))
    })
}

#[pymethods]
impl Set {
    /// Maps and verifies the set at `path`; OSError when it cannot be
    /// read, ValueError when it is not a valid set.
    #[staticmethod]
    fn open(path: PathBuf) -> PyResult<Set> {
        let set = IndicatorSet::open(&path).map_err(|e| {
            let msg = format!("cannot use the set {}: {e}", path.display());
            match e {
                indset::FormatError::Io(_) => PyOSError::new_err(msg),
                _ => PyValueError::new_err(msg),
            }
        })?;
        Ok(Set {
            inner: Bytes::Mapped(set),
        })
    }

    /// Verifies and keeps a copy of the set's bytes; ValueError when they
    /// are not a valid set.
    #[staticmethod]
    fn from_bytes(data: &Bound<'_, PyBytes>) -> PyResult<Set> {
        let set = IndicatorSet::from_bytes(data.as_bytes().to_vec())
            .map_err(|e| PyValueError::new_err(format!("not a valid set: {e}")))?;
        Ok(Set {
            inner: Bytes::Owned(set),
        })
    }

    /// The number of indicators.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// The verdict for one URL (`mode="full"`) or host name
    /// (`mode="domain"`). `now`, in seconds since the Unix epoch, fixes
    /// the time for expiring indicators (default: the system clock).
    #[pyo3(signature = (query, mode="full", now=None))]
    fn check(&self, query: &str, mode: &str, now: Option<i64>) -> PyResult<PyVerdict> {
        let m = self::mode(mode)?;
        let v = self.inner.check(query.as_bytes(), m, now.map(Timestamp));
        let id = |hit| self.inner.id(query.as_bytes(), m, hit);
        Ok(PyVerdict {
            decision: v.decision.as_str(),
            indicator: v.indicator.map(id),
            audit: v.audit.map(id),
            invalid: v.invalid,
        })
    }

    /// Checks every string of a pyarrow string array (`string`,
    /// `large_string` or `string_view`; an `Array`, or a `ChunkedArray` such
    /// as a table's column) and returns two pyarrow string arrays of the
    /// same length (`ChunkedArray`s of the same chunks for a
    /// `ChunkedArray`): the decision of each (`block`, `warn`,
    /// `allow`, `audit`, `none`; null for a null query) and the id of the
    /// deciding indicator (else the audit indicator; null when none
    /// matched). Runs without the GIL.
    #[pyo3(signature = (array, mode="full", now=None))]
    fn check_batch<'py>(
        &self,
        py: Python<'py>,
        array: &Bound<'py, PyAny>,
        mode: &str,
        now: Option<i64>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let m = self::mode(mode)?;
        let now = now.map(Timestamp);
        if !array.hasattr("_export_to_c")? && array.hasattr("chunks")? {
            // A ChunkedArray (a table's column): each chunk in turn, and
            // two ChunkedArrays of the same chunks back.
            let pa = py.import("pyarrow")?;
            let (mut decisions, mut ids) = (Vec::new(), Vec::new());
            for chunk in array.getattr("chunks")?.try_iter()? {
                let input = import_array(&chunk?)?;
                let (d, i) = py.detach(|| self.batch(&input, m, now))?;
                decisions.push(export_array(py, &d)?);
                ids.push(export_array(py, &i)?);
            }
            let chunked = |arrays: Vec<Bound<'py, PyAny>>| {
                pa.getattr("chunked_array")?
                    .call1((arrays, pa.getattr("string")?.call0()?))
            };
            return Ok((chunked(decisions)?, chunked(ids)?));
        }
        let input = import_array(array)?;
        let (decisions, ids) = py.detach(|| self.batch(&input, m, now))?;
        Ok((export_array(py, &decisions)?, export_array(py, &ids)?))
    }
}

impl Set {
    fn batch(
        &self,
        input: &ArrayRef,
        mode: Mode,
        now: Option<Timestamp>,
    ) -> PyResult<(StringArray, StringArray)> {
        // An indicator's id is rebuilt from the query (a canonicalisation):
        // each is looked up once a batch.
        let mut ids: HashMap<Hit, Rc<str>> = HashMap::new();
        let mut one = |q: Option<&str>| -> (Option<&'static str>, Option<Rc<str>>) {
            let Some(q) = q else { return (None, None) };
            let v = self.inner.check(q.as_bytes(), mode, now);
            let id = v.indicator.or(v.audit).map(|h| {
                let id = ids
                    .entry(h)
                    .or_insert_with(|| self.inner.id(q.as_bytes(), mode, h).into());
                Rc::clone(id)
            });
            (Some(v.decision.as_str()), id)
        };
        let answers: Vec<_> = if let Some(a) = input.as_string_opt::<i32>() {
            a.iter().map(&mut one).collect()
        } else if let Some(a) = input.as_string_opt::<i64>() {
            a.iter().map(&mut one).collect()
        } else if let Some(a) = input.as_string_view_opt() {
            a.iter().map(&mut one).collect()
        } else {
            return Err(PyTypeError::new_err(format!(
                "check_batch takes a pyarrow string array, not {}",
                input.data_type()
            )));
        };
        let decisions: StringArray = answers.iter().map(|(d, _)| *d).collect();
        let ids: StringArray = answers.iter().map(|(_, i)| i.as_deref()).collect();
        Ok((decisions, ids))
    }
}

/// Moves a pyarrow array into Rust over the C data interface.
fn import_array(array: &Bound<'_, PyAny>) -> PyResult<ArrayRef> {
    if !array.hasattr("_export_to_c")? {
        return Err(PyTypeError::new_err(
            "check_batch takes a pyarrow Array or ChunkedArray of strings",
        ));
    }
    let mut ffi_array = FFI_ArrowArray::empty();
    let mut ffi_schema = FFI_ArrowSchema::empty();
    array.call_method1(
        "_export_to_c",
        (&raw mut ffi_array as usize, &raw mut ffi_schema as usize),
    )?;
    // SAFETY: pyarrow has just written a valid exported array and schema
    // into the two structs (the C data interface contract); `from_ffi`
    // takes the array's ownership and validates its buffers against the
    // schema's type, and `ffi_schema` is released when dropped.
    let data = unsafe { from_ffi(ffi_array, &ffi_schema) }
        .map_err(|e| PyValueError::new_err(format!("cannot read the array: {e}")))?;
    Ok(make_array(data))
}

/// Moves a Rust array to a new pyarrow array over the C data interface.
fn export_array<'py>(py: Python<'py>, array: &StringArray) -> PyResult<Bound<'py, PyAny>> {
    let (ffi_array, ffi_schema) = to_ffi(&array.to_data())
        .map_err(|e| PyValueError::new_err(format!("cannot export the array: {e}")))?;
    let mut ffi_array = Box::new(ffi_array);
    let mut ffi_schema = Box::new(ffi_schema);
    let pa = py.import("pyarrow")?;
    // pyarrow moves both structs out (leaving them released), so dropping
    // the boxes afterwards releases nothing twice.
    pa.getattr("Array")?.call_method1(
        "_import_from_c",
        (&raw mut *ffi_array as usize, &raw mut *ffi_schema as usize),
    )
}

/// The decisions `check` and `check_batch` return, strongest first.
const DECISIONS: [Decision; 5] = [
    Decision::Allow,
    Decision::Warn,
    Decision::Block,
    Decision::Audit,
    Decision::None,
];

#[pymodule]
fn _indset(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Set>()?;
    m.add_class::<PyVerdict>()?;
    m.add(
        "DECISIONS",
        DECISIONS.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
    )?;
    Ok(())
}
