//! Plumbing shared by the CRM connectors ([`super::salesforce`],
//! [`super::zoho`]): the HTTP layer and its recorded-fixture twin, binding
//! `:id`/`:email`/`:phone` as escaped query literals, typing JSON values,
//! mapping CRM records to [`SourceRecord`]s, retry delays and secrets.
//!
//! The HTTP layer is the [`Transport`] enum. [`Transport::Http`] sends real
//! requests; [`Transport::Fixture`] answers the *same* requests from recorded
//! files, so fixture mode runs the connectors' own token, paging, error and
//! mapping code. A [`Request`] carries its [`Purpose`] (token, people lookup,
//! events of one record, next page) — the HTTP variant ignores it, the
//! fixture uses it to pick the records to answer with.
//!
//! Fixture directory layout (see also `tests/data/crm/README.md`):
//!
//! - `records.json` — a JSON array of raw CRM records exactly as the API
//!   returns them inside `records` (Salesforce) or `data` (Zoho). A record
//!   answers a lookup when any known identifier matches: `id` against the
//!   fields mapped to `id` in `[sources.fields]` (else the CRM record id),
//!   `email` case-insensitively against the fields mapped to `email` (else
//!   `Email`), `phone` by digits against the fields mapped to `phone` (else
//!   `Phone`).
//! - `events.json` (optional) — a JSON array of raw event records. Each names
//!   its parent in `_parent_id` (or the field named by the option
//!   `fixture_parent_field`; a Zoho lookup object `{"id": …}` also works):
//!   the value the events query binds to `:id` (by default the parent's CRM
//!   record id). `_parent_id` is removed before mapping. A scan's bulk
//!   events query gets every event, `_parent_id` served as `person` (the
//!   default field naming the record, `options.events_person_field`).
//!
//! By seam: [`transport`] (HTTP and fixture answers), [`fixture`] (the
//! recorded data), [`retry`], [`options`], [`literals`] (binding, and the
//! WHERE rewrite of `config::crm_query`), [`mapper`], [`bulk`] (a scan's
//! bulk events) and [`token`].

pub mod bulk;
pub mod fixture;
pub mod literals;
pub mod mapper;
pub mod options;
pub mod retry;
pub mod token;
pub mod transport;

pub use bulk::*;
pub use fixture::*;
pub use literals::*;
pub use mapper::*;
pub use options::*;
pub use retry::*;
pub use token::*;
pub use transport::*;
