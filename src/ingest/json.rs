//! The `json` format: the portal's REST API indicator entities.
//!
//! The top level is a bare array, a list response `{"value": [...]}` or an
//! import body `{"Indicators": [...]}` (key names case-insensitive; other
//! keys such as `@odata.context` ignored). The file is streamed: one
//! element is held at a time, as a small `serde_json::Value`, and what the
//! parser is given is bounded (see [`Guard`]): a string over the longest
//! field's limit is one `too-long` row without being held, and reading
//! goes on at the next element; an element over [`MAX_LINE_LEN`] bytes is
//! one `too-long` row and reading stops there, as JSON cannot be
//! resynchronised.
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

use crate::appconfig::kind_of as type_name;

use super::lines::MAX_LINE_LEN;
use super::sink::Sink;
use super::validate::{MAX_DESCRIPTION_LEN, MAX_GROUPS, RawRow};
use crate::diag::Code;

/// What the reader and the parser share about the input.
#[derive(Default)]
struct Shared {
    /// Line ends read so far.
    newlines: Cell<u64>,
    /// Bytes given to the parser so far.
    given: Cell<u64>,
    /// Where, in bytes given, the element being parsed started.
    element: Cell<Option<u64>>,
    /// Whether an element ran over [`MAX_ELEMENT_LEN`].
    too_big: Cell<bool>,
}

/// The most bytes of one element the parser is given (strings over
/// [`MAX_DESCRIPTION_LEN`] count as a few bytes): the fields' limits
/// together, with room to spare.
const MAX_ELEMENT_LEN: u64 = MAX_LINE_LEN as u64;

/// What stands for a string over [`MAX_DESCRIPTION_LEN`], followed by its
/// length as written. It starts with a NUL, which no field may hold.
const OVER: &str = "\0indset:too-long:";

/// Stands between the input and the parser, so that what the parser holds
/// stays bounded:
///
/// - a string over [`MAX_DESCRIPTION_LEN`] bytes as written (the longest
///   field) is never held: the parser is given [`OVER`] and the length
///   instead, and the field's row is rejected `too-long`;
/// - an element over [`MAX_ELEMENT_LEN`] bytes stops the parse with an
///   error (`Shared::too_big`);
/// - a raw NUL byte is given as the escape `\u0000`: inside a string
///   (where JSON forbids raw control bytes) the field then holds a NUL and
///   its row is rejected for it, instead of a syntax error ending the file.
///
/// It also counts line ends, for the line of each element.
struct Guard<R> {
    inner: R,
    shared: Rc<Shared>,
    /// Bytes ready for the parser.
    out: Vec<u8>,
    at: usize,
    /// The string being read, from its opening quote, while it is no
    /// longer than the limit.
    string: Vec<u8>,
    in_string: bool,
    escaped: bool,
    /// The length of the string being read, as written.
    len: u64,
}

impl<R: BufRead> Guard<R> {
    fn new(inner: R, shared: Rc<Shared>) -> Self {
        Guard {
            inner,
            shared,
            out: Vec::new(),
            at: 0,
            string: Vec::new(),
            in_string: false,
            escaped: false,
            len: 0,
        }
    }

    /// Moves the next input bytes to `out` (strings once closed).
    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.at = 0;
        while self.out.is_empty() {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                // A string open at the end: the parser reports it.
                self.out.append(&mut self.string);
                self.in_string = false;
                return Ok(());
            }
            for &b in chunk {
                if !self.in_string {
                    match b {
                        b'"' => {
                            self.in_string = true;
                            self.escaped = false;
                            self.len = 1;
                            self.string.push(b);
                        }
                        0 => self.out.extend_from_slice(b"\\u0000"),
                        _ => self.out.push(b),
                    }
                    continue;
                }
                self.len += 1;
                let closes = !self.escaped && b == b'"';
                self.escaped = !self.escaped && b == b'\\';
                let over = self.len > MAX_DESCRIPTION_LEN as u64 + 2;
                if closes {
                    if over {
                        self.out.push(b'"');
                        self.out.extend_from_slice(b"\\u0000");
                        self.out.extend_from_slice(&OVER.as_bytes()[1..]);
                        self.out
                            .extend_from_slice((self.len - 2).to_string().as_bytes());
                        self.out.push(b'"');
                    } else {
                        self.out.append(&mut self.string);
                        self.out.push(b);
                    }
                    self.string.clear();
                    self.in_string = false;
                } else if over {
                    if !self.string.is_empty() {
                        self.string = Vec::new();
                    }
                } else if b == 0 {
                    self.string.extend_from_slice(b"\\u0000");
                } else {
                    self.string.push(b);
                }
            }
            let n = chunk.len();
            self.inner.consume(n);
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.out.len() {
            self.refill()?;
        }
        let n = (self.out.len() - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        let ends = memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        self.shared.newlines.set(self.shared.newlines.get() + ends);
        let given = self.shared.given.get() + n as u64;
        self.shared.given.set(given);
        if let Some(start) = self.shared.element.get() {
            if given - start > MAX_ELEMENT_LEN {
                self.shared.too_big.set(true);
                return Err(io::Error::other("an element over the size limit"));
            }
        }
        Ok(n)
    }
}

struct State<'s, 'o> {
    sink: &'s mut Sink<'o>,
    shared: Rc<Shared>,
    /// The line of the element being parsed, while it is.
    element: Option<u64>,
    /// Whether an indicator list was found.
    found_list: bool,
    /// Whether the top object has indicator fields itself.
    single_object: bool,
    /// The line of the last element and how many elements before it
    /// started on that line.
    last_line: u64,
    nth: u32,
}

impl State<'_, '_> {
    fn line(&self) -> u64 {
        self.shared.newlines.get() + 1
    }
}

pub(crate) fn read<R: BufRead>(input: &mut R, sink: &mut Sink<'_>) -> io::Result<()> {
    let shared = Rc::new(Shared::default());
    let reader = Guard::new(input, Rc::clone(&shared));
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut st = State {
        sink,
        shared,
        element: None,
        found_list: false,
        single_object: false,
        last_line: 0,
        nth: 0,
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
        Err(e) if e.is_io() && st.shared.too_big.get() => {
            let line = st.element.unwrap_or(0);
            st.sink.refuse(
                line,
                Code::TooLong,
                format!(
                    "the element is over {MAX_ELEMENT_LEN} bytes, the most one indicator \
                     may take: remove the fields it does not need"
                ),
            );
            st.sink.file_error(
                line,
                format!(
                    "nothing from line {line} on was read: an element over \
                     {MAX_ELEMENT_LEN} bytes cannot be skipped; shorten it and read the \
                     file again"
                ),
            );
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
                if self.0.found_list {
                    return Err(de::Error::custom(format!(
                        "a second indicator array, `{key}`: the object must hold one \
                         `value` or `Indicators` array"
                    )));
                }
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
        self.0.nth = if line == self.0.last_line {
            self.0.nth.saturating_add(1)
        } else {
            0
        };
        self.0.last_line = line;
        let nth = self.0.nth;
        self.0.element = Some(line);
        let shared = &self.0.shared;
        shared.element.set(Some(shared.given.get()));
        let value = d.deserialize_any(ElementVisitor)?;
        self.0.shared.element.set(None);
        self.0.element = None;
        match to_row(line, value).map(|row| RawRow { nth, ..row }) {
            Ok(row) => self.0.sink.row(row),
            Err((code, message)) => self.0.sink.refuse(line, code, message),
        }
        Ok(())
    }
}

/// An element as written: an object's fields in order, every one kept
/// (a field written twice is refused, not resolved to one of its values),
/// or what else it is.
enum Elem {
    Object(Vec<(String, Value)>),
    Other(&'static str),
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Elem;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an indicator object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Elem, A::Error> {
        let mut fields = Vec::new();
        while let Some(entry) = map.next_entry::<String, Value>()? {
            fields.push(entry);
        }
        Ok(Elem::Object(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Elem, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Elem::Other("an array"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Elem, E> {
        Ok(Elem::Other("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Elem, E> {
        Ok(Elem::Other("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Elem, E> {
        Ok(Elem::Other("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Elem, E> {
        Ok(Elem::Other("a number"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Elem, E> {
        Ok(Elem::Other("a string"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Elem, E> {
        Ok(Elem::Other("null"))
    }
}

/// Why a row is refused: its code and message.
type Bad = (Code, String);

fn malformed(message: String) -> Bad {
    (Code::MalformedRow, message)
}

/// Refuses a field whose text holds a NUL byte, or that the reader did
/// not hold for its length.
fn nul(key: &str, s: &str) -> Result<(), Bad> {
    if let Some(len) = s.strip_prefix(OVER) {
        return Err((
            Code::TooLong,
            format!(
                "`{key}` is {len} bytes as written, over the limit of {MAX_DESCRIPTION_LEN} \
                 for any field: shorten it"
            ),
        ));
    }
    match s.find('\0') {
        None => Ok(()),
        Some(at) => Err(malformed(format!(
            "a NUL byte in `{key}` (byte {} of the value): the value is not text; \
             remove it",
            at + 1
        ))),
    }
}

fn text(key: &str, v: Value) -> Result<Option<String>, Bad> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => nul(key, &s).map(|()| Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(malformed(format!(
            "`{key}` is {}, not a string: write it as a string",
            type_name(&other)
        ))),
    }
}

fn to_row(line: u64, v: Elem) -> Result<RawRow, Bad> {
    let fields = match v {
        Elem::Object(fields) => fields,
        Elem::Other(what) => {
            return Err(malformed(format!(
                "the element is {what}, not an object: each element must be an indicator \
                 object with indicatorValue, indicatorType and action"
            )));
        }
    };
    let mut row = RawRow {
        line,
        ..RawRow::default()
    };
    let mut seen: Vec<String> = Vec::new();
    for (key, v) in fields {
        let k = key.to_ascii_lowercase();
        let known = KNOWN_FIELDS.contains(&k.as_str());
        if known && seen.contains(&k) {
            return Err(malformed(format!(
                "the field `{key}` is written twice (names are case-insensitive): keep \
                 one, so that the indicator is the one you read"
            )));
        }
        if known {
            seen.push(k.clone());
        }
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
            "rbacgroupnames" | "rbacgroups" => row.groups.extend(groups(&key, v)?),
            // Groups named by id only: the row is still for those groups
            // alone, never for every device.
            "rbacgroupids" => row
                .groups
                .extend(groups(&key, v)?.into_iter().map(|id| format!("id:{id}"))),
            _ => {}
        }
    }
    Ok(row)
}

/// The fields an element is read for, lower-case: each may be written once.
const KNOWN_FIELDS: &[&str] = &[
    "indicatorvalue",
    "indicatortype",
    "action",
    "expirationtime",
    "title",
    "severity",
    "description",
    "category",
    "id",
    "generatealert",
    "rbacgroupnames",
    "rbacgroups",
    "rbacgroupids",
];

fn groups(key: &str, v: Value) -> Result<Vec<String>, Bad> {
    // One more than the limit is enough to reject the row.
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => {
            nul(key, &s)?;
            Ok(s.split(',')
                .take(MAX_GROUPS + 1)
                .map(str::to_string)
                .collect())
        }
        Value::Array(items) => items
            .into_iter()
            .take(MAX_GROUPS + 1)
            .map(|g| match g {
                Value::String(s) if s.trim().is_empty() => Err(malformed(format!(
                    "`{key}` holds an empty group name: name each group, or give no \
                     groups for an indicator that applies to every device"
                ))),
                Value::String(s) => nul(key, &s).map(|()| s),
                Value::Number(n) if key.eq_ignore_ascii_case("rbacGroupIds") => Ok(n.to_string()),
                other => Err(malformed(format!(
                    "`{key}` holds {}, not a group name: write an array of strings",
                    type_name(&other)
                ))),
            })
            .collect(),
        other => Err(malformed(format!(
            "`{key}` is {}, not an array of group names",
            type_name(&other)
        ))),
    }
}
