//! One sea-orm entity per table; the queries live in `services`.
pub mod advisor_assignment;
pub mod api_token;
pub mod audit_log;
pub mod comment;
pub mod evidence;
pub mod evidence_file;
pub mod item;
pub mod item_transition;
pub mod one_time_token;
pub mod organisation;
pub mod outbox;
pub mod recognition;
pub mod recognition_application;
pub mod recognition_event;
pub mod session;
pub mod setting;
pub mod user;
