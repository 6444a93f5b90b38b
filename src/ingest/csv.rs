//! The `csv` format: the portal's indicator import file.
//!
//! The first non-blank line is the header. Column names are
//! case-insensitive and in any order; `IndicatorType`, `IndicatorValue` and
//! `Action` are required; `ExpirationTime`, `Severity`, `Title`,
//! `Description`, `RbacGroups`, `Category`, `GenerateAlert` and `Id` are
//! read when present; other columns are ignored.
//!
//! One line is one row (RFC 4180 quoting within the line: `"a,b"`, `""`
//! for a quote). The rows are split here rather than by the `csv` crate
//! because the crate lets a quoted field run over line ends, so one stray
//! quote would swallow every row up to the next quote; here it costs only
//! its own row. A row whose field count differs from the header's is
//! `malformed-row`: an unquoted comma shifts every later column, and a
//! shifted `RbacGroups` would silently change who is protected.

use std::io::{self, BufRead};

use super::Sink;
use super::lines::{Line, Lines};
use super::validate::{RawRow, shown};

/// The columns this reader knows, by lower-case name.
#[derive(Default)]
struct Columns {
    count: usize,
    kind: Option<usize>,
    value: Option<usize>,
    action: Option<usize>,
    expiration: Option<usize>,
    severity: Option<usize>,
    title: Option<usize>,
    description: Option<usize>,
    groups: Option<usize>,
    category: Option<usize>,
    generate_alert: Option<usize>,
    id: Option<usize>,
}

impl Columns {
    fn from_header(fields: &[String]) -> Columns {
        let mut c = Columns {
            count: fields.len(),
            ..Columns::default()
        };
        for (i, name) in fields.iter().enumerate() {
            let slot = match name.trim().to_ascii_lowercase().as_str() {
                "indicatortype" => &mut c.kind,
                "indicatorvalue" => &mut c.value,
                "action" => &mut c.action,
                "expirationtime" => &mut c.expiration,
                "severity" => &mut c.severity,
                "title" => &mut c.title,
                "description" => &mut c.description,
                "rbacgroups" => &mut c.groups,
                "category" => &mut c.category,
                "generatealert" => &mut c.generate_alert,
                "id" => &mut c.id,
                _ => continue,
            };
            slot.get_or_insert(i);
        }
        c
    }

    /// The required columns the header lacks.
    fn missing(&self) -> Vec<&'static str> {
        [
            (self.kind, "IndicatorType"),
            (self.value, "IndicatorValue"),
            (self.action, "Action"),
        ]
        .into_iter()
        .filter(|(i, _)| i.is_none())
        .map(|(_, name)| name)
        .collect()
    }
}

pub(crate) fn read<R: BufRead>(input: &mut R, sink: &mut Sink<'_>) -> io::Result<()> {
    let mut lines = Lines::new(input);
    let mut fields = Vec::new();
    let mut header: Option<Result<Columns, usize>> = None;
    let mut refused = 0u64;
    while let Some((no, line)) = lines.next_line()? {
        if let Line::Text(s) = &line {
            if s.trim().is_empty() {
                continue;
            }
        }
        let Some(columns) = &header else {
            header = Some(read_header(no, &line, &mut fields, sink));
            continue;
        };
        let columns = match columns {
            Ok(c) => c,
            Err(_) => {
                sink.malformed_silently();
                refused += 1;
                continue;
            }
        };
        let Some(text) = sink.text(no, line) else {
            continue;
        };
        if let Err(message) = split(text, &mut fields) {
            sink.malformed(no, message);
            continue;
        }
        if fields.len() != columns.count {
            sink.malformed(
                no,
                format!(
                    "the row has {} fields, the header {}: quote a field that \
                     contains a comma (`\"a,b\"`) and give every column, empty if unused",
                    fields.len(),
                    columns.count
                ),
            );
            continue;
        }
        sink.row(row(no, columns, &mut fields));
    }
    if let Some(Err(index)) = header {
        let s = if refused == 1 { "" } else { "s" };
        sink.amend(
            index,
            &format!("; all {refused} row{s} of this file rejected"),
        );
    }
    Ok(())
}

/// Reads the header line; on failure reports it and returns the index of
/// its diagnostic.
fn read_header(
    no: u64,
    line: &Line<'_>,
    fields: &mut Vec<String>,
    sink: &mut Sink<'_>,
) -> Result<Columns, usize> {
    let problem = match line {
        Line::Text(s) => match split(s, fields) {
            Ok(()) => {
                let columns = Columns::from_header(fields);
                let missing = columns.missing();
                if missing.is_empty() {
                    return Ok(columns);
                }
                format!(
                    "the header `{}` has no {} column: the first line must name the \
                     columns, e.g. `IndicatorType,IndicatorValue,ExpirationTime,Action,\
                     Severity,Title,Description,RecommendedActions,RbacGroups,Category,\
                     MitreTechniques,GenerateAlert`",
                    shown(s),
                    missing.join(", ")
                )
            }
            Err(message) => format!("cannot read the header: {message}"),
        },
        bad => format!(
            "cannot read the header: {}",
            bad.problem().unwrap_or_default()
        ),
    };
    Err(sink.file_error(no, problem))
}

fn row(line: u64, c: &Columns, fields: &mut [String]) -> RawRow {
    let mut take = |i: Option<usize>| i.map(|i| std::mem::take(&mut fields[i]));
    let kind = take(c.kind).unwrap_or_default();
    let value = take(c.value).unwrap_or_default();
    let action = take(c.action).unwrap_or_default();
    let groups = take(c.groups)
        .map(|g| g.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    RawRow {
        line,
        kind: kind.into(),
        value,
        action: action.into(),
        expiration: take(c.expiration),
        id: take(c.id),
        title: take(c.title),
        severity: take(c.severity),
        groups,
        generate_alert: take(c.generate_alert),
        category: take(c.category),
        description: take(c.description),
    }
}

/// Splits one CSV line into `out`. Errors on an unbalanced quote.
fn split(line: &str, out: &mut Vec<String>) -> Result<(), String> {
    out.clear();
    let mut field = String::new();
    let mut chars = line.char_indices().peekable();
    let mut quoted = false;
    let mut opened_at = 0;
    let mut at_start = true;
    while let Some((i, c)) = chars.next() {
        match c {
            '"' if quoted => {
                if chars.peek().is_some_and(|&(_, n)| n == '"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            }
            '"' if at_start => {
                quoted = true;
                opened_at = i;
                field.clear();
            }
            ',' if !quoted => {
                out.push(std::mem::take(&mut field));
                at_start = true;
                continue;
            }
            _ => field.push(c),
        }
        at_start = false;
    }
    if quoted {
        return Err(format!(
            "a quote opened at column {} (field {}) is not closed: close it, or \
             double a quote inside a quoted field (`\"\"`)",
            opened_at + 1,
            out.len() + 1
        ));
    }
    out.push(field);
    Ok(())
}

/// Whether the first non-blank line names `IndicatorType` and
/// `IndicatorValue` (for [`Format::Auto`](super::Format::Auto)).
pub(crate) fn looks_like_csv(head: &[u8]) -> bool {
    let Some(line) = head
        .split(|&b| b == b'\n')
        .find(|l| !l.trim_ascii().is_empty())
    else {
        return false;
    };
    let line = String::from_utf8_lossy(line).to_ascii_lowercase();
    line.contains(',') && line.contains("indicatortype") && line.contains("indicatorvalue")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(s: &str) -> Result<Vec<String>, String> {
        let mut v = Vec::new();
        split(s, &mut v).map(|()| v)
    }

    #[test]
    fn quoting() {
        assert_eq!(fields("a,b,,c").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(fields(r#"a,"g1,g2",c"#).unwrap(), ["a", "g1,g2", "c"]);
        assert_eq!(fields(r#""say ""hi""",x"#).unwrap(), [r#"say "hi""#, "x"]);
        assert_eq!(fields(r#"a"b,c"#).unwrap(), [r#"a"b"#, "c"]);
        assert_eq!(fields("").unwrap(), [""]);
        assert!(
            fields(r#"a,"b,c"#)
                .unwrap_err()
                .contains("column 3 (field 2)")
        );
    }
}
