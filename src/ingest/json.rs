//! The `json` format: the portal's REST API indicator entities.
//!
//! The top level is a bare array, a list response `{"value": [...]}` or an
//! import body `{"Indicators": [...]}` (key names case-insensitive; other
//! keys such as `@odata.context` ignored). The file is streamed: one
//! element is held at a time, as a small `serde_json::Value`.
//!
//! Field names are matched case-insensitively: `indicatorValue`,
//! `indicatorType`, `action`, `expirationTime`, `title`, `severity`,
//! `description`, `rbacGroupNames` (an array of names, or one
//! comma-separated string; `rbacGroups` is read too), `generateAlert`
//! (a boolean or `"true"`/`"false"`), `category`, `id` (a string or a
//! number). Other fields are ignored.
//!
//! The line of a row is the line of its element's first byte (`{`), found
//! by counting the line ends serde_json has consumed when the element
//! starts. A syntax error inside an element makes that element a
//! `malformed-row` at the error's line; as JSON cannot be resynchronised,
//! the rest of the file is not read, and the message says so.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::Sink;
use super::validate::RawRow;

/// Passes bytes through, counting line ends, and writes a raw NUL byte as
/// the escape `\u0000`: inside a string (where JSON forbids raw control
/// bytes) the field then holds a NUL and its row is rejected for it,
/// instead of a syntax error that would end the file.
struct LineCount<R> {
    inner: R,
    newlines: Rc<Cell<u64>>,
    /// Bytes to give before reading on: an escape and what followed it.
    pending: Vec<u8>,
    at: usize,
}

impl<R: Read> Read for LineCount<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.pending.len() {
            let n = (self.pending.len() - self.at).min(buf.len());
            buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        let n = self.inner.read(buf)?;
        let ends = memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        self.newlines.set(self.newlines.get() + ends);
        let Some(nul) = memchr::memchr(0, &buf[..n]) else {
            return Ok(n);
        };
        self.pending.clear();
        self.pending.extend_from_slice(b"\\u0000");
        self.pending.extend_from_slice(&buf[nul + 1..n]);
        self.at = 0;
        if nul > 0 {
            return Ok(nul);
        }
        self.read(buf)
    }
}

struct State<'s, 'o> {
    sink: &'s mut Sink<'o>,
    newlines: Rc<Cell<u64>>,
    /// The line of the element being parsed, while it is.
    element: Option<u64>,
    /// Whether an indicator list was found.
    found_list: bool,
    /// Whether the top object has indicator fields itself.
    single_object: bool,
}

impl State<'_, '_> {
    fn line(&self) -> u64 {
        self.newlines.get() + 1
    }
}

pub(crate) fn read<R: BufRead>(input: &mut R, sink: &mut Sink<'_>) -> io::Result<()> {
    let newlines = Rc::new(Cell::new(0));
    let reader = LineCount {
        inner: input,
        newlines: Rc::clone(&newlines),
        pending: Vec::new(),
        at: 0,
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut st = State {
        sink,
        newlines,
        element: None,
        found_list: false,
        single_object: false,
    };
    let result = de.deserialize_any(Top(&mut st)).and_then(|()| de.end());
    match result {
        Ok(()) if st.found_list => {}
        Ok(()) => {
            let message = if st.single_object {
                "the file holds one indicator object, not a list: put the indicators \
                 in an array, `[{...}, {...}]`"
            } else {
                "a JSON object without a `value` or `Indicators` array: give a bare \
                 array of indicators, `{\"value\": [...]}` or `{\"Indicators\": [...]}`"
            };
            st.sink.file_error(1, message);
        }
        Err(e) if e.is_io() => return Err(io::Error::from(e)),
        Err(e) => {
            let line = u64::try_from(e.line()).unwrap_or(0);
            let message = format!(
                "{e}; {}: fix the JSON (a bare array of indicators, `{{\"value\": [...]}}` \
                 or `{{\"Indicators\": [...]}}`)",
                if e.is_eof() || st.found_list || st.element.is_some() {
                    "the rest of the file was not read"
                } else {
                    "the file was not read"
                }
            );
            if st.element.is_some() {
                st.sink.malformed(line, message);
            } else {
                st.sink.file_error(line, message);
            }
        }
    }
    Ok(())
}

const EXPECTING: &str =
    "a JSON array of indicators, or an object with a `value` or `Indicators` array";

/// The top-level value.
struct Top<'a, 's, 'o>(&'a mut State<'s, 'o>);

impl<'de> Visitor<'de> for Top<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTING)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.0.found_list = true;
        elements(self.0, seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key.eq_ignore_ascii_case("value") || key.eq_ignore_ascii_case("indicators") {
                map.next_value_seed(List(&mut *self.0))?;
                self.0.found_list = true;
            } else {
                if key.eq_ignore_ascii_case("indicatorValue") {
                    self.0.single_object = true;
                }
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// A `value` or `Indicators` array.
struct List<'a, 's, 'o>(&'a mut State<'s, 'o>);

impl<'de> DeserializeSeed<'de> for List<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for List<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of indicators")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        elements(self.0, seq)
    }
}

fn elements<'de, A: SeqAccess<'de>>(st: &mut State<'_, '_>, mut seq: A) -> Result<(), A::Error> {
    while seq.next_element_seed(Element(&mut *st))?.is_some() {}
    Ok(())
}

/// One element: parsed as a `Value`, then turned into a row.
struct Element<'a, 's, 'o>(&'a mut State<'s, 'o>);

impl<'de> DeserializeSeed<'de> for Element<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let line = self.0.line();
        self.0.element = Some(line);
        let value = <Value as serde::Deserialize>::deserialize(d)?;
        self.0.element = None;
        match to_row(line, value) {
            Ok(row) => self.0.sink.row(row),
            Err(message) => self.0.sink.malformed(line, message),
        }
        Ok(())
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The message for a field whose text holds a NUL byte.
fn nul(key: &str, s: &str) -> Result<(), String> {
    match s.find('\0') {
        None => Ok(()),
        Some(at) => Err(format!(
            "a NUL byte in `{key}` (byte {} of the value): the value is not text; \
             remove it",
            at + 1
        )),
    }
}

fn text(key: &str, v: Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => nul(key, &s).map(|()| Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(format!(
            "`{key}` is {}, not a string: write it as a string",
            type_name(&other)
        )),
    }
}

fn to_row(line: u64, v: Value) -> Result<RawRow, String> {
    let Value::Object(fields) = v else {
        return Err(format!(
            "the element is {}, not an object: each element must be an indicator \
             object with indicatorValue, indicatorType and action",
            type_name(&v)
        ));
    };
    let mut row = RawRow {
        line,
        ..RawRow::default()
    };
    for (key, v) in fields {
        let k = key.to_ascii_lowercase();
        match k.as_str() {
            "indicatorvalue" => row.value = text(&key, v)?.unwrap_or_default(),
            "indicatortype" => row.kind = text(&key, v)?.unwrap_or_default().into(),
            "action" => row.action = text(&key, v)?.unwrap_or_default().into(),
            "expirationtime" => row.expiration = text(&key, v)?,
            "title" => row.title = text(&key, v)?,
            "severity" => row.severity = text(&key, v)?,
            "description" => row.description = text(&key, v)?,
            "category" => row.category = text(&key, v)?,
            "id" => row.id = text(&key, v)?,
            "generatealert" => {
                row.generate_alert = match v {
                    Value::Bool(b) => Some(b.to_string()),
                    other => text(&key, other)?,
                }
            }
            "rbacgroupnames" | "rbacgroups" => row.groups = groups(&key, v)?,
            _ => {}
        }
    }
    Ok(row)
}

fn groups(key: &str, v: Value) -> Result<Vec<String>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => {
            nul(key, &s)?;
            Ok(s.split(',').map(str::to_string).collect())
        }
        Value::Array(items) => items
            .into_iter()
            .map(|g| match g {
                Value::String(s) => nul(key, &s).map(|()| s),
                other => Err(format!(
                    "`{key}` holds {}, not a group name: write an array of strings",
                    type_name(&other)
                )),
            })
            .collect(),
        other => Err(format!(
            "`{key}` is {}, not an array of group names",
            type_name(&other)
        )),
    }
}
