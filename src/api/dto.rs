//! The API's documented shapes, converted from the services' views.
use super::text::Text;
use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Enum, Object};

use crate::db::entities::{api_token, organisation, user};
use crate::domain::progress::Progress;
use crate::services::assessment as a;

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

impl From<organisation::Model> for Organisation {
    fn from(o: organisation::Model) -> Self {
        Organisation { id: o.id, name: o.name, timezone: o.timezone, created_at: o.created_at }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct NewOrganisation {
    /// The organisation's name.
    pub name: Text,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct UserInfo {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// operator, advisor, hr_lead, director, manager or employee.
    pub role: String,
    pub organisation_id: Option<i64>,
    pub locale: String,
    /// False once deactivated (they cannot log in; their tokens stopped).
    pub active: bool,
}

impl From<user::Model> for UserInfo {
    fn from(u: user::Model) -> Self {
        UserInfo {
            id: u.id,
            name: u.name,
            email: u.email,
            role: u.role,
            organisation_id: u.organisation_id,
            locale: u.locale,
            active: u.active,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct UserRef {
    pub id: i64,
    pub name: String,
    pub email: String,
}

impl From<a::UserRef> for UserRef {
    fn from(u: a::UserRef) -> Self {
        UserRef { id: u.id, name: u.name, email: u.email }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct ProgressInfo {
    pub total: u64,
    pub done: u64,
    pub awaiting_review: u64,
    pub changes_requested: u64,
    pub in_progress: u64,
    pub open: u64,
    pub due: u64,
    pub percent: u32,
    /// Every item accepted (or accepted as not applicable).
    pub complete: bool,
}

impl From<Progress> for ProgressInfo {
    fn from(p: Progress) -> Self {
        ProgressInfo {
            percent: p.percent(),
            complete: p.complete(),
            total: p.total as u64,
            done: p.done as u64,
            awaiting_review: p.awaiting_review as u64,
            changes_requested: p.changes_requested as u64,
            in_progress: p.in_progress as u64,
            open: p.open as u64,
            due: p.due as u64,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct ChecklistProgress {
    /// bespreken, beschrijven, bekwamen, borgen or going-ahead.
    pub key: String,
    pub title: String,
    pub is_pillar: bool,
    pub version: String,
    pub progress: ProgressInfo,
}

impl From<a::ChecklistSummary> for ChecklistProgress {
    fn from(c: a::ChecklistSummary) -> Self {
        ChecklistProgress {
            key: c.key,
            title: c.title,
            is_pillar: c.is_pillar,
            version: c.version,
            progress: c.progress.into(),
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Overview {
    pub organisation: Organisation,
    pub checklists: Vec<ChecklistProgress>,
    pub all_pillars_complete: bool,
    pub advisors: Vec<UserRef>,
}

impl From<a::Overview> for Overview {
    fn from(o: a::Overview) -> Self {
        Overview {
            organisation: o.organisation.into(),
            checklists: o.checklists.into_iter().map(Into::into).collect(),
            all_pillars_complete: o.all_pillars_complete,
            advisors: o.advisors.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct ItemSummary {
    pub id: i64,
    pub checklist_key: String,
    pub key: String,
    pub text: String,
    pub status: String,
    pub recurrence: Option<String>,
    pub owner: Option<UserRef>,
    pub due_date: Option<NaiveDate>,
    pub overdue: bool,
    pub evidence_count: u64,
    pub status_changed_at: DateTime<Utc>,
    /// The item is no longer in the checklist; its answers are kept.
    pub archived: bool,
}

impl From<a::ItemRow> for ItemSummary {
    fn from(r: a::ItemRow) -> Self {
        ItemSummary {
            id: r.id,
            checklist_key: r.checklist_key,
            key: r.key,
            text: r.text,
            status: r.status.into(),
            recurrence: r.recurrence.map(Into::into),
            owner: r.owner.map(Into::into),
            due_date: r.due_date,
            overdue: r.overdue,
            evidence_count: r.evidence_count,
            status_changed_at: r.status_changed_at,
            archived: r.archived,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Worksheet {
    pub organisation_id: i64,
    pub checklist: ChecklistProgress,
    pub intro: String,
    pub items: Vec<ItemSummary>,
    pub archived: Vec<ItemSummary>,
}

impl From<a::Worksheet> for Worksheet {
    fn from(w: a::Worksheet) -> Self {
        Worksheet {
            organisation_id: w.organisation.id,
            checklist: w.checklist.into(),
            intro: w.intro,
            items: w.items.into_iter().map(Into::into).collect(),
            archived: w.archived.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Evidence {
    pub id: i64,
    /// note, link, file, or pulse (made by the service from a closed pulse round: a summary in
    /// `note`, the round's page in `url`, the frozen result as a PDF to download).
    pub kind: String,
    pub title: String,
    pub note: Option<String>,
    pub url: Option<String>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub size: Option<i64>,
    pub sha256: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub expired: bool,
    pub created_by: Option<UserRef>,
    pub created_at: DateTime<Utc>,
    /// The earlier version this one replaces.
    pub replaces_id: Option<i64>,
    /// Set when a newer version replaced this one.
    pub superseded_at: Option<DateTime<Utc>>,
    /// Where to download the file (files only).
    pub download_url: Option<String>,
}

impl From<a::EvidenceView> for Evidence {
    fn from(e: a::EvidenceView) -> Self {
        Evidence {
            download_url: matches!(e.kind.as_str(), "file" | "pulse")
                .then(|| format!("/api/v1/evidence/{}/download", e.id)),
            id: e.id,
            kind: e.kind,
            title: e.title,
            note: e.note,
            url: e.url,
            filename: e.filename,
            content_type: e.content_type,
            size: e.size,
            sha256: e.sha256,
            valid_from: e.valid_from,
            valid_until: e.valid_until,
            expired: e.expired,
            created_by: e.created_by.map(Into::into),
            created_at: e.created_at,
            replaces_id: e.replaces_id,
            superseded_at: e.superseded_at,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Comment {
    pub id: i64,
    pub author: Option<UserRef>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<a::CommentView> for Comment {
    fn from(c: a::CommentView) -> Self {
        Comment { id: c.id, author: c.author.map(Into::into), body: c.body, created_at: c.created_at }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct HistoryEntry {
    pub from_status: String,
    pub to_status: String,
    pub actor: Option<UserRef>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct ItemDetail {
    pub organisation_id: i64,
    pub item: ItemSummary,
    pub guidance: String,
    pub evidence_hint: String,
    pub evidence: Vec<Evidence>,
    pub previous_evidence: Vec<Evidence>,
    pub comments: Vec<Comment>,
    pub history: Vec<HistoryEntry>,
    /// The workflow steps this user can take now.
    pub actions: Vec<String>,
}

impl From<a::ItemDetail> for ItemDetail {
    fn from(d: a::ItemDetail) -> Self {
        ItemDetail {
            organisation_id: d.organisation.id,
            item: d.item.into(),
            guidance: d.guidance,
            evidence_hint: d.evidence_hint,
            evidence: d.evidence.into_iter().map(Into::into).collect(),
            previous_evidence: d.previous_evidence.into_iter().map(Into::into).collect(),
            comments: d.comments.into_iter().map(Into::into).collect(),
            history: d
                .history
                .into_iter()
                .map(|h| HistoryEntry {
                    from_status: h.from_status,
                    to_status: h.to_status,
                    actor: h.actor.map(Into::into),
                    reason: h.reason,
                    created_at: h.created_at,
                })
                .collect(),
            actions: d.actions.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum TransitionAction {
    Start,
    Submit,
    Withdraw,
    ProposeNotApplicable,
    Accept,
    RequestChanges,
    Reopen,
}

impl From<TransitionAction> for crate::domain::workflow::Action {
    fn from(a: TransitionAction) -> Self {
        use crate::domain::workflow::Action as A;
        match a {
            TransitionAction::Start => A::Start,
            TransitionAction::Submit => A::Submit,
            TransitionAction::Withdraw => A::Withdraw,
            TransitionAction::ProposeNotApplicable => A::ProposeNotApplicable,
            TransitionAction::Accept => A::Accept,
            TransitionAction::RequestChanges => A::RequestChanges,
            TransitionAction::Reopen => A::Reopen,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct TransitionRequest {
    pub action: TransitionAction,
    /// Required for propose_not_applicable, request_changes and reopen.
    pub reason: Option<Text>,
}

/// Fields not named here are refused (400), so a misspelt field never passes as "no change".
#[derive(Object)]
#[oai(rename_all = "snake_case", deny_unknown_fields)]
pub struct ItemPatch {
    /// A member of the organisation who works on items; `null` clears the owner, absent leaves it.
    pub owner_id: MaybeUndefined<i64>,
    /// YYYY-MM-DD; `null` clears it, absent leaves it.
    pub due_date: MaybeUndefined<NaiveDate>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct NewComment {
    pub body: Text,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum TextEvidenceKind {
    Note,
    Link,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct NewTextEvidence {
    pub kind: TextEvidenceKind,
    pub title: Text,
    /// The text, for a note.
    pub note: Option<Text>,
    /// An http(s) address, for a link.
    pub url: Option<Text>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// The id of the evidence this replaces; the old version is kept.
    pub replaces: Option<i64>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct QueueEntry {
    pub item_id: i64,
    pub organisation_id: i64,
    pub organisation: String,
    pub checklist_key: String,
    pub text: String,
    pub status: String,
    pub waiting_since: DateTime<Utc>,
    pub waiting_days: i64,
}

impl From<a::QueueEntry> for QueueEntry {
    fn from(q: a::QueueEntry) -> Self {
        QueueEntry {
            item_id: q.item_id,
            organisation_id: q.organisation_id,
            organisation: q.organisation,
            checklist_key: q.checklist_key,
            text: q.text,
            status: q.status.into(),
            waiting_since: q.waiting_since,
            waiting_days: q.waiting_days,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct NewInvitation {
    pub email: Text,
    pub name: Text,
    /// hr_lead, director, manager or employee (advisors: POST /advisors).
    pub role: Text,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct NewAdvisor {
    pub email: Text,
    pub name: Text,
    /// Organisations the advisor will look after from the moment they accept.
    pub organisation_ids: Option<Vec<i64>>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    pub role: Option<String>,
    pub organisation_id: Option<i64>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Assignment {
    /// An advisor with an account; or give `invitation_id`.
    pub advisor_id: Option<i64>,
    /// An advisor invited but not signed up yet (GET /advisors/invitations): they look after the
    /// organisation from the moment they accept.
    pub invitation_id: Option<i64>,
}

/// The advisors an organisation moves to: exactly these, all others stop (their queue follows).
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct AdvisorSet {
    #[oai(validator(max_items = 20))]
    pub advisor_ids: Vec<i64>,
}

/// A change to an advisor's account.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct AdvisorChange {
    /// false: deactivate (sessions and tokens stop at once); true: reactivate.
    pub active: bool,
}

/// An advisor invited by the operator who has not signed up yet.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct AdvisorInvitation {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub expired: bool,
    /// Organisations they will look after once they accept.
    pub organisation_ids: Vec<i64>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct NewToken {
    pub name: Text,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Only in the answer to POST /tokens: the secret itself, shown once.
    pub token: Option<String>,
}

impl From<api_token::Model> for Token {
    fn from(t: api_token::Model) -> Self {
        Token { id: t.id, name: t.name, created_at: t.created_at, revoked_at: t.revoked_at, token: None }
    }
}

/// A member's account status.
#[derive(Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum MemberStatus {
    Invited,
    Active,
    Deactivated,
    /// Name and address erased on request (name and email are then empty).
    Erased,
}

impl From<crate::domain::membership::MemberStatus> for MemberStatus {
    fn from(s: crate::domain::membership::MemberStatus) -> Self {
        use crate::domain::membership::MemberStatus as S;
        match s {
            S::Invited => MemberStatus::Invited,
            S::Active => MemberStatus::Active,
            S::Deactivated => MemberStatus::Deactivated,
            S::Erased => MemberStatus::Erased,
        }
    }
}

/// A member of an organisation, as HR sees them in the members list.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Member {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// hr_lead, director, manager or employee.
    pub role: String,
    pub status: MemberStatus,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Unfinished items this member owns (they need a new owner once the member is deactivated).
    pub open_items: u64,
}

impl From<crate::services::members::Member> for Member {
    fn from(m: crate::services::members::Member) -> Self {
        Member {
            id: m.id,
            name: m.name,
            email: m.email,
            role: m.role,
            status: m.status.into(),
            last_login_at: m.last_login_at,
            open_items: m.open_items,
        }
    }
}

/// A change to a member: a new role, deactivation (`active: false`) or reactivation, or both.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct MemberChange {
    pub role: Option<Text>,
    pub active: Option<bool>,
}

/// An invitation that has not been accepted or withdrawn.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct PendingInvitation {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub role: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub expired: bool,
}

impl From<crate::services::members::PendingInvitation> for PendingInvitation {
    fn from(p: crate::services::members::PendingInvitation) -> Self {
        PendingInvitation {
            id: p.id,
            email: p.email,
            name: p.name,
            role: p.role,
            created_at: p.created_at,
            expires_at: p.expires_at,
            expired: p.expired,
        }
    }
}
