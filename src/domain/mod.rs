//! Domain rules in plain Rust: no HTTP, no database. Checklists, the item workflow, pillar
//! progress, roles and the permission policy.
pub mod checklist;
pub mod email;
pub mod passport;
pub mod policy;
pub mod progress;
pub mod role;
pub mod workflow;
