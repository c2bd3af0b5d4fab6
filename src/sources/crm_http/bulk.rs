//! A scan's bulk events query: every event of every record in one paged
//! read, each row naming its record, handed to the records as they are read.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{get_path, id_text, Mapper};
use crate::model::SourceEvent;

/// The field that names an event's record when options do not say.
pub const DEFAULT_PERSON_FIELD: &str = "person";

/// The key a record's events name it by: what `:id` is bound to in its
/// events query and what `events_person_field` holds in bulk event rows —
/// the mapped customer id when `events_by_mapped_id`, else the CRM's own
/// record id (kept under `crm_id_field` among the record's ids).
pub fn events_key(
    rec: &crate::model::SourceRecord,
    events_by_mapped_id: bool,
    crm_id_field: &str,
) -> Option<String> {
    if events_by_mapped_id {
        rec.id.clone()
    } else {
        rec.extra_ids.get(crm_id_field).cloned()
    }
}

/// The lookup a record's events query is bound with: `:id` the record's
/// events key, `:email` and `:phone` its own.
pub fn events_lookup(
    rec: &crate::model::SourceRecord,
    key: Option<String>,
) -> crate::sources::Lookup {
    crate::sources::Lookup {
        id: key,
        email: rec.email.clone(),
        phone: rec.phone.clone(),
    }
}

/// Events read in bulk, by the record key each row names.
#[derive(Debug, Default)]
pub struct EventsByRecord {
    by_key: HashMap<String, Vec<SourceEvent>>,
    taken: HashSet<String>,
    /// Rows whose record field is empty.
    no_record: usize,
}

/// How a bulk events row becomes an event.
pub struct EventRows<'a> {
    pub mapper: Mapper<'a>,
    /// The field naming the record (`options.events_person_field`).
    pub person_field: &'a str,
    pub literal_name: Option<&'a str>,
    pub timestamp_field: Option<&'a str>,
}

impl EventRows<'_> {
    /// Map one row into `into`. A row without the record field at all (the
    /// query does not select it) is an error; an empty one is counted.
    /// A field named `person` (an alias) is not kept among the event's
    /// properties; a CRM field (`ContactId`) is, as when a per-record query
    /// selects it.
    pub fn add(
        &self,
        mut row: Value,
        fallback_name: Option<&str>,
        into: &mut EventsByRecord,
    ) -> Result<(), String> {
        let Some(person) = get_path(&row, self.person_field) else {
            return Err(format!(
                "a row without the `{}` field naming the record the event belongs to (options.events_person_field)",
                self.person_field
            ));
        };
        let key = id_text(person);
        if self.person_field == DEFAULT_PERSON_FIELD {
            if let Some(o) = row.as_object_mut() {
                o.retain(|k, _| !k.eq_ignore_ascii_case(DEFAULT_PERSON_FIELD));
            }
        }
        let event =
            self.mapper
                .event(&row, self.literal_name, fallback_name, self.timestamp_field)?;
        match key {
            Some(k) => into.by_key.entry(k).or_default().push(event),
            None => into.no_record += 1,
        }
        Ok(())
    }
}

impl EventsByRecord {
    /// The events naming `key` (a copy: two records may share a key).
    pub fn for_record(&mut self, key: Option<&str>) -> Vec<SourceEvent> {
        let Some(key) = key else {
            return Vec::new();
        };
        match self.by_key.get(key) {
            Some(events) => {
                self.taken.insert(key.to_string());
                events.clone()
            }
            None => Vec::new(),
        }
    }

    /// Events no record read took: their field was empty, or named a
    /// record the scan did not read.
    pub fn unowned(&self) -> usize {
        self.no_record
            + self
                .by_key
                .iter()
                .filter(|(k, _)| !self.taken.contains(*k))
                .map(|(_, v)| v.len())
                .sum::<usize>()
    }
}
