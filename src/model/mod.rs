//! The domain model: what cioscope knows about one human.
//!
//! A [`Subject`] is one human as resolved across systems: every Customer.io
//! [`Profile`] and every [`SourceRecord`] linked to it by identity evidence
//! ([`Link`]). Rules read subjects; loaders build them.

pub mod normalize;
pub mod time;
pub mod value;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use value::RawValue;

/// One Customer.io person, as the App API describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Assigned by Customer.io, never changes.
    pub cio_id: String,
    /// The workspace's `id` identifier; `None` for email-only people.
    pub id: Option<String>,
    pub email: Option<String>,
    /// Every attribute exactly as the API sent it (always strings there).
    pub attributes: BTreeMap<String, String>,
    /// Unix seconds of the last write of each attribute.
    pub timestamps: BTreeMap<String, i64>,
    pub unsubscribed: bool,
    pub devices: Vec<Device>,
    /// Segment memberships, when they were loaded.
    pub segments: Vec<SegmentRef>,
    /// Activities, newest first as the API pages them; when loaded.
    pub activities: Vec<Activity>,
}

impl Profile {
    /// The `phone` attribute, if any (the API never puts phone in `identifiers`).
    pub fn phone(&self) -> Option<&str> {
        self.attributes
            .get("phone")
            .map(String::as_str)
            .filter(|p| !p.trim().is_empty())
    }

    /// A short label: `id`, else email, else `cio_<cio_id>`.
    pub fn label(&self) -> String {
        self.id
            .clone()
            .or_else(|| self.email.clone())
            .unwrap_or_else(|| format!("cio_{}", self.cio_id))
    }

    /// The attribute value, treating the empty string as absent.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Events (type `event`) in this profile's activity log.
    pub fn events(&self) -> impl Iterator<Item = &Activity> {
        self.activities.iter().filter(|a| a.kind == "event")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub id: String,
    pub platform: Option<String>,
    pub last_used: Option<i64>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentRef {
    pub id: i64,
    pub name: String,
}

/// One entry of a profile's activity log (`GET /v1/customers/{id}/activities`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// ULID-like activity id.
    pub id: String,
    /// `event`, `attribute_change`, `failed_event`, `profile_merge`, …
    pub kind: String,
    /// Event or screen name; `None` for most non-event activity.
    pub name: Option<String>,
    /// Unix seconds as sent. Kept raw so millisecond mistakes stay visible.
    pub timestamp: i64,
    pub data: serde_json::Value,
    /// `delivery_id` when the activity is about a message.
    pub delivery_id: Option<String>,
}

/// A row/record about a human in a source system.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// The configured source name (`shop`, `salesforce`, …).
    pub source: String,
    /// The record's customer id in that system (maps to `identity.primary`).
    pub id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Other identifiers of the record (CRM record id, …), for display.
    pub extra_ids: BTreeMap<String, String>,
    pub attributes: BTreeMap<String, RawValue>,
    /// When the source last changed the record, as sent (drives staleness).
    pub updated_at: Option<RawValue>,
    pub events: Vec<SourceEvent>,
}

impl SourceRecord {
    pub fn label(&self) -> String {
        let id = self
            .id
            .clone()
            .or_else(|| self.email.clone())
            .unwrap_or_else(|| "?".into());
        format!("{}:{}", self.source, id)
    }

    /// `updated_at` as an instant, when it parses.
    pub fn updated_at_instant(&self) -> Option<DateTime<Utc>> {
        self.updated_at
            .as_ref()
            .and_then(|v| normalize::parse_instant(v).ok())
            .map(|p| p.instant)
    }

    pub fn attribute(&self, name: &str) -> Option<&RawValue> {
        self.attributes.get(name).filter(|v| !v.is_empty())
    }
}

/// An event a source system recorded (an order, a refund, a case).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceEvent {
    pub name: String,
    pub id: Option<String>,
    pub timestamp: RawValue,
    pub properties: BTreeMap<String, RawValue>,
}

/// Which node of a subject a link touches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeRef {
    /// A Customer.io profile, by cio_id.
    Profile { cio_id: String },
    /// A source record: the source name and its index in `Subject::records`.
    Record { source: String, index: usize },
    /// The selection the operator made (`--person ID`).
    Selection { value: String },
}

/// Evidence that two nodes belong to the same human.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub from: NodeRef,
    pub to: NodeRef,
    /// `id`, `email`, `phone`, or `email~` for a Gmail-style variant.
    pub identifier: String,
    /// The normalized value that links them.
    pub value: String,
    /// Where the link was found, e.g. `GET /v1/customers?email=`.
    pub via: String,
}

/// One human as cioscope resolves it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// The checked person's `identity.primary` value (the key in reports).
    pub person: String,
    /// Every profile of this human, the primary profile first.
    pub profiles: Vec<Profile>,
    pub records: Vec<SourceRecord>,
    pub links: Vec<Link>,
    /// Sources that could not answer for this human: their absence of a
    /// record says nothing.
    #[serde(default)]
    pub unavailable: Vec<String>,
    /// Customer.io reads that failed for this human: the rules that need
    /// them do not judge it (`rules::Rule::judges`).
    #[serde(default, skip_serializing_if = "Unread::is_nothing")]
    pub unread: Unread,
    /// Profiles of *other* humans whose email differs from one of this
    /// human's only by Gmail-style dots or `+tag`: a possible split, shown
    /// by `split_identity`, never merged.
    #[serde(default)]
    pub variants: Vec<Profile>,
}

/// What could not be read of a human in Customer.io.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unread {
    /// A profile (or the search for its profiles) did not answer usably.
    #[serde(default)]
    pub profiles: bool,
    /// The activities of a profile were not read (they failed, or the
    /// human is outside a scan's event sample).
    #[serde(default)]
    pub activities: bool,
}

impl Unread {
    pub fn is_nothing(&self) -> bool {
        !self.profiles && !self.activities
    }
}

impl Subject {
    /// The primary profile (DOMAIN: the one carrying the customer key the
    /// owning source knows, else one with an id, else the oldest), when the
    /// human has a profile at all.
    pub fn primary_profile(&self) -> Option<&Profile> {
        self.profiles.first()
    }

    pub fn profile(&self, cio_id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.cio_id == cio_id)
    }

    pub fn records_of<'a>(&'a self, source: &'a str) -> impl Iterator<Item = &'a SourceRecord> {
        self.records.iter().filter(move |r| r.source == source)
    }
}
