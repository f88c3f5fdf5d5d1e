//! Working Carers Passport rules in plain Rust: what a passport holds, when it counts as
//! confirmed, when a review is due, and how counts are suppressed so no person can be singled
//! out (a count below five is shown as "fewer than 5").
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::role::Role;
use crate::error::FieldError;

/// Counts below this are never shown.
pub const SUPPRESS_BELOW: u64 = 5;
/// A review reminder goes out this many days before the review date.
pub const REMINDER_DAYS_AHEAD: i64 = 14;
/// Longest free text per field.
pub const MAX_TEXT: usize = 4000;
/// Most arrangements in one passport.
pub const MAX_ARRANGEMENTS: usize = 20;

/// A count as it may be shown: exact, or only "fewer than 5".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Count {
    Exact(u64),
    FewerThan(u64),
}

impl Count {
    pub fn exact(self) -> Option<u64> {
        match self {
            Count::Exact(n) => Some(n),
            Count::FewerThan(_) => None,
        }
    }
}

/// Small-number suppression: below five becomes "fewer than 5" (zero too, so that a gap between
/// two figures never tells a count of one).
pub fn suppress(count: u64) -> Count {
    if count < SUPPRESS_BELOW { Count::FewerThan(SUPPRESS_BELOW) } else { Count::Exact(count) }
}

/// Counts per department, suppressed. Departments below five are pooled under `None` ("other
/// departments"); when that pool would itself be shown as "fewer than 5" while the others are
/// exact, the smallest exact departments join it, so the pool cannot be worked out by subtracting
/// the shown figures from a total.
pub fn by_department(counts: Vec<(String, u64)>) -> Vec<(Option<String>, Count)> {
    by_department_with_pool(counts, 0)
}

/// The same, with `unassigned` people already in the pool (those without a department).
pub fn by_department_with_pool(counts: Vec<(String, u64)>, unassigned: u64) -> Vec<(Option<String>, Count)> {
    let mut exact: Vec<(String, u64)> = vec![];
    let mut other = unassigned;
    for (dept, n) in counts {
        if n == 0 {
            continue;
        }
        if n < SUPPRESS_BELOW { other += n } else { exact.push((dept, n)) }
    }
    exact.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    while other > 0 && other < SUPPRESS_BELOW {
        match exact.pop() {
            Some((_, n)) => other += n,
            None => break,
        }
    }
    let mut out: Vec<(Option<String>, Count)> = exact.into_iter().map(|(d, n)| (Some(d), suppress(n))).collect();
    if other > 0 {
        out.push((None, suppress(other)));
    }
    out
}

/// Who stands on which side of the agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Carer,
    Manager,
    /// HR reads a copy (with the carer's consent) but is not a party.
    Hr,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Carer => "carer",
            Side::Manager => "manager",
            Side::Hr => "hr",
        }
    }

    pub fn is_party(self) -> bool {
        matches!(self, Side::Carer | Side::Manager)
    }
}

/// The common kinds of arrangement (seed 000/002 and DOMAIN.md), each with free-text details.
pub const ARRANGEMENT_KINDS: [&str; 7] =
    ["phone", "flexible_start", "work_from_home", "leave", "emergency_plan", "time_made_up", "other"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrangement {
    pub kind: String,
    #[serde(default)]
    pub details: String,
}

/// The free text of one version: encrypted as a whole before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Content {
    /// The caring situation in the carer's own words; the carer decides how much to say.
    #[serde(default)]
    pub situation: String,
    #[serde(default)]
    pub arrangements: Vec<Arrangement>,
    /// Support signposted: employee assistance, local carers organisation, ...
    #[serde(default)]
    pub support: String,
}

impl Content {
    /// Trims the text, drops empty arrangements and checks lengths and kinds.
    pub fn parse(mut self) -> Result<Content, Vec<FieldError>> {
        let mut errors = vec![];
        self.situation = self.situation.trim().to_string();
        self.support = self.support.trim().to_string();
        if self.situation.chars().count() > MAX_TEXT {
            errors.push(FieldError::new("situation", "text_too_long"));
        }
        if self.support.chars().count() > MAX_TEXT {
            errors.push(FieldError::new("support", "text_too_long"));
        }
        let mut arrangements = vec![];
        for a in self.arrangements {
            let kind = a.kind.trim().to_string();
            let details = a.details.trim().to_string();
            if kind.is_empty() && details.is_empty() {
                continue;
            }
            if !ARRANGEMENT_KINDS.contains(&kind.as_str()) {
                errors.push(FieldError::new("arrangements", "arrangement_kind_unknown"));
            } else if details.chars().count() > MAX_TEXT {
                errors.push(FieldError::new("arrangements", "text_too_long"));
            }
            arrangements.push(Arrangement { kind, details });
        }
        if arrangements.len() > MAX_ARRANGEMENTS {
            errors.push(FieldError::new("arrangements", "too_many_arrangements"));
        }
        self.arrangements = arrangements;
        if errors.is_empty() { Ok(self) } else { Err(errors) }
    }
}

/// Where the current version stands: confirmed once both carer and manager confirmed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Draft,
    Confirmed,
}

pub fn state(carer_confirmed: bool, manager_confirmed: bool) -> State {
    if carer_confirmed && manager_confirmed { State::Confirmed } else { State::Draft }
}

/// The next yearly review from a day.
pub fn next_review(from: NaiveDate) -> NaiveDate {
    from.checked_add_months(Months::new(12)).unwrap_or(from)
}

/// A review is due from a few days ahead of its date (so the reminder and the figures agree).
pub fn review_due(review_date: NaiveDate, today: NaiveDate) -> bool {
    review_date <= today + chrono::Duration::days(REMINDER_DAYS_AHEAD)
}

/// A review date must lie ahead, and not further than two years.
pub fn check_review_date(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    if date <= today {
        return Err(FieldError::new("review_date", "review_date_past"));
    }
    if date > today + chrono::Duration::days(2 * 366) {
        return Err(FieldError::new("review_date", "review_date_too_far"));
    }
    Ok(date)
}

/// Someone proposed as a carer's line manager, as the rule below needs to see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagerCandidate {
    pub user_id: i64,
    pub role: Option<Role>,
    pub active: bool,
    pub organisation_id: Option<i64>,
}

/// Only an active user with the manager role in the carer's own organisation can be the carer's
/// manager, never the carer themselves: the manager reads the passport, so making an HR lead or a
/// director "manager" would let them read what the carer did not share with them. `field` is the
/// form field the refusal belongs to. Someone outside the organisation is "unknown", so the
/// answer tells nothing about other organisations.
pub fn check_manager(
    carer_id: i64,
    organisation_id: i64,
    candidate: Option<&ManagerCandidate>,
    field: &str,
) -> Result<(), FieldError> {
    let Some(c) = candidate.filter(|c| c.organisation_id == Some(organisation_id) && c.user_id != carer_id) else {
        return Err(FieldError::new(field, "manager_unknown"));
    };
    if !c.active {
        return Err(FieldError::new(field, "manager_inactive"));
    }
    if c.role != Some(Role::Manager) {
        return Err(FieldError::new(field, "manager_role_required"));
    }
    Ok(())
}

/// Shortest passphrase that seals an exported passport file. The file may be copied anywhere, and
/// the passphrase is all that stands between a copy and the carer's text.
pub const MIN_PASSPHRASE: usize = 12;
/// Longest passphrase accepted (the key derivation reads all of it).
pub const MAX_PASSPHRASE: usize = 200;

/// A passphrase the carer chooses for an exported file: long enough to resist guessing offline.
pub fn check_passphrase(passphrase: &str) -> Result<(), FieldError> {
    let n = passphrase.chars().count();
    if n < MIN_PASSPHRASE {
        return Err(FieldError::new("passphrase", "passphrase_too_short"));
    }
    if n > MAX_PASSPHRASE {
        return Err(FieldError::new("passphrase", "passphrase_too_long"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_below_five_are_fewer_than_five_and_five_is_shown() {
        assert_eq!(suppress(0), Count::FewerThan(5));
        assert_eq!(suppress(4), Count::FewerThan(5));
        assert_eq!(suppress(5), Count::Exact(5));
        assert_eq!(suppress(12), Count::Exact(12));
    }

    #[test]
    fn small_departments_are_pooled_and_the_pool_cannot_be_derived() {
        let out = by_department(vec![("Zorg".into(), 9), ("ICT".into(), 2), ("Facilitair".into(), 6)]);
        // ICT (2) alone would be "fewer than 5" and derivable from the total: Facilitair joins it.
        assert_eq!(out, vec![(Some("Zorg".into()), Count::Exact(9)), (None, Count::Exact(8))]);
        let out = by_department(vec![("A".into(), 3), ("B".into(), 1)]);
        assert_eq!(out, vec![(None, Count::FewerThan(5))]);
        let out = by_department(vec![("A".into(), 5), ("B".into(), 7)]);
        assert_eq!(out, vec![(Some("B".into()), Count::Exact(7)), (Some("A".into()), Count::Exact(5))]);
    }

    #[test]
    fn both_sides_must_confirm() {
        assert_eq!(state(true, false), State::Draft);
        assert_eq!(state(false, true), State::Draft);
        assert_eq!(state(true, true), State::Confirmed);
    }

    #[test]
    fn content_drops_empty_arrangements_and_rejects_unknown_kinds() {
        let c = Content {
            situation: "  mijn moeder  ".into(),
            arrangements: vec![
                Arrangement { kind: "phone".into(), details: "bellen mag".into() },
                Arrangement { kind: "".into(), details: " ".into() },
            ],
            support: String::new(),
        };
        let c = c.parse().unwrap();
        assert_eq!(c.situation, "mijn moeder");
        assert_eq!(c.arrangements.len(), 1);
        let bad =
            Content { arrangements: vec![Arrangement { kind: "x".into(), details: "y".into() }], ..Default::default() };
        assert!(bad.parse().is_err());
    }

    #[test]
    fn review_is_due_two_weeks_ahead_and_dates_must_lie_ahead() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert!(review_due(today + chrono::Duration::days(14), today));
        assert!(!review_due(today + chrono::Duration::days(15), today));
        assert_eq!(next_review(today), NaiveDate::from_ymd_opt(2027, 3, 2).unwrap());
        assert!(check_review_date(today, today).is_err());
        assert!(check_review_date(next_review(today), today).is_ok());
    }

    #[test]
    fn only_an_active_manager_of_the_same_organisation_can_be_a_carers_manager() {
        let manager =
            ManagerCandidate { user_id: 2, role: Some(Role::Manager), active: true, organisation_id: Some(1) };
        assert_eq!(check_manager(10, 1, Some(&manager), "manager_id"), Ok(()));
        let code = |c: Option<&ManagerCandidate>| check_manager(10, 1, c, "manager_id").map_err(|e| e.code);
        for role in [Role::HrLead, Role::Director, Role::Employee, Role::Advisor, Role::Operator] {
            assert_eq!(code(Some(&ManagerCandidate { role: Some(role), ..manager })), Err("manager_role_required"));
        }
        assert_eq!(code(Some(&ManagerCandidate { active: false, ..manager })), Err("manager_inactive"));
        assert_eq!(code(Some(&ManagerCandidate { organisation_id: Some(2), ..manager })), Err("manager_unknown"));
        assert_eq!(code(Some(&ManagerCandidate { organisation_id: None, ..manager })), Err("manager_unknown"));
        assert_eq!(code(Some(&ManagerCandidate { user_id: 10, ..manager })), Err("manager_unknown"));
        assert_eq!(code(None), Err("manager_unknown"));
        let err = check_manager(10, 1, None, "to_manager_id").unwrap_err();
        assert_eq!(err.field, "to_manager_id");
    }

    #[test]
    fn a_passphrase_has_at_least_twelve_characters() {
        assert!(check_passphrase("kort").is_err());
        assert!(check_passphrase("elf tekens!").is_err());
        assert!(check_passphrase("twaalf teken").is_ok());
        assert_eq!(check_passphrase(&"x".repeat(201)).unwrap_err().code, "passphrase_too_long");
    }
}
