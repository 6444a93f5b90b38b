//! The sections of a set, from indicators in key order: the flag bytes
//! and their palette, the lines, the metadata entries and the input file
//! names, in the layout [`crate::format`] describes.

use crate::format::{
    ACTIONS, HAS_EXPIRATION, HAS_META, LINE_IN_META, M_ALERT, M_ALERT_VALUE, M_CATEGORY,
    M_DESCRIPTION, M_EXPIRATION, M_GROUPS, M_ID, M_TITLE, SEVERITIES, SEVERITY_SHIFT, packed, wire,
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
/// which `urls` are `Url` records.
pub(super) fn records_section(flags: &[u8], urls: u64) -> Vec<u8> {
    let mut seen = [false; 256];
    for &f in flags {
        seen[usize::from(f)] = true;
    }
    let mut palette: Vec<u8> = (0..=255u8).filter(|&f| seen[usize::from(f)]).collect();
    let bits = packed::bits_for(palette.len().saturating_sub(1) as u32);
    // Padded to a power of two, so that every index of `bits` bits names
    // a palette entry.
    palette.resize(1 << bits, palette.first().copied().unwrap_or(0));
    let mut index = [0u8; 256];
    for (i, &f) in palette.iter().enumerate().rev() {
        index[usize::from(f)] = i as u8;
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(flags.len() as u64).to_le_bytes());
    out.extend_from_slice(&urls.to_le_bytes());
    out.push(bits);
    out.extend_from_slice(&palette);
    let indices = flags.iter().map(|&f| u32::from(index[usize::from(f)]));
    out.extend_from_slice(&packed::pack(indices, bits));
    out
}

/// The [`LINES`](crate::format::LINES) section of `lines`, in record order.
pub(super) fn lines_section(lines: &[u32]) -> Vec<u8> {
    let bits = packed::bits_for(lines.iter().copied().max().unwrap_or(0));
    let mut out = vec![bits];
    out.extend_from_slice(&packed::pack(lines.iter().copied(), bits));
    out
}

/// Whether [`meta_entry`] gives an entry for `ind`.
pub(super) fn has_meta(ind: &Indicator) -> bool {
    let m = &ind.meta;
    m.expiration.is_some()
        || m.id.is_some()
        || ind.source.line >= u64::from(LINE_IN_META)
        || m.title.is_some()
        || m.category.is_some()
        || m.description.is_some()
        || !m.groups.is_empty()
        || m.generate_alert.is_some()
}

/// The metadata entry of an indicator, or `None` when it needs none.
pub(super) fn meta_entry(ind: &Indicator) -> Option<Vec<u8>> {
    let m = &ind.meta;
    let id = match &m.id {
        Some(id) => Some(id.clone()),
        None if ind.source.line < u64::from(LINE_IN_META) => None,
        None => Some(format!("{}:{}", ind.source.file, ind.source.line)),
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

/// The [`SOURCES`](crate::format::SOURCES) section: `b` (`u8`), the number of file names (`u32`),
/// each name (`u32` length and UTF-8 bytes) in byte order, then each
/// record's file as an index of `b` bits.
pub(super) fn sources_section(indicators: &[Indicator], order: &[(u32, bool)]) -> Vec<u8> {
    let mut names: Vec<&str> = order
        .iter()
        .map(|&(i, _)| &*indicators[i as usize].source.file)
        .collect();
    names.sort_unstable();
    names.dedup();
    let bits = packed::bits_for(names.len().saturating_sub(1) as u32);
    let index: Vec<u32> = order
        .iter()
        .map(|&(i, _)| {
            let name = &*indicators[i as usize].source.file;
            names.binary_search(&name).unwrap_or(0) as u32
        })
        .collect();
    // Padded with empty names to a power of two, so that every index of
    // `bits` bits names one.
    names.resize(1 << bits, "");
    let mut out = vec![bits];
    out.extend_from_slice(&(names.len() as u32).to_le_bytes());
    for name in &names {
        wire::push_str(&mut out, name);
    }
    let index = index.into_iter();
    out.extend_from_slice(&packed::pack(index, bits));
    out
}
