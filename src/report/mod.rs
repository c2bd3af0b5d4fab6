//! Reports: one set of result structures, many formats (table, JSON,
//! Markdown, CSV). The TUI reads the same structures.

pub mod findings;
pub mod text;
