//! cioscope: the health of the data a company feeds into Customer.io, side
//! by side with the systems it comes from. See ARCHITECTURE.md.

pub mod check;
pub mod cli;
pub mod config;
pub mod customerio;
pub mod engine;
pub mod exit;
pub mod http;
pub mod lock;
pub mod logging;
pub mod model;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod sanitize;
pub mod scan;
pub mod signals;
pub mod sources;
pub mod spotcheck;
pub mod store;
pub mod tui;
pub mod warehouse;
pub mod why;
