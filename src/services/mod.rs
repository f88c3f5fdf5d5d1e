//! The use cases, shared by pages, API, jobs and commands. Each checks the policy first, then
//! reads or changes the database, and records every change in the audit log.
pub mod accounts;
pub mod assessment;
pub mod attention;
pub mod audit;
pub mod calendar;
pub mod certificate;
pub mod crypto;
pub mod dashboard;
pub mod erasure;
pub mod evidence;
pub mod housekeeping;
pub mod members;
pub mod notifications;
pub mod organisations;
pub mod passport;
pub mod passport_crypto;
pub mod passport_pdf;
pub mod pdf;
pub mod progress;
pub mod pulse;
pub mod pulse_pdf;
pub mod recognition;
pub mod review_mail;
pub mod throttle;

use crate::domain::policy::Denied;
use crate::error::AppError;

impl From<Denied> for AppError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::NotFound => AppError::NotFound,
            Denied::Forbidden => AppError::Forbidden,
        }
    }
}
