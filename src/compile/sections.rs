//! The sections of a set, from indicators in key order: the flag bytes
//! and their palette, the lines, the metadata entries and the input file
//! names, in the layout [`crate::format`] describes.

use crate::format::{
    ACTIONS, HAS_EXPIRATION, HAS_META, LINE_IN_META, M_ALERT, M_ALERT_VALUE, M_CATEGORY,
    M_DESCRIPTION, M_EXPIRATION, M_GROUPS, M_ID, M_TITLE, Palette, SEVERITIES, SEVERITY_SHIFT,
    packed, wire,
};
use crate::indicator::Indicator;

/// The flag byte of `ind`, without [`CHAINED`](crate::format::CHAINED).
pub(super) fn flags(ind: &Indicator, has_meta: bool) -> u8 {
    let action = ACTIONS.iter().position(|&a| a == ind.action).unwrap_or(2) as u8;
    let severity = ind
        .meta
        .severity
        .and_then(|s| SEVERITIES.iter().position(|&v| v == s))
        .map_or(0, |i| i as u8 + 1);
    let mut f = action | severity << SEVERITY_SHIFT;
    if ind.meta.expiration.is_some() {
        f |= HAS_EXPIRATION;
    }
    if has_meta {
        f |= HAS_META;
    }
    f
}

/// The [`RECORDS`](crate::format::RECORDS) section of `flags`, the flag bytes in record order, of
/// which `urls` are `Url` records, through their `palette`.
pub(super) fn records_section(flags: &[u8], urls: u64, palette: &Palette) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(flags.len() as u64).to_le_bytes());
    out.extend_from_slice(&urls.to_le_bytes());
    out.push(palette.bits);
    out.extend_from_slice(&palette.entries);
    let indices = flags.iter().map(|&f| u32::from(palette.index(f)));
    out.extend_from_slice(&packed::pack(indices, palette.bits));
    out
}

/// The [`LINES`](crate::format::LINES) section of `lines`, in record order.
pub(super) fn lines_section(lines: &[u32]) -> Vec<u8> {
    let bits = packed::bits_for(lines.iter().copied().max().unwrap_or(0));
    let mut out = vec![bits];
    out.extend_from_slice(&packed::pack(lines.iter().copied(), bits));
    out
}

/// Whether [`meta_entry`] gives an entry for `ind`, whose line is
/// `number` in the set's numbering of lines.
pub(super) fn has_meta(ind: &Indicator, number: u64) -> bool {
    let m = &ind.meta;
    m.expiration.is_some()
        || m.id.is_some()
        || number >= u64::from(LINE_IN_META)
        || m.title.is_some()
        || m.category.is_some()
        || m.description.is_some()
        || !m.groups.is_empty()
        || m.generate_alert.is_some()
}

/// The metadata entry of an indicator whose line is `number` in the
/// set's numbering of lines, or `None` when it needs none. A number too
/// large for the lines section puts the id in the entry.
pub(super) fn meta_entry(ind: &Indicator, number: u64) -> Option<Vec<u8>> {
    let m = &ind.meta;
    let id = match &m.id {
        Some(id) => Some(id.clone()),
        None if number < u64::from(LINE_IN_META) => None,
        None => Some(ind.id()),
    };
    let strings = [
        (M_ID, id.as_deref()),
        (M_TITLE, m.title.as_deref()),
        (M_CATEGORY, m.category.as_deref()),
        (M_DESCRIPTION, m.description.as_deref()),
    ];
    let mut mask = 0u8;
    if m.expiration.is_some() {
        mask |= M_EXPIRATION;
    }
    for (bit, s) in strings {
        if s.is_some() {
            mask |= bit;
        }
    }
    if !m.groups.is_empty() {
        mask |= M_GROUPS;
    }
    match m.generate_alert {
        Some(true) => mask |= M_ALERT | M_ALERT_VALUE,
        Some(false) => mask |= M_ALERT,
        None => {}
    }
    if mask == 0 {
        return None;
    }
    let mut out = vec![mask];
    if let Some(e) = m.expiration {
        out.extend_from_slice(&e.0.to_le_bytes());
    }
    for (_, s) in strings {
        if let Some(s) = s {
            wire::push_str(&mut out, s);
        }
    }
    if !m.groups.is_empty() {
        out.extend_from_slice(&(m.groups.len() as u32).to_le_bytes());
        for g in &m.groups {
            wire::push_str(&mut out, g);
        }
    }
    Some(out)
}

/// The input files of `indicators` and where their rows are in the set's
/// numbering of rows: each file, in byte order of names, takes the numbers
/// of its lines (from its first number up to its largest line), then one
/// number for each further row that starts on a line another row started
/// on (a hosts line with several names), so that one number names a file,
/// a line and the row's place on it.
pub(super) struct Sources<'i> {
    files: Vec<SourceFile<'i>>,
}

struct SourceFile<'i> {
    name: &'i str,
    base: u64,
    largest: u64,
    /// The rows that are not the first of their line, `(line, nth)`,
    /// sorted; numbered from `extra_base`.
    extra: Vec<(u64, u32)>,
    extra_base: u64,
}

impl<'i> Sources<'i> {
    pub(super) fn of(indicators: &'i [Indicator]) -> Sources<'i> {
        let mut files: Vec<SourceFile<'i>> = Vec::new();
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let mut last: Option<(&std::sync::Arc<str>, usize)> = None;
        for i in indicators {
            let file = &i.source.file;
            let at = match last {
                Some((f, at)) if std::sync::Arc::ptr_eq(f, file) => at,
                _ => *index.entry(&**file).or_insert_with(|| {
                    files.push(SourceFile {
                        name: file,
                        base: 0,
                        largest: 0,
                        extra: Vec::new(),
                        extra_base: 0,
                    });
                    files.len() - 1
                }),
            };
            last = Some((file, at));
            let f = &mut files[at];
            f.largest = f.largest.max(i.source.line);
            if i.source.nth > 0 {
                f.extra.push((i.source.line, i.source.nth));
            }
        }
        files.sort_unstable_by(|a, b| a.name.cmp(b.name));
        let mut base = 0u64;
        for f in &mut files {
            f.extra.sort_unstable();
            f.extra.dedup();
            f.base = base;
            f.extra_base = base.saturating_add(f.largest).saturating_add(1);
            base = f.extra_base.saturating_add(f.extra.len() as u64);
        }
        Sources { files }
    }

    /// The number of the row `nth` of `line` of `file` in the set's
    /// numbering.
    pub(super) fn number(&self, file: &str, line: u64, nth: u32) -> u64 {
        let Ok(i) = self.files.binary_search_by(|f| f.name.cmp(file)) else {
            return line;
        };
        let f = &self.files[i];
        if nth == 0 {
            return f.base.saturating_add(line);
        }
        let j = f.extra.binary_search(&(line, nth)).unwrap_or(0);
        f.extra_base.saturating_add(j as u64)
    }

    /// The [`SOURCES`](crate::format::SOURCES) section: the number of
    /// files (`u32`), then for each in byte order of names its first
    /// number (`u64`), the first number of its further rows (`u64`), their
    /// count (`u32`), its name (`u32` length and UTF-8 bytes), and each
    /// further row's line (`u64`) and place on it (`u32`).
    pub(super) fn section(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.files.len() as u32).to_le_bytes());
        for f in &self.files {
            out.extend_from_slice(&f.base.to_le_bytes());
            out.extend_from_slice(&f.extra_base.to_le_bytes());
            out.extend_from_slice(&(f.extra.len() as u32).to_le_bytes());
            wire::push_str(&mut out, f.name);
            for &(line, nth) in &f.extra {
                out.extend_from_slice(&line.to_le_bytes());
                out.extend_from_slice(&nth.to_le_bytes());
            }
        }
        out
    }
}
