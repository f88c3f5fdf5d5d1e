//! Post/redirect/get with a confirmation: a form that succeeded redirects to the page it belongs
//! to with `?done=<what>`, and that page shows the confirmation at the top in the reader's
//! language. Only the confirmations listed here are shown, so a link cannot put words on a page.
use poem::Response;

use crate::domain::workflow::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    ItemStarted,
    ItemSubmitted,
    ItemWithdrawn,
    NotApplicableProposed,
    ItemAccepted,
    ChangesRequested,
    ItemReopened,
    AcceptedNext,
    ChangesRequestedNext,
    ItemsAccepted,
    QueueEmpty,
    DetailsSaved,
    CommentAdded,
    EvidenceAdded,
    OrganisationCreated,
    AdvisorInvited,
    AdvisorAssigned,
    MemberInvited,
    RoleChanged,
    Deactivated,
    Reactivated,
    InvitationResent,
    InvitationWithdrawn,
    TokenRevoked,
    MomentAdded,
    MomentRemoved,
    SettingsSaved,
    PreferencesSaved,
    MarkedRead,
    JobRun,
    MailRetried,
    MailDiscarded,
    ConsentGiven,
    ConsentWithdrawn,
    PassportStarted,
    PassportSaved,
    PassportConfirmed,
    PassportReviewed,
    PassportImported,
    LineSaved,
    HandedOver,
    RecognitionApplied,
    RecognitionDecided,
    RecognitionRevoked,
    PasswordSet,
    ResetRequested,
    MemberErased,
    AdvisorUnassigned,
    AdvisorMoved,
    PulseOpened,
    PulseClosed,
    PulseEvidenceAttached,
}

impl Done {
    const ALL: [Done; 52] = [
        Done::ItemStarted,
        Done::ItemSubmitted,
        Done::ItemWithdrawn,
        Done::NotApplicableProposed,
        Done::ItemAccepted,
        Done::ChangesRequested,
        Done::ItemReopened,
        Done::AcceptedNext,
        Done::ChangesRequestedNext,
        Done::ItemsAccepted,
        Done::QueueEmpty,
        Done::DetailsSaved,
        Done::CommentAdded,
        Done::EvidenceAdded,
        Done::OrganisationCreated,
        Done::AdvisorInvited,
        Done::AdvisorAssigned,
        Done::MemberInvited,
        Done::RoleChanged,
        Done::Deactivated,
        Done::Reactivated,
        Done::InvitationResent,
        Done::InvitationWithdrawn,
        Done::TokenRevoked,
        Done::MomentAdded,
        Done::MomentRemoved,
        Done::SettingsSaved,
        Done::PreferencesSaved,
        Done::MarkedRead,
        Done::JobRun,
        Done::MailRetried,
        Done::MailDiscarded,
        Done::ConsentGiven,
        Done::ConsentWithdrawn,
        Done::PassportStarted,
        Done::PassportSaved,
        Done::PassportConfirmed,
        Done::PassportReviewed,
        Done::PassportImported,
        Done::LineSaved,
        Done::HandedOver,
        Done::RecognitionApplied,
        Done::RecognitionDecided,
        Done::RecognitionRevoked,
        Done::PasswordSet,
        Done::ResetRequested,
        Done::MemberErased,
        Done::AdvisorUnassigned,
        Done::AdvisorMoved,
        Done::PulseOpened,
        Done::PulseClosed,
        Done::PulseEvidenceAttached,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Done::ItemStarted => "started",
            Done::ItemSubmitted => "submitted",
            Done::ItemWithdrawn => "withdrawn_item",
            Done::NotApplicableProposed => "not_applicable_proposed",
            Done::ItemAccepted => "accepted",
            Done::ChangesRequested => "changes_requested",
            Done::ItemReopened => "reopened",
            Done::AcceptedNext => "accepted_next",
            Done::ChangesRequestedNext => "changes_requested_next",
            Done::ItemsAccepted => "items_accepted",
            Done::QueueEmpty => "queue_empty",
            Done::DetailsSaved => "details_saved",
            Done::CommentAdded => "comment_added",
            Done::EvidenceAdded => "evidence_added",
            Done::OrganisationCreated => "organisation_created",
            Done::AdvisorInvited => "advisor_invited",
            Done::AdvisorAssigned => "advisor_assigned",
            Done::MemberInvited => "member_invited",
            Done::RoleChanged => "role_changed",
            Done::Deactivated => "deactivated",
            Done::Reactivated => "reactivated",
            Done::InvitationResent => "resent",
            Done::InvitationWithdrawn => "withdrawn",
            Done::TokenRevoked => "token_revoked",
            Done::MomentAdded => "moment_added",
            Done::MomentRemoved => "moment_removed",
            Done::SettingsSaved => "settings_saved",
            Done::PreferencesSaved => "preferences_saved",
            Done::MarkedRead => "marked_read",
            Done::JobRun => "job_run",
            Done::MailRetried => "mail_retried",
            Done::MailDiscarded => "mail_discarded",
            Done::ConsentGiven => "consent_given",
            Done::ConsentWithdrawn => "consent_withdrawn",
            Done::PassportStarted => "passport_started",
            Done::PassportSaved => "passport_saved",
            Done::PassportConfirmed => "passport_confirmed",
            Done::PassportReviewed => "passport_reviewed",
            Done::PassportImported => "passport_imported",
            Done::LineSaved => "line_saved",
            Done::HandedOver => "handed_over",
            Done::RecognitionApplied => "recognition_applied",
            Done::RecognitionDecided => "recognition_decided",
            Done::RecognitionRevoked => "recognition_revoked",
            Done::PasswordSet => "password_set",
            Done::ResetRequested => "reset_requested",
            Done::MemberErased => "erased",
            Done::AdvisorUnassigned => "advisor_unassigned",
            Done::AdvisorMoved => "advisor_moved",
            Done::PulseOpened => "pulse_opened",
            Done::PulseClosed => "pulse_closed",
            Done::PulseEvidenceAttached => "pulse_evidence_attached",
        }
    }

    pub fn parse(s: &str) -> Option<Done> {
        Done::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The text shown for it (`done.<key>` in the translations).
    pub fn text_key(self) -> String {
        format!("done.{}", self.as_str())
    }

    pub fn after(action: Action) -> Done {
        match action {
            Action::Start => Done::ItemStarted,
            Action::Submit => Done::ItemSubmitted,
            Action::Withdraw => Done::ItemWithdrawn,
            Action::ProposeNotApplicable => Done::NotApplicableProposed,
            Action::Accept => Done::ItemAccepted,
            Action::RequestChanges => Done::ChangesRequested,
            Action::Reopen | Action::Lapse => Done::ItemReopened,
        }
    }

    /// The same decision, said on the next item of the queue the advisor is sent on to.
    pub fn next_in_queue(self) -> Done {
        match self {
            Done::ItemAccepted => Done::AcceptedNext,
            Done::ChangesRequested => Done::ChangesRequestedNext,
            other => other,
        }
    }

    /// Every key, for the test that each has a text in both languages.
    pub fn all_keys() -> Vec<String> {
        Done::ALL.iter().map(|d| d.text_key()).collect()
    }
}

/// `to` with `done=<what>` added to its query, before any `#fragment`.
pub fn with_done(to: &str, done: Done) -> String {
    let (path, fragment) = match to.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (to, None),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = format!("{path}{sep}done={}", done.as_str());
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// A 303 to `to`, where the page will confirm what was done.
pub fn redirect_done(to: &str, done: Done) -> Response {
    super::redirect(&with_done(to, done))
}

/// The confirmation a page shows, from its `done` query parameter.
pub fn from_query(query: &str) -> Option<Done> {
    url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "done").and_then(|(_, v)| Done::parse(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirmation_goes_into_the_query_before_the_fragment() {
        assert_eq!(with_done("/items/3", Done::ItemSubmitted), "/items/3?done=submitted");
        assert_eq!(with_done("/items/3#evidence-4", Done::EvidenceAdded), "/items/3?done=evidence_added#evidence-4");
        assert_eq!(
            with_done("/passports/1?version=2", Done::PassportSaved),
            "/passports/1?version=2&done=passport_saved"
        );
    }

    #[test]
    fn only_known_confirmations_are_read_back() {
        assert_eq!(from_query("done=submitted"), Some(Done::ItemSubmitted));
        assert_eq!(from_query("version=2&done=passport_saved"), Some(Done::PassportSaved));
        assert_eq!(from_query("done=<script>"), None);
        assert_eq!(from_query(""), None);
        for d in Done::ALL {
            assert_eq!(Done::parse(d.as_str()), Some(d));
        }
    }
}
