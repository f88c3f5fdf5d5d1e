//! The journey of one item (PRODUCT.md): which status may move to which, by whom, and what a
//! move needs. Anything else is refused here, before anything is stored.
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Open,
    InProgress,
    Submitted,
    ChangesRequested,
    Accepted,
    NotApplicableProposed,
    NotApplicable,
    /// Accepted once, but its evidence lapsed: fresh evidence is due.
    Due,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 8] = [
        ItemStatus::Open,
        ItemStatus::InProgress,
        ItemStatus::Submitted,
        ItemStatus::ChangesRequested,
        ItemStatus::Accepted,
        ItemStatus::NotApplicableProposed,
        ItemStatus::NotApplicable,
        ItemStatus::Due,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Open => "open",
            ItemStatus::InProgress => "in_progress",
            ItemStatus::Submitted => "submitted",
            ItemStatus::ChangesRequested => "changes_requested",
            ItemStatus::Accepted => "accepted",
            ItemStatus::NotApplicableProposed => "not_applicable_proposed",
            ItemStatus::NotApplicable => "not_applicable",
            ItemStatus::Due => "due",
        }
    }

    pub fn parse(s: &str) -> Option<ItemStatus> {
        ItemStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Counts towards a complete pillar.
    pub fn is_done(self) -> bool {
        matches!(self, ItemStatus::Accepted | ItemStatus::NotApplicable)
    }

    /// The statuses that wait for the advisor.
    pub const WAITING: [ItemStatus; 2] = [ItemStatus::Submitted, ItemStatus::NotApplicableProposed];

    /// Waits for the advisor.
    pub fn awaits_review(self) -> bool {
        matches!(self, ItemStatus::Submitted | ItemStatus::NotApplicableProposed)
    }
}

/// Who moves items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The organisation's HR lead.
    Organisation,
    /// The assigned advisor.
    Advisor,
    /// The service itself (a lapsing validity date).
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Start,
    Submit,
    Withdraw,
    ProposeNotApplicable,
    Accept,
    RequestChanges,
    Reopen,
    Lapse,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Start,
        Action::Submit,
        Action::Withdraw,
        Action::ProposeNotApplicable,
        Action::Accept,
        Action::RequestChanges,
        Action::Reopen,
        Action::Lapse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Submit => "submit",
            Action::Withdraw => "withdraw",
            Action::ProposeNotApplicable => "propose_not_applicable",
            Action::Accept => "accept",
            Action::RequestChanges => "request_changes",
            Action::Reopen => "reopen",
            Action::Lapse => "lapse",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn side(self) -> Side {
        match self {
            Action::Start | Action::Submit | Action::Withdraw | Action::ProposeNotApplicable | Action::Reopen => {
                Side::Organisation
            }
            Action::Accept | Action::RequestChanges => Side::Advisor,
            Action::Lapse => Side::System,
        }
    }

    /// A reason is required where the other side must understand the move.
    pub fn needs_reason(self) -> bool {
        matches!(self, Action::ProposeNotApplicable | Action::RequestChanges | Action::Reopen)
    }
}

/// What the item looks like when a move is asked for.
#[derive(Debug, Clone, Copy)]
pub struct ItemFacts {
    pub status: ItemStatus,
    /// Current (not replaced) evidence attached to the item.
    pub evidence_count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("an item that is {from} cannot be moved with \"{action}\"")]
    NotAllowed { from: &'static str, action: &'static str },
    #[error("attach evidence before submitting the item")]
    NoEvidence,
    #[error("give a reason for this step")]
    ReasonRequired,
}

/// The status after `action`, or why the move is refused. Who may ask for it (the side) is
/// checked by the policy; this answers only whether the item may move.
pub fn transition(facts: ItemFacts, action: Action, reason: Option<&str>) -> Result<ItemStatus, TransitionError> {
    use ItemStatus as S;
    let from = facts.status;
    let to = match (action, from) {
        // After changes were requested (or evidence lapsed) the item is already being worked on:
        // evidence can be added and the item submitted again without "starting" it.
        (Action::Start, S::Open) => S::InProgress,
        (Action::Submit, S::Open | S::InProgress | S::ChangesRequested | S::Due) => S::Submitted,
        (Action::Withdraw, S::Submitted | S::NotApplicableProposed) => S::InProgress,
        (Action::ProposeNotApplicable, S::Open | S::InProgress | S::ChangesRequested) => S::NotApplicableProposed,
        (Action::Accept, S::Submitted) => S::Accepted,
        (Action::Accept, S::NotApplicableProposed) => S::NotApplicable,
        (Action::RequestChanges, S::Submitted | S::NotApplicableProposed) => S::ChangesRequested,
        (Action::Reopen, S::Accepted | S::NotApplicable) => S::InProgress,
        (Action::Lapse, S::Accepted) => S::Due,
        _ => return Err(TransitionError::NotAllowed { from: from.as_str(), action: action.as_str() }),
    };
    if action.needs_reason() && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(TransitionError::ReasonRequired);
    }
    if action == Action::Submit && facts.evidence_count == 0 {
        return Err(TransitionError::NoEvidence);
    }
    Ok(to)
}

/// The moves open to `side` from `status`, for offering only buttons that will work.
pub fn available_actions(status: ItemStatus, side: Side) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| a.side() == side)
        .filter(|a| {
            let facts = ItemFacts { status, evidence_count: 1 };
            transition(facts, *a, Some("x")).is_ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ItemStatus as S;

    fn with_evidence(status: ItemStatus) -> ItemFacts {
        ItemFacts { status, evidence_count: 1 }
    }

    #[test]
    fn the_happy_path_reaches_accepted() {
        let s = transition(with_evidence(S::Open), Action::Start, None).unwrap();
        let s = transition(with_evidence(s), Action::Submit, None).unwrap();
        let s = transition(with_evidence(s), Action::RequestChanges, Some("more detail")).unwrap();
        assert_eq!(s, S::ChangesRequested);
        let s = transition(with_evidence(s), Action::Submit, None).unwrap();
        assert_eq!(transition(with_evidence(s), Action::Accept, None).unwrap(), S::Accepted);
    }

    #[test]
    fn submitting_needs_evidence() {
        let facts = ItemFacts { status: S::InProgress, evidence_count: 0 };
        assert_eq!(transition(facts, Action::Submit, None), Err(TransitionError::NoEvidence));
    }

    #[test]
    fn not_applicable_counts_only_once_accepted() {
        let s = transition(with_evidence(S::Open), Action::ProposeNotApplicable, Some("no managers")).unwrap();
        assert!(!s.is_done());
        assert!(transition(with_evidence(s), Action::Accept, None).unwrap().is_done());
    }

    #[test]
    fn requesting_changes_needs_a_reason() {
        let r = transition(with_evidence(S::Submitted), Action::RequestChanges, Some("  "));
        assert_eq!(r, Err(TransitionError::ReasonRequired));
    }

    #[test]
    fn illegal_moves_are_refused() {
        for (from, action) in [
            (S::Open, Action::Accept),
            (S::Accepted, Action::Submit),
            (S::InProgress, Action::RequestChanges),
            (S::NotApplicable, Action::Lapse),
        ] {
            assert!(matches!(
                transition(with_evidence(from), action, Some("r")),
                Err(TransitionError::NotAllowed { .. })
            ));
        }
    }

    #[test]
    fn lapsed_evidence_makes_an_accepted_item_due_and_it_can_be_submitted_again() {
        let s = transition(with_evidence(S::Accepted), Action::Lapse, None).unwrap();
        assert_eq!(s, S::Due);
        assert_eq!(transition(with_evidence(s), Action::Submit, None).unwrap(), S::Submitted);
    }

    #[test]
    fn each_side_is_offered_only_its_moves() {
        assert_eq!(available_actions(S::Submitted, Side::Advisor), vec![Action::Accept, Action::RequestChanges]);
        assert_eq!(available_actions(S::Submitted, Side::Organisation), vec![Action::Withdraw]);
    }

    #[test]
    fn an_item_with_changes_requested_is_submitted_again_without_starting_it_anew() {
        let offered = available_actions(S::ChangesRequested, Side::Organisation);
        assert!(!offered.contains(&Action::Start), "{offered:?}");
        assert!(offered.contains(&Action::Submit));
        assert!(!available_actions(S::Due, Side::Organisation).contains(&Action::Start));
    }
}
