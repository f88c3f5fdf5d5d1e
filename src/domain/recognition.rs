//! The recognition "Wij werken mantelzorgvriendelijk!": who may apply, and what state a granted
//! recognition is in on a given day.
use chrono::{Days, NaiveDate};
use serde::Serialize;

/// Renewal opens this many days before a recognition ends.
pub const RENEWAL_WINDOW_DAYS: i64 = 90;

/// Something that stands between the organisation and an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gap {
    /// An item of a pillar that is not accepted yet.
    ItemNotDone { checklist: String, item: String, item_id: i64, status: String },
    /// Accepted evidence whose validity has ended.
    EvidenceExpired { checklist: String, item: String, item_id: i64, evidence_id: i64, valid_until: NaiveDate },
    /// An application is already waiting for the advisor.
    ApplicationPending { application_id: i64 },
    /// The organisation holds a valid recognition that is not yet in its renewal window.
    AlreadyRecognised { valid_until: NaiveDate, renewal_opens: NaiveDate },
}

/// Eligible when nothing stands in the way.
pub fn eligible(gaps: &[Gap]) -> bool {
    gaps.is_empty()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Valid,
    /// A recurring item lapsed; valid again once fresh evidence is accepted.
    AtRisk,
    Expired,
    Revoked,
    /// A renewal took its place.
    Renewed,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Valid => "valid",
            Standing::AtRisk => "at_risk",
            Standing::Expired => "expired",
            Standing::Revoked => "revoked",
            Standing::Renewed => "renewed",
        }
    }
}

/// What decides a granted recognition's standing on a day.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub revoked: bool,
    pub renewed: bool,
    /// Pillar items whose accepted evidence lapsed, or that fell back to due.
    pub lapsed_items: usize,
}

pub fn standing(f: Facts, today: NaiveDate) -> Standing {
    if f.revoked {
        Standing::Revoked
    } else if today > f.valid_until {
        Standing::Expired
    } else if f.renewed {
        Standing::Renewed
    } else if f.lapsed_items > 0 {
        Standing::AtRisk
    } else {
        Standing::Valid
    }
}

/// The day renewal opens for a recognition valid until `valid_until`.
pub fn renewal_opens(valid_until: NaiveDate) -> NaiveDate {
    valid_until - chrono::Duration::days(RENEWAL_WINDOW_DAYS)
}

/// A renewal is open from 90 days before the end (also after expiry).
pub fn renewal_open(valid_until: NaiveDate, today: NaiveDate) -> bool {
    today >= renewal_opens(valid_until)
}

/// Valid-until of a recognition granted on `granted` for `years` (the day before the anniversary).
pub fn valid_until(granted: NaiveDate, years: u32) -> NaiveDate {
    granted
        .checked_add_months(chrono::Months::new(12 * years))
        .and_then(|d| d.checked_sub_days(Days::new(1)))
        .unwrap_or(granted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn facts() -> Facts {
        Facts {
            valid_from: d(2026, 1, 1),
            valid_until: d(2028, 12, 31),
            revoked: false,
            renewed: false,
            lapsed_items: 0,
        }
    }

    #[test]
    fn a_lapsed_item_puts_a_recognition_at_risk_until_it_is_fresh_again() {
        assert_eq!(standing(Facts { lapsed_items: 1, ..facts() }, d(2027, 1, 1)), Standing::AtRisk);
        assert_eq!(standing(facts(), d(2027, 1, 1)), Standing::Valid);
    }

    #[test]
    fn expiry_and_revocation_win_over_everything() {
        assert_eq!(standing(Facts { lapsed_items: 2, ..facts() }, d(2029, 1, 1)), Standing::Expired);
        assert_eq!(standing(Facts { revoked: true, ..facts() }, d(2027, 1, 1)), Standing::Revoked);
        assert_eq!(standing(facts(), d(2028, 12, 31)), Standing::Valid, "valid on its last day");
    }

    #[test]
    fn three_years_end_the_day_before_the_anniversary_and_renewal_opens_90_days_earlier() {
        assert_eq!(valid_until(d(2026, 3, 2), 3), d(2029, 3, 1));
        assert_eq!(renewal_opens(d(2029, 3, 1)), d(2028, 12, 1));
        assert!(!renewal_open(d(2029, 3, 1), d(2028, 11, 30)));
        assert!(renewal_open(d(2029, 3, 1), d(2028, 12, 1)));
    }

    #[test]
    fn nothing_missing_means_eligible() {
        assert!(eligible(&[]));
        assert!(!eligible(&[Gap::ApplicationPending { application_id: 1 }]));
    }
}
