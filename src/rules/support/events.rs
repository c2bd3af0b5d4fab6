//! Walking a subject's events: Customer.io's activities and the sources'
//! events, with their focus and evidence.

use serde_json::{json, Value as Json};

use super::*;
use crate::config::Config;
use crate::model::{Activity, Profile, SourceEvent, SourceRecord, Subject};
use crate::rules::Focus;

/// A Customer.io event (activity of kind `event`) and the profile it sits on.
#[derive(Clone, Copy)]
pub struct CioEvent<'a> {
    pub profile: &'a Profile,
    pub activity: &'a Activity,
    pub name: &'a str,
}

impl<'a> CioEvent<'a> {
    pub fn focus(&self) -> Focus {
        Focus::Activity {
            id: self.activity.id.clone(),
        }
    }

    /// One copy of the event for evidence.
    pub fn json(&self) -> Json {
        json!({
            "activity_id": self.activity.id,
            "name": self.name,
            "profile": self.profile.cio_id,
            "timestamp": unix_json(self.activity.timestamp),
        })
    }

    pub fn property(&self, key: &str) -> Option<&'a Json> {
        data_field(&self.activity.data, key)
    }
}

/// Every event on every profile of the subject (unnamed events skipped).
pub fn cio_events(subject: &Subject) -> impl Iterator<Item = CioEvent<'_>> {
    subject.profiles.iter().flat_map(|profile| {
        profile.activities.iter().filter_map(move |activity| {
            if !matches!(activity.kind.as_bytes(), b"event") {
                return None;
            }
            let name = activity.name.as_deref()?;
            Some(CioEvent {
                profile,
                activity,
                name,
            })
        })
    })
}

/// [`cio_events`] collected, allocated once.
pub fn cio_event_list(subject: &Subject) -> Vec<CioEvent<'_>> {
    let mut list = Vec::with_capacity(subject.profiles.iter().map(|p| p.activities.len()).sum());
    list.extend(cio_events(subject));
    list
}

/// An event a source recorded, with its position in the subject.
#[derive(Clone, Copy)]
pub struct SrcEvent<'a> {
    pub record_index: usize,
    pub record: &'a SourceRecord,
    pub event_index: usize,
    pub event: &'a SourceEvent,
}

impl<'a> SrcEvent<'a> {
    pub fn focus(&self) -> Focus {
        Focus::SourceEvent {
            source: self.record.source.clone(),
            record: self.record_index,
            event: self.event_index,
        }
    }

    pub fn json(&self) -> Json {
        json!({
            "source": self.record.source,
            "record": self.record.label(),
            "event_id": self.event.id,
            "name": self.event.name,
            "timestamp": raw_time_json(&self.event.timestamp),
        })
    }
}

pub fn source_events(subject: &Subject) -> impl Iterator<Item = SrcEvent<'_>> {
    subject
        .records
        .iter()
        .enumerate()
        .flat_map(|(record_index, record)| {
            record
                .events
                .iter()
                .enumerate()
                .map(move |(event_index, event)| SrcEvent {
                    record_index,
                    record,
                    event_index,
                    event,
                })
        })
}

/// Is `name` the event `target` or one of its aliases (either way round)?
pub fn is_event(config: &Config, name: &str, target: &str) -> bool {
    name == target || config.canonical_event(name) == config.canonical_event(target)
}

pub fn record_focus(subject: &Subject, record: &SourceRecord) -> Focus {
    let index = subject
        .records
        .iter()
        .position(|r| std::ptr::eq(r, record))
        .unwrap_or(0);
    Focus::Record {
        source: record.source.clone(),
        record: index,
    }
}
