//! Domain rules in plain Rust: no HTTP, no database. Checklists, the item workflow, pillar
//! progress, roles and the permission policy.
pub mod chart;
pub mod checklist;
pub mod dates;
pub mod email;
pub mod membership;
pub mod page;
pub mod passport;
pub mod policy;
pub mod progress;
pub mod pulse;
pub mod recognition;
pub mod revision;
pub mod role;
pub mod schedule;
pub mod text;
pub mod workflow;
