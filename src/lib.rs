//! Tradelane: a carrier and EDI integration gateway.
//!
//! Layout (dependencies point down this list, never up):
//! * [`app`]: wires store, outbox and HTTP server from a [`config::Config`];
//! * [`cli`]: the `tradelane` command line (`serve`, `keys`, `x12`);
//! * [`http`]: routes, authentication, problem+json errors;
//! * [`flow`]: what a request does (receive X12, send documents), in one transaction each;
//! * [`outbox`]: delivery with leases, retries, backoff, rate limits and dead letters;
//! * [`store`]: SQLite / PostgreSQL persistence;
//! * [`customs`]: customs declarations, their validation and the US export filing rules;
//! * [`mapping`]: X12 ⇄ canonical model, driven by partner profiles from `mappings/`;
//! * [`replenishment`]: dealer policies, supersessions and the order they call for (pure);
//! * [`model`]: canonical business documents (purchase order, ship notice, invoice, acks);
//! * [`x12`]: the X12 engine (tokenizer, envelopes, schemas, validation, acks, writer);
//!   it knows nothing of the rest of the crate.

pub mod app;
pub mod calendar;
pub mod cli;
pub mod config;
pub mod connectors;
pub mod customs;
pub mod flow;
pub mod http;
pub mod mapping;
pub mod metrics;
pub mod model;
pub mod outbox;
pub mod replenishment;
pub mod store;
pub mod x12;
