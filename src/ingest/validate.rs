//! Row validation (`docs/inputs.md`, Outcomes), in the order documented in the module
//! docs: type, action, value, expiration, then the skips.

use std::borrow::Cow;
use std::sync::Arc;

use super::time::{format_timestamp, parse_timestamp};
use crate::canon;
use crate::diag::Code;
use crate::indicator::{Action, Indicator, Kind, Meta, Severity, Source};

use super::Options;

/// A row as a reader found it: the fields as written, before validation.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawRow {
    pub line: u64,
    /// The row's place among the rows of its line, from 0 (a hosts line
    /// with several names, JSON elements on one line).
    pub nth: u32,
    /// Borrowed when a reader supplies a fixed name (text, hosts).
    pub kind: Cow<'static, str>,
    pub value: String,
    /// Borrowed when a reader supplies a fixed name (text, hosts).
    pub action: Cow<'static, str>,
    pub expiration: Option<String>,
    pub id: Option<String>,
    pub title: Option<String>,
    pub severity: Option<String>,
    pub groups: Vec<String>,
    /// As written (`True`, `false`, ...); JSON booleans as `true`/`false`.
    pub generate_alert: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
}

/// Why a row was rejected or skipped.
pub(crate) struct Refusal {
    pub line: u64,
    pub code: Code,
    pub message: String,
}

/// How much of a value a message quotes.
const SHOWN: usize = 120;

/// A value cut to a readable length for a message.
pub(crate) fn shown(v: &str) -> String {
    let v = v.trim();
    if v.len() <= SHOWN {
        return v.to_string();
    }
    let mut end = SHOWN;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &v[..end])
}

enum Type {
    Network(Kind),
    Ip,
}

fn parse_type(s: &str) -> Result<Type, (Code, String)> {
    let s = s.trim();
    let is = |name: &str| s.eq_ignore_ascii_case(name);
    if is("DomainName") {
        Ok(Type::Network(Kind::DomainName))
    } else if is("Url") {
        Ok(Type::Network(Kind::Url))
    } else if is("IpAddress") {
        Ok(Type::Ip)
    } else if ["FileSha1", "FileSha256", "FileMd5", "CertificateThumbprint"]
        .iter()
        .any(|n| is(n))
    {
        Err((
            Code::UnsupportedType,
            format!(
                "`{s}` is a file indicator, not a network indicator; only Url and \
                 DomainName rows can be compiled: remove the row or import it where \
                 file indicators are handled"
            ),
        ))
    } else if s.is_empty() {
        Err((
            Code::UnsupportedType,
            "the indicator type is empty: write Url or DomainName".into(),
        ))
    } else {
        Err((
            Code::UnsupportedType,
            format!(
                "unknown indicator type `{}`: write Url or DomainName",
                shown(s)
            ),
        ))
    }
}

fn parse_action(s: &str) -> Result<Action, (Code, String)> {
    if let Some(a) = Action::parse(s) {
        return Ok(a);
    }
    let s = s.trim();
    let message = if s.eq_ignore_ascii_case("BlockAndRemediate") {
        "network indicators do not support BlockAndRemediate (it is for files): \
         use Block, Warn, Audit or Allowed"
            .to_string()
    } else if s.is_empty() {
        "the action is empty: write Allowed, Warn, Block or Audit".to_string()
    } else {
        format!(
            "unknown action `{}`: write Allowed, Warn, Block or Audit (the legacy \
             AlertAndBlock and Alert are read as Block and Audit)",
            shown(s)
        )
    };
    Err((Code::UnsupportedAction, message))
}

/// How to fix a value rejected for `code` (the canonicaliser says what is
/// wrong, this says what to do).
fn fix_hint(code: Code) -> &'static str {
    match code {
        Code::IpIndicator => {
            "remove the row, or block the host names served from that address as \
             DomainName indicators"
        }
        Code::ReservedAddress => "remove the row; the tunnel's own address is never blocked",
        Code::Wildcard => {
            "a DomainName already covers all its subdomains: write `example.com` \
             for `*.example.com`"
        }
        Code::UnsupportedScheme => "remove the row, or give an http or https URL",
        Code::DomainWithPath => "make the row a Url indicator, or keep only the host",
        Code::TooLong => "shorten the URL (a shorter path prefix matches it too)",
        _ => "write a host name such as `example.com` or a URL such as `https://example.com/a`",
    }
}

/// The canonicaliser's message already names the value and says how to
/// fix it.
fn value_rejection(r: canon::Rejection) -> (Code, String) {
    (r.code, r.message)
}

fn optional(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The longest raw `IndicatorValue`, in bytes. A URL is held to
/// [`canon::MAX_INDICATOR_LEN`] once canonical; this bounds the work of
/// canonicalising it.
pub(crate) const MAX_VALUE_LEN: usize = 8 * 1024;
/// The longest `Description`: the largest field, and so the longest
/// string the JSON reader holds.
pub(crate) const MAX_DESCRIPTION_LEN: usize = 32 * 1024;
/// The longest `Title`.
const MAX_TITLE_LEN: usize = 1024;
/// The longest `Category`, `Id` and device group name.
const MAX_NAME_LEN: usize = 256;
/// The longest `IndicatorType`, `Action`, `ExpirationTime`, `Severity`
/// and `GenerateAlert`: a word or a time.
const MAX_WORD_LEN: usize = 64;
/// The most device groups a row may name.
pub(crate) const MAX_GROUPS: usize = 256;

/// The `too-long` message of a row with a field over its limit, if any.
fn over_limit(row: &RawRow) -> Option<String> {
    let fields: [(&str, Option<&str>, usize); 10] = [
        ("IndicatorValue", Some(&row.value), MAX_VALUE_LEN),
        ("IndicatorType", Some(&row.kind), MAX_WORD_LEN),
        ("Action", Some(&row.action), MAX_WORD_LEN),
        ("ExpirationTime", row.expiration.as_deref(), MAX_WORD_LEN),
        ("Severity", row.severity.as_deref(), MAX_WORD_LEN),
        ("GenerateAlert", row.generate_alert.as_deref(), MAX_WORD_LEN),
        ("Title", row.title.as_deref(), MAX_TITLE_LEN),
        (
            "Description",
            row.description.as_deref(),
            MAX_DESCRIPTION_LEN,
        ),
        ("Category", row.category.as_deref(), MAX_NAME_LEN),
        ("Id", row.id.as_deref(), MAX_NAME_LEN),
    ];
    if let Some((name, len, limit)) = fields.into_iter().find_map(|(name, v, limit)| {
        v.filter(|v| v.len() > limit)
            .map(|v| (name, v.len(), limit))
    }) {
        return Some(format!(
            "`{name}` is {len} bytes, over the limit of {limit}: shorten it"
        ));
    }
    if row.groups.len() > MAX_GROUPS {
        return Some(format!(
            "`RbacGroups` names more than {MAX_GROUPS} device groups, the limit: \
             split the row"
        ));
    }
    let long = row.groups.iter().find(|g| g.len() > MAX_NAME_LEN)?;
    Some(format!(
        "a group name in `RbacGroups` is {} bytes, over the limit of {MAX_NAME_LEN}: \
         shorten it",
        long.len()
    ))
}

/// A row's validation result: the accepted indicator with the message of
/// an `ignored-value` warning when one of its fields was left out, or why
/// the row was rejected or skipped.
pub(crate) type Checked = Result<(Indicator, Option<String>), Refusal>;

/// Checks one row; returns the accepted indicator (and what of it was
/// ignored), or why it was rejected or skipped. Duplicates are the
/// caller's business.
pub(crate) fn check(row: RawRow, opts: &Options, file: &Arc<str>) -> Checked {
    let line = row.line;
    let refuse = |(code, message): (Code, String)| Refusal {
        line,
        code,
        message,
    };
    if let Some(message) = over_limit(&row) {
        return Err(refuse((Code::TooLong, message)));
    }
    let kind = match parse_type(&row.kind).map_err(refuse)? {
        Type::Network(kind) => kind,
        Type::Ip => {
            let code = canon::ip_address_code(&row.value);
            let what = if code == Code::ReservedAddress {
                "245.245.0.1 is the tunnel's own address"
            } else {
                "IpAddress indicators are not supported on mobile"
            };
            let message = format!("`{}`: {what}; {}", shown(&row.value), fix_hint(code));
            return Err(refuse((code, message)));
        }
    };
    let action = parse_action(&row.action).map_err(refuse)?;
    if row.value.trim().is_empty() {
        return Err(refuse((
            Code::InvalidHost,
            "the indicator value is empty: write a host name or a URL".into(),
        )));
    }
    let (host, path) =
        canon::indicator(kind, &row.value).map_err(|r| refuse(value_rejection(r)))?;
    // The compiled set relies on this bound; checked here as well so that no
    // canonicaliser change can let a longer key through.
    if host.len() + path.len() > canon::MAX_INDICATOR_LEN {
        return Err(refuse((
            Code::TooLong,
            format!(
                "`{}` is longer than {} bytes once canonical; {}",
                shown(&row.value),
                canon::MAX_INDICATOR_LEN,
                fix_hint(Code::TooLong)
            ),
        )));
    }
    let expiration = match optional(row.expiration) {
        None => None,
        Some(s) => Some(parse_timestamp(&s).ok_or_else(|| {
            refuse((
                Code::BadExpiration,
                format!(
                    "cannot read the expiration time `{}`: write an RFC 3339 time \
                     such as 2025-12-31T00:00:00Z or a date such as 2025-12-31, or \
                     leave it empty for none",
                    shown(&s)
                ),
            ))
        })?),
    };
    if let Some(t) = expiration.filter(|t| *t <= opts.time()) {
        return Err(refuse((
            Code::Expired,
            format!(
                "`{}` expired at {}, at or before the compile time {}: renew or \
                 remove it",
                shown(&row.value),
                format_timestamp(t),
                format_timestamp(opts.time())
            ),
        )));
    }
    // An empty field is no group; a list with a blank name in it (`,`,
    // `Sales,`) is refused rather than read as fewer groups, which could
    // widen the row to every device.
    if row.groups.len() > 1 && row.groups.iter().any(|g| g.trim().is_empty()) {
        return Err(refuse((
            Code::MalformedRow,
            format!(
                "`{}`: the device groups `{}` include an empty name: name each group, \
                 separated by commas, or leave the field empty for every device",
                shown(&row.value),
                row.groups.join(",")
            ),
        )));
    }
    let groups: Vec<String> = row
        .groups
        .into_iter()
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty())
        .collect();
    // A row scoped to device groups applies to those groups only: a set
    // compiled for no group is the set of every device, so it holds only
    // the rows with no group (a scoped Allow must not reach everyone, nor
    // merge away a Block meant for everyone).
    if !groups.is_empty() {
        let named = || {
            groups
                .iter()
                .map(|g| format!("`{g}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match opts.group() {
            Some(want) if groups.iter().any(|g| g.eq_ignore_ascii_case(want.trim())) => {}
            Some(want) => {
                return Err(refuse((
                    Code::OtherGroup,
                    format!(
                        "`{}` is for device groups {}, not `{want}`: skipped for this group",
                        shown(&row.value),
                        named()
                    ),
                )));
            }
            None => {
                return Err(refuse((
                    Code::OtherGroup,
                    format!(
                        "`{}` is for device groups {} only: a set compiled without \
                         --device-group holds the indicators for every device; compile \
                         with --device-group NAME for the set of each group",
                        shown(&row.value),
                        named()
                    ),
                )));
            }
        }
    }
    let severity = optional(row.severity);
    let alert = optional(row.generate_alert);
    let (severity_read, alert_read) = (
        severity.as_deref().and_then(Severity::parse),
        alert.as_deref().and_then(parse_bool),
    );
    let mut ignored = Vec::new();
    if let (Some(s), None) = (&severity, severity_read) {
        ignored.push(format!(
            "Severity `{}` (one of Informational, Low, Medium, High)",
            shown(s)
        ));
    }
    if let (Some(a), None) = (&alert, alert_read) {
        ignored.push(format!("GenerateAlert `{}` (True or False)", shown(a)));
    }
    let note = (!ignored.is_empty()).then(|| {
        format!(
            "`{}` is applied without its {}: correct the value or leave it empty",
            shown(&row.value),
            ignored.join(" and its ")
        )
    });
    let meta = Meta {
        id: optional(row.id),
        title: optional(row.title),
        severity: severity_read,
        expiration,
        groups,
        generate_alert: alert_read,
        category: optional(row.category),
        description: optional(row.description),
    };
    let ind = Indicator {
        kind,
        host,
        path,
        action,
        meta: meta.into(),
        source: Source {
            file: Arc::clone(file),
            line,
            nth: row.nth,
        },
    };
    Ok((ind, note))
}

/// The `public-suffix` warning for a `DomainName` that is a public suffix
/// on the Public Suffix List (`com`, `co.uk`, `github.io`). A host that
/// only matches the list's default `*` rule (an unknown TLD) is not one.
pub(crate) fn public_suffix(ind: &Indicator) -> Option<String> {
    if ind.kind != Kind::DomainName {
        return None;
    }
    let suffix = psl::suffix(ind.host.as_bytes())?;
    if !suffix.is_known() || suffix.as_bytes() != ind.host.as_bytes() {
        return None;
    }
    Some(format!(
        "`{}` is a public suffix: this {}s every site under it; check that this \
         is meant, or name the registrable domain (`example.{}`)",
        ind.host, ind.action, ind.host
    ))
}

/// Reads a `GenerateAlert` value (`True`/`False`, any case); `None` when
/// empty or unreadable.
fn parse_bool(s: &str) -> Option<bool> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}
