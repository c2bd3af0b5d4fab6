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
/// `identity.phone_region` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion {
    /// ISO 3166 alpha-2 code, as configured.
    pub code: &'static str,
    /// The country calling code.
    pub calling: &'static str,
    /// Whether national numbers start with a trunk `0` that E.164 drops.
    pub trunk_zero: bool,
}

impl PhoneRegion {
    pub const US: PhoneRegion = PhoneRegion {
        code: "US",
        calling: "1",
        trunk_zero: false,
    };

    /// The regions cioscope knows, by ISO code.
    pub const KNOWN: &'static [PhoneRegion] = &[
        PhoneRegion::US,
        PhoneRegion {
            code: "CA",
            calling: "1",
            trunk_zero: false,
        },
        PhoneRegion {
            code: "GB",
            calling: "44",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "IE",
            calling: "353",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "DE",
            calling: "49",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "AT",
            calling: "43",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "CH",
            calling: "41",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "FR",
            calling: "33",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "BE",
            calling: "32",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "NL",
            calling: "31",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "SE",
            calling: "46",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "FI",
            calling: "358",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "ES",
            calling: "34",
            trunk_zero: false,
        },
        PhoneRegion {
            code: "PT",
            calling: "351",
            trunk_zero: false,
        },
        PhoneRegion {
            code: "IT",
            calling: "39",
            trunk_zero: false,
        },
        PhoneRegion {
            code: "DK",
            calling: "45",
            trunk_zero: false,
        },
        PhoneRegion {
            code: "NO",
            calling: "47",
            trunk_zero: false,
        },
        PhoneRegion {
            code: "PL",
            calling: "48",
            trunk_zero: false,
        },
        PhoneRegion {
            code: "AU",
            calling: "61",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "NZ",
            calling: "64",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "IN",
            calling: "91",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "JP",
            calling: "81",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "BR",
            calling: "55",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "MX",
            calling: "52",
            trunk_zero: false,
        },
        PhoneRegion {
            code: "ZA",
            calling: "27",
            trunk_zero: true,
        },
        PhoneRegion {
            code: "SG",
            calling: "65",
            trunk_zero: false,
        },
    ];

    /// The region for an ISO code (case-insensitive).
    pub fn from_code(code: &str) -> Option<PhoneRegion> {
        let code = code.trim().to_ascii_uppercase();
        PhoneRegion::KNOWN.iter().copied().find(|r| r.code == code)
    }
}

impl Default for PhoneRegion {
    fn default() -> Self {
        PhoneRegion::US
    }
}

/// E.164 (`+` and digits) of any written form: `+1-555-100-0037`,
/// `(555) 100-0037`, `+1 555 100 0037` and `001 555 100 0037` are one
/// number. A number without `+` or `00` is national: it takes `region`'s
/// calling code (a North American 10-digit number, or 11 digits starting
/// with 1; elsewhere the trunk `0` is dropped). `None` when there are fewer
/// than 6 digits (not a phone number).
pub fn phone_in(raw: &str, region: PhoneRegion) -> Option<String> {
    let trimmed = raw.trim();
    let mut digits: String = trimmed.chars().filter(|c| c.is_ascii_digit()).collect();
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
    let national = if region.calling == "1" {
        match digits.len() {
            10 => format!("1{digits}"),
            _ => digits,
        }
    } else if region.trunk_zero && digits.starts_with('0') {
        format!("{}{}", region.calling, &digits[1..])
    } else if digits.starts_with(region.calling) {
        digits
    } else {
        format!("{}{digits}", region.calling)
    };
    Some(format!("+{national}"))
}

/// Written forms a system may hold for one E.164 number, for searches that
/// match text exactly: the E.164 text, its digits with `00` or without a
/// prefix, the national form for `region` (trunk `0`), and for North
/// American numbers the usual punctuated forms.
pub fn phone_forms(e164: &str, region: PhoneRegion) -> Vec<String> {
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
    } else if let Some(national) = digits.strip_prefix(region.calling) {
        if region.trunk_zero {
            forms.push(format!("0{national}"));
        } else {
            forms.push(national.to_string());
        }
    }
    forms
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
    }
}
