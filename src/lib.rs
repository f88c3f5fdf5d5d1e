//! carer-friendly: takes employers through the Werk&Mantelzorg self-assessment (four pillars and
//! the Going-Ahead checklist) to a recognition as a carer-friendly organisation.
//!
//! `domain` holds the rules (no I/O), `db` the persistence, `services` the use cases, `web` the
//! HTML pages and `api` the REST API over the same services, both behind `http` (headers, rate
//! and body limits, CSRF); `mail` the outbox; `jobs` the recurring attention driven by the scheduler;
//! `resources` the templates and checklists built into the binary; `memory` the allocator's set-up.
pub mod api;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod memory;
pub mod metrics;
pub mod resources;
pub mod services;
pub mod startup;
pub mod state;
pub mod web;
