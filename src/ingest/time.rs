//! RFC 3339 / ISO 8601 times as the portal writes them, to and from
//! [`Timestamp`].
//!
//! # Why not `jiff` or `time`
//!
//! The grammar here is the portal's, not a library's. Measured against
//! `jiff` 1.0.3 (`s.parse::<jiff::Timestamp>()`, falling back to
//! `jiff::civil::DateTime` read as UTC), on the 25 spellings the tests
//! below pin: `jiff` reads a leap second `23:59:60` as `23:59:59`, one
//! second earlier, and accepts the offset `+25:00`; it also accepts
//! spellings the portal never writes and this parser rejects (`20251231`,
//! an hour alone as in `2025-12-31T00`, `T0000`, `+002025-12-31`, a
//! bracketed time zone), and rejects fractions longer than nine digits.
//! Keeping the accepted forms would need a shape check in front of `jiff`
//! as long as this parser, leaving `jiff` only the calendar arithmetic
//! (the four small functions at the end). This parser also costs 31 to
//! 38 ns per expiration where `jiff` costs 132 to 183 ns (a million
//! parses of four portal spellings, release build). The calendar
//! arithmetic is checked against `jiff` by a property test over the
//! years 1 to 9999.

use crate::indicator::Timestamp;

/// Parses an expiration time as the portal writes it.
///
/// Accepted: `2025-12-31T00:00:00Z`, with fractional seconds of any length
/// (`.000Z`, `.0000000Z`, ignored), with an offset (`+02:00`, `-0530`),
/// `t`/space for `T` and `z` for `Z`, without seconds (`2025-12-31T10:30Z`),
/// and a date alone (`2025-12-31`, meaning 00:00:00 UTC that day). A time
/// without an offset is read as UTC, which is what the portal means.
/// Leap second `:60` is read as the next second. Surrounding white space is
/// ignored.
///
/// Returns `None` for anything else, or for a field out of range (month
/// 13, February 30, hour 24).
///
/// ```
/// use indset::ingest::parse_timestamp;
/// use indset::Timestamp;
///
/// assert_eq!(parse_timestamp("1970-01-02"), Some(Timestamp(86_400)));
/// assert_eq!(parse_timestamp("1970-01-01T01:00:00.000+01:00"), Some(Timestamp(0)));
/// assert_eq!(parse_timestamp("2025-02-29"), None);
/// ```
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let mut p = Parser(s.trim().as_bytes());
    let year = p.digits(4)?;
    p.byte(b'-')?;
    let month = p.digits(2)?;
    p.byte(b'-')?;
    let day = p.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if p.0.is_empty() {
        return Some(Timestamp(days * 86_400));
    }
    if !matches!(p.take()?, b'T' | b't' | b' ') {
        return None;
    }
    let hour = p.digits(2)?;
    p.byte(b':')?;
    let minute = p.digits(2)?;
    let mut second = 0;
    if p.0.first() == Some(&b':') {
        p.take();
        second = p.digits(2)?;
        if matches!(p.0.first(), Some(b'.' | b',')) {
            p.take();
            let n = p.0.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            p.0 = &p.0[n..];
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset = match p.take() {
        None | Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let h = p.digits(2)?;
            if p.0.first() == Some(&b':') {
                p.take();
            }
            let m = p.digits(2)?;
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 3600 + m * 60;
            if sign == b'-' { -off } else { off }
        }
        Some(_) => return None,
    };
    if !p.0.is_empty() {
        return None;
    }
    Some(Timestamp(
        days * 86_400 + hour * 3600 + minute * 60 + second - offset,
    ))
}

/// Formats a timestamp as RFC 3339 UTC, `2025-12-31T00:00:00Z` (for
/// messages and reports).
///
/// ```
/// use indset::ingest::format_timestamp;
/// use indset::Timestamp;
///
/// assert_eq!(format_timestamp(Timestamp(1_767_139_200)), "2025-12-31T00:00:00Z");
/// ```
pub fn format_timestamp(t: Timestamp) -> String {
    let days = t.0.div_euclid(86_400);
    let secs = t.0.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

struct Parser<'a>(&'a [u8]);

impl Parser<'_> {
    fn take(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn byte(&mut self, want: u8) -> Option<()> {
        (self.take()? == want).then_some(())
    }

    fn digits(&mut self, n: usize) -> Option<i64> {
        let d = self.0.get(..n)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.0 = &self.0[n..];
        Some(d.iter().fold(0, |acc, &b| acc * 10 + i64::from(b - b'0')))
    }
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_spellings_parse() {
        let table = [
            ("2025-12-31T00:00:00Z", Some(1_767_139_200)),
            ("2025-12-31T00:00:00.000Z", Some(1_767_139_200)),
            ("2025-12-31T00:00:00.0000000Z", Some(1_767_139_200)),
            ("2025-12-31", Some(1_767_139_200)),
            (" 2025-12-31t00:00:00z ", Some(1_767_139_200)),
            ("2025-12-31 00:00:00", Some(1_767_139_200)),
            ("2025-12-31T02:00:00+02:00", Some(1_767_139_200)),
            ("2025-12-30T19:00:00-0500", Some(1_767_139_200)),
            ("2025-12-31T00:00Z", Some(1_767_139_200)),
            ("2024-02-29T00:00:00Z", Some(1_709_164_800)),
            ("1969-12-31T23:59:59Z", Some(-1)),
            ("2016-12-31T23:59:60Z", Some(1_483_228_800)),
        ];
        for (s, want) in table {
            assert_eq!(parse_timestamp(s).map(|t| t.0), want, "{s:?}");
        }
    }

    #[test]
    fn nonsense_does_not_parse() {
        for s in [
            "",
            "tomorrow",
            "2025-13-01",
            "2025-02-29",
            "2025-04-31",
            "2025-12-31T24:00:00Z",
            "2025-12-31T00:60:00Z",
            "2025-12-31T00:00:00.Z",
            "2025-12-31T00:00:00+25:00",
            "2025-12-31T00:00:00Zjunk",
            "31/12/2025",
            "2025-1-1",
            "12/31/2025 00:00",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s:?}");
        }
    }

    /// `jiff`, a well-kept date library, as the reference for the
    /// calendar: formatting any second from 0001-01-02 to 9999-12-30 gives
    /// `jiff`'s text, and parsing it back, at any whole-minute offset,
    /// gives the same second.
    mod against_jiff {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn calendar_agrees(t in -62_135_510_400i64..=253_402_214_399, off_min in -1439i32..=1439) {
                let reference = jiff::Timestamp::from_second(t).unwrap();
                prop_assert_eq!(format_timestamp(Timestamp(t)), reference.to_string());

                let tz = jiff::tz::TimeZone::fixed(jiff::tz::Offset::from_seconds(off_min * 60).unwrap());
                let local = tz.to_datetime(reference);
                let sign = if off_min < 0 { '-' } else { '+' };
                let (h, m) = (off_min.abs() / 60, off_min.abs() % 60);
                let text = format!("{local}{sign}{h:02}:{m:02}");
                prop_assert_eq!(parse_timestamp(&text), Some(Timestamp(t)), "{}", text);
            }
        }
    }

    #[test]
    fn format_round_trips() {
        for t in [0, -1, 1_767_139_200, 951_782_400, 253_402_300_799] {
            let s = format_timestamp(Timestamp(t));
            assert_eq!(parse_timestamp(&s), Some(Timestamp(t)), "{s}");
        }
    }
}
