//! Pillar progress and completion, derived from item statuses.
use serde::Serialize;

use super::workflow::ItemStatus;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub total: usize,
    pub done: usize,
    pub awaiting_review: usize,
    pub changes_requested: usize,
    pub in_progress: usize,
    pub open: usize,
    pub due: usize,
}

impl Progress {
    pub fn from_statuses(statuses: impl IntoIterator<Item = ItemStatus>) -> Progress {
        let mut p = Progress::default();
        for s in statuses {
            p.add(s);
        }
        p
    }

    pub fn add(&mut self, s: ItemStatus) {
        self.total += 1;
        match s {
            ItemStatus::Accepted | ItemStatus::NotApplicable => self.done += 1,
            ItemStatus::Submitted | ItemStatus::NotApplicableProposed => self.awaiting_review += 1,
            ItemStatus::ChangesRequested => self.changes_requested += 1,
            ItemStatus::InProgress => self.in_progress += 1,
            ItemStatus::Open => self.open += 1,
            ItemStatus::Due => self.due += 1,
        }
    }

    /// A pillar is complete when every item in it is accepted (or accepted as not applicable).
    pub fn complete(&self) -> bool {
        self.total > 0 && self.done == self.total
    }

    pub fn percent(&self) -> u32 {
        (self.done * 100).checked_div(self.total).unwrap_or(0) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ItemStatus as S;

    #[test]
    fn a_pillar_is_complete_only_when_every_item_is_done() {
        assert!(Progress::from_statuses([S::Accepted, S::NotApplicable]).complete());
        assert!(!Progress::from_statuses([S::Accepted, S::NotApplicableProposed]).complete());
        assert!(!Progress::from_statuses([S::Accepted, S::Due]).complete());
        assert!(!Progress::from_statuses([]).complete());
    }

    #[test]
    fn percent_counts_done_items() {
        let p = Progress::from_statuses([S::Accepted, S::Open, S::Submitted, S::InProgress]);
        assert_eq!((p.percent(), p.awaiting_review), (25, 1));
    }
}
