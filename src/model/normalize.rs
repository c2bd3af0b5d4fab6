//! Normalization shared by every comparison (docs/rules.md, "Comparing values").

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::Serialize;

use super::RawValue;

/// Above this a numeric timestamp is clearly unix milliseconds.
pub const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// Trim and lowercase; `None` when empty.
pub fn email(raw: &str) -> Option<String> {
    let e = raw.trim().to_lowercase();
    (!e.is_empty()).then_some(e)
}

/// The Gmail-style canonical form: `+tag` dropped everywhere, dots dropped in
/// the local part for gmail.com / googlemail.com. Two different emails with
/// the same canonical form are a *possible* split, not the same identifier.
pub fn email_canonical(normalized: &str) -> String {
    let Some((local, domain)) = normalized.rsplit_once('@') else {
        return normalized.to_string();
    };
    let local = local.split('+').next().unwrap_or(local);
    let domain = if domain == "googlemail.com" {
        "gmail.com"
    } else {
        domain
    };
    let local = if domain == "gmail.com" {
        local.replace('.', "")
    } else {
        local.to_string()
    };
    format!("{local}@{domain}")
}

/// E.164-style: `+` and digits, reading national numbers as US numbers
/// (see [`phone_in`]). `None` when there are fewer than 6 digits.
pub fn phone(raw: &str) -> Option<String> {
    phone_in(raw, PhoneRegion::US)
}

/// Where a national phone number (no `+`, no `00` prefix) is dialled:
/// `identity.phone_region` in the config. Any region libphonenumber's
/// metadata knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion {
    id: phonenumber::country::Id,
    /// The country calling code.
    calling: u16,
}

impl PhoneRegion {
    pub const US: PhoneRegion = PhoneRegion {
        id: phonenumber::country::Id::US,
        calling: 1,
    };

    /// The region for an ISO 3166 alpha-2 code (case-insensitive), when the
    /// phone metadata knows it.
    pub fn from_code(code: &str) -> Option<PhoneRegion> {
        let id: phonenumber::country::Id = code.trim().to_ascii_uppercase().parse().ok()?;
        let meta = phonenumber::metadata::DATABASE.by_id(id.as_ref())?;
        Some(PhoneRegion {
            id,
            calling: meta.country_code(),
        })
    }

    /// The ISO code, upper case.
    pub fn code(&self) -> &str {
        self.id.as_ref()
    }

    /// The country calling code (`1` for North America, `44` for GB).
    pub fn calling(&self) -> u16 {
        self.calling
    }

    /// The prefix national numbers are dialled with (`0` in most of
    /// Europe, none in Italy or Spain), from the metadata.
    fn trunk(&self) -> Option<&'static str> {
        phonenumber::metadata::DATABASE
            .by_id(self.code())
            .and_then(|m| m.national_prefix())
    }
}

impl Default for PhoneRegion {
    fn default() -> Self {
        PhoneRegion::US
    }
}

/// E.164 (`+` and digits) of any written form: `+1-555-100-0037`,
/// `(555) 100-0037`, `+1 555 100 0037` and `001 555 100 0037` are one
/// number. A number without `+` or `00` (or the region's own international
/// prefix) is national and read with `region`'s rules from libphonenumber's
/// metadata: BR `(11) 91234-5678`, IN `098765 43210`, GB `020 7946 0958`.
/// Text already in E.164 is kept as written; what the metadata cannot read
/// falls back to digits (see [`phone_by_digits`]), so a number is never
/// lost. `None` when there are fewer than 6 digits (not a phone number).
pub fn phone_in(raw: &str, region: PhoneRegion) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.bytes().filter(u8::is_ascii_digit).count() < 6 {
        return None;
    }
    if let Some(rest) = trimmed.strip_prefix('+') {
        if rest.bytes().all(|b| b.is_ascii_digit()) {
            return Some(trimmed.to_string());
        }
    }
    if region.calling == 1 {
        if let Some(e164) = nanp(trimmed) {
            return Some(e164);
        }
    }
    // Whatever reading wins, fewer than 6 digits is not a phone number
    // (so normalizing again gives the same answer).
    phone_by_metadata(trimmed, region)
        .or_else(|| phone_by_digits(trimmed, region))
        .filter(|e164| e164.len() > 6)
}

/// A North American number written the usual way, read without the
/// parser (what the metadata reads it as, at a tenth of the cost): ten
/// digits `NXX NXX XXXX` with an optional leading `1` or `+1`, separators
/// only.
fn nanp(trimmed: &str) -> Option<String> {
    let mut digits = [0u8; 11];
    let mut n = 0;
    let mut plus = false;
    for b in trimmed.bytes() {
        match b {
            b'0'..=b'9' if n < digits.len() => {
                digits[n] = b;
                n += 1;
            }
            b'+' if n == 0 && !plus => plus = true,
            b' ' | b'-' | b'.' | b'(' | b')' => {}
            _ => return None,
        }
    }
    let national = match (n, plus) {
        (10, false) => &digits[..10],
        (11, _) if digits[0] == b'1' => &digits[1..11],
        _ => return None,
    };
    if national[0] < b'2' || national[3] < b'2' {
        return None;
    }
    let mut out = String::with_capacity(12);
    out.push_str("+1");
    out.extend(national.iter().map(|&d| d as char));
    Some(out)
}

/// The written number up to where it stops being one: digits, separators
/// and a `+` before the first digit, so an extension (`x12`, `ext. 12`,
/// `#12`) or a note is left out. Its digits, and whether a `+` leads them.
fn written_digits(trimmed: &str) -> (String, bool) {
    let mut digits = String::with_capacity(trimmed.len());
    let mut plus = false;
    for c in trimmed.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() => plus = true,
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            _ => break,
        }
    }
    (digits, plus)
}

/// libphonenumber's reading, `None` when it rejects the text. It is handed
/// only `+` and digits: separators tell it nothing, and it parses faster
/// without them.
fn phone_by_metadata(trimmed: &str, region: PhoneRegion) -> Option<String> {
    use phonenumber::country::Source;
    let (digits, plus) = written_digits(trimmed);
    if digits.len() < 6 {
        return None;
    }
    let here = if plus {
        phonenumber::parse(Some(region.id), format!("+{digits}"))
    } else {
        phonenumber::parse(Some(region.id), &digits)
    }
    .ok();
    // `00` is an international prefix in most of the world and in most
    // CRMs, even where the region dials out otherwise (011 in North
    // America, 00 and a carrier in Brazil): the number after it is read
    // too, and wins unless the region's own reading is international and
    // the valid one.
    let number = if !plus && digits.starts_with("00") {
        let here = here.filter(|n| matches!(n.code().source(), Source::Idd | Source::Plus));
        let abroad = phonenumber::parse(None, format!("+{}", &digits[2..])).ok();
        match (here, abroad) {
            (Some(h), Some(a))
                if (h.code().value(), h.national()) == (a.code().value(), a.national())
                    || phonenumber::is_valid(&h)
                    || !phonenumber::is_valid(&a) =>
            {
                h
            }
            (h, a) => a.or(h)?,
        }
    } else {
        here?
    };
    Some(format!("+{}{}", number.code().value(), number.national()))
}

/// The digits-only reading: `+` or `00` and digits are international; a
/// North American 10-digit number takes `1`; elsewhere the region's trunk
/// prefix is dropped and its calling code added unless already there.
fn phone_by_digits(trimmed: &str, region: PhoneRegion) -> Option<String> {
    let mut digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return None;
    }
    if trimmed.starts_with('+') {
        return Some(format!("+{digits}"));
    }
    if digits.starts_with("00") {
        digits.drain(..2);
        return (digits.len() >= 6).then(|| format!("+{digits}"));
    }
    let calling = region.calling.to_string();
    let national = if region.calling == 1 {
        match digits.len() {
            10 => format!("1{digits}"),
            _ => digits,
        }
    } else if let Some(rest) = region.trunk().and_then(|t| digits.strip_prefix(t)) {
        format!("{calling}{rest}")
    } else if digits.starts_with(&calling) {
        digits
    } else {
        format!("{calling}{digits}")
    };
    Some(format!("+{national}"))
}

/// Written forms a system may hold for one E.164 number, for searches that
/// match text exactly: the E.164 text, its digits with `00` or without a
/// prefix, libphonenumber's international format (`+44 20 7946 0958`),
/// for a number of `region` its national format (`020 7946 0958`,
/// `(11) 91234-5678`) with and without the separators and the trunk
/// prefix, and for North American numbers the usual punctuated forms.
pub fn phone_forms(e164: &str, region: PhoneRegion) -> Vec<String> {
    use phonenumber::Mode;
    let digits = e164.trim_start_matches('+');
    let mut forms = vec![e164.to_string(), digits.to_string(), format!("00{digits}")];
    if let Some(national) = digits.strip_prefix('1').filter(|n| n.len() == 10) {
        let (a, b, c) = (&national[..3], &national[3..6], &national[6..]);
        forms.extend([
            format!("+1-{a}-{b}-{c}"),
            format!("+1 {a} {b} {c}"),
            format!("+1 ({a}) {b}-{c}"),
            format!("({a}) {b}-{c}"),
            format!("{a}-{b}-{c}"),
            national.to_string(),
        ]);
        forms.retain(|f| !f.starts_with("00"));
    } else if let Some(national) = digits.strip_prefix(&region.calling.to_string()) {
        forms.push(format!("{}{national}", region.trunk().unwrap_or("")));
    }
    if let Ok(number) = phonenumber::parse(None, e164) {
        forms.extend(formatted(&number, Mode::International));
        if number.code().value() == region.calling {
            if let Some(national) = formatted(&number, Mode::National) {
                forms.push(national.chars().filter(char::is_ascii_digit).collect());
                forms.push(national);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    forms.retain(|f| seen.insert(f.clone()));
    forms
}

/// A number as libphonenumber writes it; `None` when it cannot (never a
/// panic: `to_string` would panic on a formatting error).
fn formatted(number: &phonenumber::PhoneNumber, mode: phonenumber::Mode) -> Option<String> {
    use std::fmt::Write;
    let mut out = String::new();
    write!(out, "{}", number.format().mode(mode)).ok()?;
    Some(out)
}

/// How a timestamp value was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeForm {
    UnixSeconds,
    /// Numeric and > 10^11: read as milliseconds, which is itself a finding.
    UnixMillis,
    /// ISO-8601 / RFC 3339 with `Z` or `+hh:mm`, or Salesforce's `+0000`.
    Zoned,
    /// A native zoned instant from a database.
    NativeZoned,
    /// A datetime with no zone, read as UTC (a finding for sources).
    NoZone,
    /// A date `YYYY-MM-DD`, read as midnight UTC.
    Date,
}

impl TimeForm {
    pub fn describe(self) -> &'static str {
        match self {
            TimeForm::UnixSeconds => "unix seconds",
            TimeForm::UnixMillis => "unix milliseconds",
            TimeForm::Zoned => "ISO-8601 with offset",
            TimeForm::NativeZoned => "database timestamp with zone",
            TimeForm::NoZone => "datetime without time zone (read as UTC)",
            TimeForm::Date => "date (midnight UTC)",
        }
    }
}

/// An instant read from a raw value, with how it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedInstant {
    pub instant: DateTime<Utc>,
    pub form: TimeForm,
}

/// Why a value is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read {value:?} as a timestamp")]
pub struct NotATimestamp {
    pub value: String,
}

/// Read any supported timestamp form. Milliseconds are converted but marked.
pub fn parse_instant(v: &RawValue) -> Result<ParsedInstant, NotATimestamp> {
    let fail = || NotATimestamp {
        value: v.to_string(),
    };
    match v {
        RawValue::Int(i) => unix(*i).ok_or_else(fail),
        RawValue::Float(f) if f.is_finite() => unix(f.trunc() as i64).ok_or_else(fail),
        RawValue::Decimal(s) | RawValue::Text(s) => parse_instant_text(s).ok_or_else(fail),
        RawValue::DateTime(dt) => Ok(ParsedInstant {
            instant: *dt,
            form: TimeForm::NativeZoned,
        }),
        RawValue::LocalDateTime(dt) => Ok(ParsedInstant {
            instant: dt.and_utc(),
            form: TimeForm::NoZone,
        }),
        RawValue::Date(d) => Ok(ParsedInstant {
            instant: midnight(*d),
            form: TimeForm::Date,
        }),
        _ => Err(fail()),
    }
}

fn unix(n: i64) -> Option<ParsedInstant> {
    if n.unsigned_abs() > MILLIS_THRESHOLD as u64 {
        let instant = Utc.timestamp_millis_opt(n).single()?;
        Some(ParsedInstant {
            instant,
            form: TimeForm::UnixMillis,
        })
    } else {
        let instant = Utc.timestamp_opt(n, 0).single()?;
        Some(ParsedInstant {
            instant,
            form: TimeForm::UnixSeconds,
        })
    }
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

/// Text forms: unix seconds/millis as digits, RFC 3339, Salesforce
/// `2024-01-02T03:04:05.000+0000`, `YYYY-MM-DD`, and zone-less datetimes.
pub fn parse_instant_text(s: &str) -> Option<ParsedInstant> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit())
        || (s.starts_with('-') && s[1..].bytes().all(|b| b.is_ascii_digit()) && s.len() > 1)
    {
        return unix(s.parse().ok()?);
    }
    if let Some((int, frac)) = s.split_once('.') {
        if !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
        {
            return unix(int.parse().ok()?);
        }
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(ParsedInstant {
            instant: dt.with_timezone(&Utc),
            form: TimeForm::Zoned,
        });
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(ParsedInstant {
                instant: dt.with_timezone(&Utc),
                form: TimeForm::Zoned,
            });
        }
    }
    if let Some(stripped) = s.strip_suffix(" UTC") {
        if let Ok(dt) = NaiveDateTime::parse_from_str(stripped, "%Y-%m-%d %H:%M:%S%.f") {
            return Some(ParsedInstant {
                instant: dt.and_utc(),
                form: TimeForm::Zoned,
            });
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(ParsedInstant {
                instant: dt.and_utc(),
                form: TimeForm::NoZone,
            });
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(ParsedInstant {
            instant: midnight(d),
            form: TimeForm::Date,
        });
    }
    None
}

/// A number from a native number or plain numeric text (`"19.90"` is 19.9).
/// Currency symbols, thousands separators and units are *not* numbers: they
/// are type drift, reported rather than guessed.
pub fn parse_number(v: &RawValue) -> Option<f64> {
    match v {
        RawValue::Int(i) => Some(*i as f64),
        RawValue::Float(f) if f.is_finite() => Some(*f),
        RawValue::Decimal(s) | RawValue::Text(s) => {
            let t = s.trim();
            let plain = !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
                && t.bytes().any(|b| b.is_ascii_digit());
            if plain {
                t.parse::<f64>().ok().filter(|f| f.is_finite())
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Booleans as Customer.io reads them: `true/false`, `TRUE`, `1/0`, `"1"`.
pub fn parse_bool(v: &RawValue) -> Option<bool> {
    match v {
        RawValue::Bool(b) => Some(*b),
        RawValue::Int(0) => Some(false),
        RawValue::Int(1) => Some(true),
        RawValue::Decimal(s) | RawValue::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "t" | "yes" => Some(true),
            "false" | "0" | "f" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The shape of a value, for `type_drift`: what kind of thing it looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueShape {
    Empty,
    Bool,
    Number,
    /// Digits with a currency sign or separators: `"$19.90"`, `"1,200"`.
    FormattedNumber,
    UnixTime,
    IsoDate,
    IsoDateTime,
    Json,
    Text,
}

impl ValueShape {
    pub fn name(self) -> &'static str {
        match self {
            ValueShape::Empty => "empty",
            ValueShape::Bool => "bool",
            ValueShape::Number => "number",
            ValueShape::FormattedNumber => "formatted number text",
            ValueShape::UnixTime => "unix time",
            ValueShape::IsoDate => "ISO date",
            ValueShape::IsoDateTime => "ISO datetime",
            ValueShape::Json => "JSON",
            ValueShape::Text => "text",
        }
    }

    /// Two shapes a value of one attribute may legitimately take together.
    pub fn compatible(self, other: ValueShape) -> bool {
        use ValueShape::*;
        self == other
            || self == Empty
            || other == Empty
            || matches!((self, other), (Number, Bool) | (Bool, Number))
    }
}

/// Classify a value. `time_like` says the attribute holds dates, so a large
/// integer is read as unix time rather than a plain number.
pub fn shape(v: &RawValue, time_like: bool) -> ValueShape {
    match v {
        RawValue::Null => ValueShape::Empty,
        RawValue::Bool(_) => ValueShape::Bool,
        RawValue::Int(_) | RawValue::Float(_) | RawValue::Decimal(_) => {
            if time_like {
                ValueShape::UnixTime
            } else {
                ValueShape::Number
            }
        }
        RawValue::DateTime(_) | RawValue::LocalDateTime(_) => ValueShape::IsoDateTime,
        RawValue::Date(_) => ValueShape::IsoDate,
        RawValue::Text(s) => shape_text(s, time_like),
    }
}

fn shape_text(s: &str, time_like: bool) -> ValueShape {
    let t = s.trim();
    if t.is_empty() {
        return ValueShape::Empty;
    }
    if matches!(t.to_ascii_lowercase().as_str(), "true" | "false") {
        return ValueShape::Bool;
    }
    if parse_number(&RawValue::text(t)).is_some() {
        return if time_like {
            ValueShape::UnixTime
        } else {
            ValueShape::Number
        };
    }
    if let Some(p) = parse_instant_text(t) {
        return if p.form == TimeForm::Date {
            ValueShape::IsoDate
        } else {
            ValueShape::IsoDateTime
        };
    }
    if (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']')) {
        return ValueShape::Json;
    }
    let looks_money = t.chars().any(|c| c.is_ascii_digit())
        && t.chars().all(|c| {
            c.is_ascii_digit() || ".,-+ $€£¥".contains(c) || c.is_ascii_uppercase() && t.len() <= 12
        });
    if looks_money {
        return ValueShape::FormattedNumber;
    }
    ValueShape::Text
}

/// Fold an event name for drift detection: case, spaces, underscores,
/// hyphens and dots do not make a different concept.
pub fn fold_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Fold an enum value: case and surrounding/inner whitespace.
pub fn fold_enum(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> (i64, TimeForm) {
        let p = parse_instant(&RawValue::text(s)).unwrap();
        (p.instant.timestamp(), p.form)
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            email("  Jane.Doe@Example.COM "),
            Some("jane.doe@example.com".into())
        );
        assert_eq!(email("   "), None);
    }

    #[test]
    fn gmail_variants_share_a_canonical_form_but_other_domains_keep_dots() {
        assert_eq!(
            email_canonical("jane.doe+promo@gmail.com"),
            "janedoe@gmail.com"
        );
        assert_eq!(
            email_canonical("janedoe@googlemail.com"),
            "janedoe@gmail.com"
        );
        assert_eq!(
            email_canonical("jane.doe+x@example.com"),
            "jane.doe@example.com"
        );
    }

    #[test]
    fn phones_become_e164() {
        for (raw, want) in [
            ("+1 (415) 555-0100", Some("+14155550100")),
            ("0044 20 7946 0958", Some("+442079460958")),
            ("+44-20-7946-0958", Some("+442079460958")),
            ("12", None),
            ("", None),
        ] {
            assert_eq!(phone(raw).as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn every_written_form_of_a_us_number_is_one_number() {
        for raw in [
            "+15551000037",
            "+1-555-100-0037",
            "(555) 100-0037",
            "+1 555 100 0037",
            "555.100.0037",
            "1 555 100 0037",
            "001 555 100 0037",
        ] {
            assert_eq!(phone(raw).as_deref(), Some("+15551000037"), "{raw}");
        }
        for form in phone_forms("+15551000037", PhoneRegion::US) {
            assert_eq!(phone(&form).as_deref(), Some("+15551000037"), "{form}");
        }
        let gb = PhoneRegion::from_code("GB").unwrap();
        for form in phone_forms("+442079460958", gb) {
            assert_eq!(
                phone_in(&form, gb).as_deref(),
                Some("+442079460958"),
                "{form}"
            );
        }
        assert!(phone_forms("+442079460958", gb).contains(&"02079460958".to_string()));
    }

    #[test]
    fn national_numbers_take_the_configured_region() {
        let gb = PhoneRegion::from_code("gb").unwrap();
        assert_eq!(
            phone_in("020 7946 0958", gb).as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            phone_in("+44 20 7946 0958", gb).as_deref(),
            Some("+442079460958")
        );
        let de = PhoneRegion::from_code("DE").unwrap();
        assert_eq!(phone_in("030 1234567", de).as_deref(), Some("+49301234567"));
        assert!(PhoneRegion::from_code("XX").is_none());
    }

    /// National and international written forms of one number per region:
    /// each reads as the E.164, and the search forms hold the national form
    /// a CRM in that region would store.
    #[test]
    fn written_forms_from_many_regions_are_one_number() {
        #[rustfmt::skip]
        let table: &[(&str, &str, &[&str], &str)] = &[
            ("US", "+14155550100", &["(415) 555-0100", "415-555-0100", "1 415 555 0100", "+1 415 555 0100", "011 1 415 555 0100", "001 415 555 0100"], "(415) 555-0100"),
            ("CA", "+16135550100", &["(613) 555-0100", "613.555.0100", "+1-613-555-0100"], "(613) 555-0100"),
            ("GB", "+447700900123", &["07700 900123", "07700900123", "+44 7700 900123", "+44 (0)7700 900123", "0044 7700 900123"], "07700 900123"),
            ("GB", "+442079460958", &["020 7946 0958", "(020) 7946 0958", "+44 20 7946 0958", "(+44) 20 7946 0958", "+44 20 7946 0958 ext. 3"], "020 7946 0958"),
            ("DE", "+49301234567", &["030 1234567", "030/1234567", "+49 30 1234567", "0049 30 1234567"], "030 1234567"),
            ("DE", "+4915123456789", &["01512 3456789", "0151 23456789", "+49 151 23456789"], "01512 3456789"),
            ("FR", "+33612345678", &["06 12 34 56 78", "06.12.34.56.78", "0612345678", "+33 6 12 34 56 78", "+33 (0)6 12 34 56 78", "0033 6 12 34 56 78"], "06 12 34 56 78"),
            ("BR", "+5511912345678", &["(11) 91234-5678", "11 91234-5678", "011 91234-5678", "+55 11 91234-5678", "0055 11 91234 5678"], "(11) 91234-5678"),
            ("IN", "+919876543210", &["098765 43210", "9876543210", "09876543210", "+91 98765 43210", "+91-9876543210", "0091 98765 43210"], "098765 43210"),
            ("JP", "+819012345678", &["090-1234-5678", "09012345678", "+81 90-1234-5678", "+81 90 1234 5678", "010 81 90 1234 5678"], "090-1234-5678"),
            ("JP", "+81312345678", &["03-1234-5678", "+81 3-1234-5678"], "03-1234-5678"),
            ("AU", "+61412345678", &["0412 345 678", "0412345678", "+61 412 345 678", "0011 61 412 345 678"], "0412 345 678"),
            ("AU", "+61298765432", &["(02) 9876 5432", "02 9876 5432", "+61 2 9876 5432"], "(02) 9876 5432"),
            ("MX", "+525512345678", &["55 1234 5678", "5512345678", "+52 55 1234 5678", "0052 55 1234 5678"], "55 1234 5678"),
            ("ZA", "+27821234567", &["082 123 4567", "0821234567", "+27 82 123 4567", "0027 82 123 4567"], "082 123 4567"),
            ("IT", "+390612345678", &["06 1234 5678", "+39 06 1234 5678", "0039 06 1234 5678"], "06 1234 5678"),
            ("ES", "+34612345678", &["612 34 56 78", "612345678", "+34 612 34 56 78"], "612 34 56 78"),
            ("NL", "+31612345678", &["06 12345678", "06-12345678", "+31 6 12345678"], "06 12345678"),
            ("CN", "+8613812345678", &["138 1234 5678", "13812345678", "+86 138 1234 5678"], "138 1234 5678"),
            ("KR", "+821012345678", &["010-1234-5678", "+82 10-1234-5678"], "010-1234-5678"),
            ("NG", "+2348031234567", &["0803 123 4567", "+234 803 123 4567"], "0803 123 4567"),
            ("SG", "+6581234567", &["8123 4567", "+65 8123 4567"], "8123 4567"),
            ("AR", "+541123456789", &["011 2345-6789", "+54 11 2345-6789"], "011 2345-6789"),
        ];
        for (code, want, written, national) in table {
            let region = PhoneRegion::from_code(code).unwrap();
            for raw in written.iter().copied().chain([*want]) {
                assert_eq!(
                    phone_in(raw, region).as_deref(),
                    Some(*want),
                    "{code} {raw:?}"
                );
            }
            let forms = phone_forms(want, region);
            assert!(
                forms.iter().any(|f| f == national),
                "{code} {want}: {national:?} not in {forms:?}"
            );
            for form in &forms {
                assert_eq!(
                    phone_in(form, region).as_deref(),
                    Some(*want),
                    "{code} form {form:?} of {forms:?}"
                );
            }
        }
    }

    #[test]
    fn the_north_american_shortcut_reads_as_the_metadata_does() {
        for code in ["US", "CA", "JM", "PR"] {
            let region = PhoneRegion::from_code(code).unwrap();
            for raw in [
                "(415) 555-0100",
                "415.555.0100",
                "1 415 555 0100",
                "+1 (415) 555-0100",
                "+1-876-555-0100",
                "212 200 0000",
                "1-800-555-0199",
            ] {
                assert_eq!(
                    phone_in(raw, region),
                    phone_by_metadata(raw, region),
                    "{code} {raw}"
                );
            }
        }
        for other in [
            "(015) 555-0100",
            "415 155 0100",
            "555-0100",
            "+1 415 555 0100 x2",
        ] {
            assert_eq!(nanp(other), None, "{other}");
        }
    }

    #[test]
    fn any_region_the_metadata_knows_is_a_region() {
        for code in ["US", "br", " in ", "JP", "AU", "MX", "ZA", "KE", "VN", "AE"] {
            let region = PhoneRegion::from_code(code).unwrap();
            assert_eq!(region.code(), code.trim().to_ascii_uppercase());
        }
        assert_eq!(PhoneRegion::from_code("BR").unwrap().calling(), 55);
        assert_eq!(PhoneRegion::default(), PhoneRegion::US);
        for bad in ["", "XX", "Atlantis", "001", "U"] {
            assert!(PhoneRegion::from_code(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn what_the_metadata_rejects_still_reads_by_digits() {
        let gb = PhoneRegion::from_code("GB").unwrap();
        // No such calling code: kept as written.
        assert_eq!(phone("+999 1234 5678").as_deref(), Some("+99912345678"));
        assert_eq!(phone("00 999 1234 5678").as_deref(), Some("+99912345678"));
        // Too long for any numbering plan: digits, never lost.
        assert_eq!(
            phone_in("0 1234 5678 9012 3456 789", gb).as_deref(),
            Some("+44123456789012345678 9".replace(' ', "").as_str())
        );
        // An extension or a note is not part of the number.
        assert_eq!(
            phone("+1 415 555 0100 ext. 12").as_deref(),
            Some("+14155550100")
        );
        assert_eq!(phone("(415) 555-0100 x12").as_deref(), Some("+14155550100"));
        assert_eq!(
            phone_in("020 7946 0958 (work)", gb).as_deref(),
            Some("+442079460958")
        );
        assert_eq!(phone("tel: 12"), None);
    }

    #[test]
    fn every_timestamp_form_reads_as_the_same_instant() {
        let want = 1_714_521_600; // 2024-05-01T00:00:00Z
        assert_eq!(ts("1714521600"), (want, TimeForm::UnixSeconds));
        assert_eq!(ts("2024-05-01T00:00:00Z"), (want, TimeForm::Zoned));
        assert_eq!(ts("2024-05-01T02:00:00+02:00"), (want, TimeForm::Zoned));
        assert_eq!(ts("2024-05-01T00:00:00.000+0000"), (want, TimeForm::Zoned));
        assert_eq!(ts("2024-05-01"), (want, TimeForm::Date));
        assert_eq!(ts("2024-05-01 00:00:00"), (want, TimeForm::NoZone));
        assert_eq!(ts("1714521600000"), (want, TimeForm::UnixMillis));
        let native = parse_instant(&RawValue::Int(want)).unwrap();
        assert_eq!(native.instant.timestamp(), want);
    }

    #[test]
    fn the_most_negative_integer_is_read_without_overflow() {
        assert!(parse_instant(&RawValue::Int(i64::MIN)).is_err());
        assert!(parse_instant(&RawValue::text("-9223372036854775808")).is_err());
    }

    #[test]
    fn garbage_is_not_a_timestamp() {
        for s in ["", "soon", "2024-13-45", "12/05/2024"] {
            assert!(parse_instant(&RawValue::text(s)).is_err(), "{s}");
        }
    }

    #[test]
    fn numbers_ignore_formatting_of_plain_decimals_but_not_currency() {
        assert_eq!(parse_number(&RawValue::text("19.90")), Some(19.9));
        assert_eq!(parse_number(&RawValue::Float(19.9)), Some(19.9));
        assert_eq!(parse_number(&RawValue::text(" 42 ")), Some(42.0));
        assert_eq!(parse_number(&RawValue::text("$19.90")), None);
        assert_eq!(parse_number(&RawValue::text("1,200")), None);
        assert_eq!(parse_number(&RawValue::text("abc")), None);
    }

    #[test]
    fn booleans_read_like_customerio() {
        for (raw, want) in [
            ("true", Some(true)),
            ("TRUE", Some(true)),
            ("1", Some(true)),
            ("false", Some(false)),
            ("0", Some(false)),
            ("maybe", None),
        ] {
            assert_eq!(parse_bool(&RawValue::text(raw)), want, "{raw}");
        }
        assert_eq!(parse_bool(&RawValue::Bool(false)), Some(false));
    }

    #[test]
    fn shapes_tell_money_text_from_numbers() {
        assert_eq!(
            shape(&RawValue::text("$19.90"), false),
            ValueShape::FormattedNumber
        );
        assert_eq!(shape(&RawValue::text("19.90"), false), ValueShape::Number);
        assert_eq!(
            shape(&RawValue::text("1714521600"), true),
            ValueShape::UnixTime
        );
        assert_eq!(
            shape(&RawValue::text("2024-05-01"), true),
            ValueShape::IsoDate
        );
        assert_eq!(shape(&RawValue::text("hello"), false), ValueShape::Text);
    }

    #[test]
    fn event_names_fold_case_spaces_and_underscores() {
        assert_eq!(fold_name("Order Completed"), fold_name("order_completed"));
        assert_ne!(fold_name("Order Completed"), fold_name("Purchased"));
        assert_eq!(fold_enum(" VIP "), fold_enum("vip"));
    }

    proptest::proptest! {
        #[test]
        fn email_normalization_is_idempotent(s in "\\PC{0,40}") {
            if let Some(e) = email(&s) {
                proptest::prop_assert_eq!(email(&e), Some(e.clone()));
            }
        }

        #[test]
        fn unix_seconds_round_trip_through_text(n in 946_684_800i64..4_102_444_800i64) {
            let p = parse_instant(&RawValue::text(n.to_string())).unwrap();
            proptest::prop_assert_eq!(p.instant.timestamp(), n);
            proptest::prop_assert_eq!(p.form, TimeForm::UnixSeconds);
        }

        #[test]
        fn phone_normalization_is_idempotent(s in "[+0-9 ()-]{0,20}") {
            if let Some(p) = phone(&s) {
                proptest::prop_assert_eq!(phone(&p), Some(p.clone()));
            }
        }

        #[test]
        fn any_text_in_any_region_reads_without_panic_and_stays_read(
            s in "[+0-9 ()./x#a-]{0,30}",
            code in proptest::sample::select(vec!["US", "GB", "DE", "BR", "IN", "JP", "AU", "MX", "ZA", "IT", "AR", "RU", "HU", "CN"]),
        ) {
            let region = PhoneRegion::from_code(code).unwrap();
            if let Some(p) = phone_in(&s, region) {
                proptest::prop_assert!(p.starts_with('+'), "{}", p);
                proptest::prop_assert!(p[1..].bytes().all(|b| b.is_ascii_digit()), "{}", p);
                proptest::prop_assert_eq!(phone_in(&p, region), Some(p.clone()));
                let _ = phone_forms(&p, region);
            }
        }
    }
}
