//! Identity copies of a scan's profiles and records: exactly what forming
//! humans reads (`resolve::human::Graph`), with every string in one text
//! arena. The whole profiles and records stay in the store; a million
//! profiles and as many records cost here about a hundred bytes each.

use std::borrow::Cow;
use std::sync::Arc;

use crate::config::Identity;
use crate::model::{normalize, Profile, SourceRecord};
use crate::resolve::human::{created_at_of, Graph, ProfileKeys, RecordKeys};

/// A string in the arena: start (40 bits) and length (24 bits); all ones
/// for none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span(u64);

impl Span {
    const NONE: Span = Span(u64::MAX);
    const MAX_LEN: usize = (1 << 24) - 1;
}

#[derive(Debug, Clone)]
struct ProfileIdent {
    /// Its number in the store (`scan_profiles.n`).
    n: i64,
    cio_id: Span,
    id: Span,
    email: Span,
    email_key: Span,
    phone_key: Span,
    created_at: i64,
}

#[derive(Debug, Clone)]
struct RecordIdent {
    source: u32,
    /// Its number in the store (`scan_records.n`).
    n: i64,
    id: Span,
    email: Span,
    phone: Span,
    email_key: Span,
    phone_key: Span,
}

/// The identity copies of everything a scan read.
#[derive(Debug, Default)]
pub struct Idents {
    text: String,
    profiles: Vec<ProfileIdent>,
    records: Vec<RecordIdent>,
    sources: Vec<Arc<str>>,
    /// Profiles added by [`Idents::add_unread`].
    unread: i64,
}

impl Idents {
    fn put(&mut self, s: Option<&str>) -> Span {
        let Some(s) = s else {
            return Span::NONE;
        };
        // An identifier longer than 16 MB is not one; keep its start.
        let mut end = s.len().min(Span::MAX_LEN);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let s = &s[..end];
        let start = self.text.len() as u64;
        self.text.push_str(s);
        Span((start << 24) | s.len() as u64)
    }

    /// `key` in the arena, sharing `raw`'s span when they are the same text.
    fn put_key(&mut self, raw: Option<&str>, raw_span: Span, key: Option<String>) -> Span {
        match key {
            Some(k) if Some(k.as_str()) == raw => raw_span,
            other => self.put(other.as_deref()),
        }
    }

    fn get(&self, span: Span) -> Option<&str> {
        if span == Span::NONE {
            return None;
        }
        let start = (span.0 >> 24) as usize;
        let len = (span.0 & Span::MAX_LEN as u64) as usize;
        Some(&self.text[start..start + len])
    }

    /// Profile `n` (its number in the store).
    pub fn add_profile(&mut self, n: i64, p: &Profile, identity: &Identity) {
        let cio_id = self.put(Some(&p.cio_id));
        let id = self.put(p.id.as_deref());
        let email = self.put(p.email.as_deref());
        let email_key = self.put_key(
            p.email.as_deref(),
            email,
            p.email.as_deref().and_then(normalize::email),
        );
        let phone_key = self.put(p.phone().and_then(|ph| identity.phone(ph)).as_deref());
        self.profiles.push(ProfileIdent {
            n,
            cio_id,
            id,
            email,
            email_key,
            phone_key,
            created_at: created_at_of(p.attribute("created_at")),
        });
    }

    /// A listed profile whose attributes could not be read: what the
    /// listing said of it (cio_id, id, email) stands for it, so it joins
    /// its human, which then is not judged on a gap. It is numbered below
    /// zero (nothing of it is stored).
    pub fn add_unread(&mut self, r: &crate::customerio::PersonRef, identity: &Identity) {
        let stub = Profile {
            cio_id: r.cio_id.clone(),
            id: r.id.clone(),
            email: r.email.clone(),
            ..Default::default()
        };
        self.unread += 1;
        self.add_profile(-self.unread, &stub, identity);
    }

    /// Whether profile `i` stands for one that could not be read.
    pub fn is_unread(&self, i: u32) -> bool {
        self.profiles[i as usize].n < 0
    }

    /// Unread profiles the listing gave neither an id nor an email: the
    /// human they belong to cannot be told.
    pub fn unplaced_unread(&self) -> usize {
        self.profiles
            .iter()
            .filter(|p| p.n < 0 && self.get(p.id).is_none() && self.get(p.email).is_none())
            .count()
    }

    /// Profile `i` as the listing knew it: cio_id, id and email only.
    pub fn stub(&self, i: u32) -> Profile {
        let p = &self.profiles[i as usize];
        Profile {
            cio_id: self.get(p.cio_id).unwrap_or_default().to_string(),
            id: self.get(p.id).map(str::to_string),
            email: self.get(p.email).map(str::to_string),
            ..Default::default()
        }
    }

    /// Record `n` of `source` (its number in the store).
    pub fn add_record(&mut self, source: &str, n: i64, r: &SourceRecord, identity: &Identity) {
        let source = match self.sources.iter().position(|s| &**s == source) {
            Some(i) => i as u32,
            None => {
                self.sources.push(Arc::from(source));
                (self.sources.len() - 1) as u32
            }
        };
        let id = self.put(r.id.as_deref());
        let email = self.put(r.email.as_deref());
        let phone = self.put(r.phone.as_deref());
        let email_key = self.put_key(
            r.email.as_deref(),
            email,
            r.email.as_deref().and_then(normalize::email),
        );
        let phone_key = self.put_key(
            r.phone.as_deref(),
            phone,
            r.phone.as_deref().and_then(|ph| identity.phone(ph)),
        );
        self.records.push(RecordIdent {
            source,
            n,
            id,
            email,
            phone,
            email_key,
            phone_key,
        });
    }

    /// How many records are held (a mark for [`Self::truncate_records`]).
    pub fn records_len(&self) -> usize {
        self.records.len()
    }

    /// Forget the records added after `mark` (a read that failed).
    pub fn truncate_records(&mut self, mark: usize) {
        self.records.truncate(mark);
    }

    pub fn cio_id(&self, i: u32) -> &str {
        self.get(self.profiles[i as usize].cio_id)
            .unwrap_or_default()
    }

    /// Where profile `i` is stored (its n).
    pub fn profile_n(&self, i: u32) -> i64 {
        self.profiles[i as usize].n
    }

    /// Where record `i` is stored: (source, n).
    pub fn stored_as(&self, i: u32) -> (&Arc<str>, i64) {
        let r = &self.records[i as usize];
        (&self.sources[r.source as usize], r.n)
    }

    /// Each profile's keys, in the order added.
    pub fn each_profile(&self) -> impl Iterator<Item = ProfileKeys<'_>> {
        (0..self.profiles.len()).map(|i| self.profile(i))
    }
}

impl Graph for Idents {
    fn profile_count(&self) -> usize {
        self.profiles.len()
    }

    fn record_count(&self) -> usize {
        self.records.len()
    }

    fn profile(&self, i: usize) -> ProfileKeys<'_> {
        let p = &self.profiles[i];
        ProfileKeys {
            cio_id: self.get(p.cio_id).unwrap_or_default(),
            id: self.get(p.id),
            email: self.get(p.email),
            email_key: self.get(p.email_key).map(Cow::Borrowed),
            phone_key: self.get(p.phone_key).map(Cow::Borrowed),
            created_at: p.created_at,
        }
    }

    fn record(&self, i: usize) -> RecordKeys<'_> {
        let r = &self.records[i];
        RecordKeys {
            source: &self.sources[r.source as usize],
            id: self.get(r.id),
            email: self.get(r.email),
            phone: self.get(r.phone),
            email_key: self.get(r.email_key).map(Cow::Borrowed),
            phone_key: self.get(r.phone_key).map(Cow::Borrowed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_copies_read_back_as_the_whole_ones_do() {
        let identity = Identity::default();
        let mut p = Profile {
            cio_id: "a1".into(),
            id: Some(" C1 ".into()),
            email: Some("Pat@Example.com".into()),
            ..Default::default()
        };
        p.attributes.insert("phone".into(), "(555) 100-0037".into());
        p.attributes
            .insert("created_at".into(), "1600000000".into());
        let r = SourceRecord {
            source: "shop".into(),
            id: Some("C1".into()),
            email: Some("pat@example.com".into()),
            ..Default::default()
        };
        let mut idents = Idents::default();
        idents.add_profile(3, &p, &identity);
        idents.add_record("shop", 7, &r, &identity);
        let whole = ProfileKeys::of(&p, &identity);
        let copy = idents.profile(0);
        assert_eq!(copy.cio_id, whole.cio_id);
        assert_eq!(copy.id, whole.id);
        assert_eq!(copy.email, whole.email);
        assert_eq!(copy.email_key, whole.email_key);
        assert_eq!(copy.phone_key, whole.phone_key);
        assert_eq!(copy.phone_key.as_deref(), Some("+15551000037"));
        assert_eq!(copy.created_at, 1_600_000_000);
        let whole = RecordKeys::of(&r, &identity);
        let copy = idents.record(0);
        assert_eq!(copy.source, "shop");
        assert_eq!(copy.email_key, whole.email_key);
        assert_eq!(copy.id, whole.id);
        assert_eq!(idents.stored_as(0).1, 7);
        assert_eq!(idents.profile_n(0), 3);
    }
}
