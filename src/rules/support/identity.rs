//! Identifiers: a profile's email, evidence of profiles and records, the
//! record of a source that speaks about a profile.

use serde_json::{json, Value as Json};

use crate::model::normalize;
use crate::model::{Profile, SourceRecord, Subject};

/// The profile's normalized email: identifiers first, else the attribute.
pub fn profile_email(p: &Profile) -> Option<String> {
    p.email
        .as_deref()
        .or_else(|| p.attributes.get("email").map(String::as_str))
        .and_then(normalize::email)
}

pub fn profile_json(p: &Profile) -> Json {
    json!({ "cio_id": p.cio_id, "id": p.id, "email": p.email })
}

pub fn record_json(r: &SourceRecord) -> Json {
    json!({ "source": r.source, "id": r.id, "email": r.email, "phone": r.phone })
}

/// Where the subject's identity evidence says `identifier = value` was found.
pub fn link_via<'a>(subject: &'a Subject, identifier: &str, value: &str) -> Option<&'a str> {
    subject
        .links
        .iter()
        .find(|l| l.identifier == identifier && l.value.eq_ignore_ascii_case(value))
        .map(|l| l.via.as_str())
}

/// The record of `source` that speaks about `profile`: the one sharing its
/// id or email, else the first one holding `attribute`.
pub fn owner_record<'a>(
    subject: &'a Subject,
    source: &'a str,
    profile: Option<&Profile>,
    attribute: &str,
) -> Option<&'a SourceRecord> {
    let mut holding = subject
        .records
        .iter()
        .filter(|r| r.source == source && r.attribute(attribute).is_some());
    let first = holding.next()?;
    let Some(second) = holding.next() else {
        return Some(first);
    };
    let Some(p) = profile else {
        return Some(first);
    };
    let email = profile_email(p);
    let speaks_about = |r: &&SourceRecord| {
        (p.id.is_some() && r.id.as_deref().map(str::trim) == p.id.as_deref().map(str::trim))
            || (email.is_some() && r.email.as_deref().and_then(normalize::email) == email)
    };
    [first, second]
        .into_iter()
        .chain(holding)
        .find(speaks_about)
        .or(Some(first))
}
