//! REST API for the recognition lifecycle, the dashboards and the exports.
use super::text::Text;
use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Attachment, AttachmentType, Binary, Json, PlainText};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};

use super::auth::ApiAuth;
use super::dto::{ChecklistProgress, Organisation, ProgressInfo, UserRef};
use super::page::{self, Cursor, Limit, Page};
use crate::domain::recognition::Gap;
use crate::error::AppError;
use crate::services::{certificate, dashboard, recognition as svc};
use crate::state::AppState;
use crate::web::i18n::normalise;

#[derive(Tags)]
enum Tag {
    /// Applying for the recognition, the advisor's decision, the certificate and its verification.
    Recognition,
    /// Dashboards, the advisor's portfolio and exports.
    Dashboards,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Recognition {
    pub id: i64,
    pub organisation_id: i64,
    pub number: String,
    pub verify_url: String,
    pub granted_at: DateTime<Utc>,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    /// The checklist versions it was granted on, by checklist key.
    pub checklist_versions: std::collections::BTreeMap<String, String>,
    /// The Going-Ahead checklist (Carer Passport scheme) was complete too.
    pub going_ahead_complete: bool,
    /// valid, at_risk, expired, revoked or renewed.
    pub standing: String,
    pub lapsed_items: u64,
    pub renewal_opens: NaiveDate,
    pub renewal_open: bool,
    pub revoked_reason: Option<String>,
}

impl From<svc::RecognitionView> for Recognition {
    fn from(r: svc::RecognitionView) -> Self {
        Recognition {
            id: r.id,
            organisation_id: r.organisation_id,
            number: r.number,
            verify_url: r.verify_url,
            granted_at: r.granted_at,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            checklist_versions: r.checklist_versions,
            going_ahead_complete: r.going_ahead_complete,
            standing: r.standing.into(),
            lapsed_items: r.lapsed_items as u64,
            renewal_opens: r.renewal_opens,
            renewal_open: r.renewal_open,
            revoked_reason: r.revoked_reason,
        }
    }
}

/// One thing that stands between the organisation and an application.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct MissingPoint {
    /// item_not_done, evidence_expired, application_pending or already_recognised.
    pub kind: String,
    pub checklist: Option<String>,
    pub item: Option<String>,
    pub item_id: Option<i64>,
    pub item_text: Option<String>,
    pub status: Option<String>,
    pub evidence_id: Option<i64>,
    pub valid_until: Option<NaiveDate>,
    pub application_id: Option<i64>,
    pub renewal_opens: Option<NaiveDate>,
}

impl From<svc::GapView> for MissingPoint {
    fn from(g: svc::GapView) -> Self {
        let mut m = MissingPoint {
            kind: String::new(),
            checklist: None,
            item: None,
            item_id: None,
            item_text: g.item_text,
            status: None,
            evidence_id: None,
            valid_until: None,
            application_id: None,
            renewal_opens: None,
        };
        match g.gap {
            Gap::ItemNotDone { checklist, item, item_id, status } => {
                m.kind = "item_not_done".into();
                (m.checklist, m.item, m.item_id, m.status) = (Some(checklist), Some(item), Some(item_id), Some(status));
            }
            Gap::EvidenceExpired { checklist, item, item_id, evidence_id, valid_until } => {
                m.kind = "evidence_expired".into();
                (m.checklist, m.item, m.item_id) = (Some(checklist), Some(item), Some(item_id));
                (m.evidence_id, m.valid_until) = (Some(evidence_id), Some(valid_until));
            }
            Gap::ApplicationPending { application_id } => {
                m.kind = "application_pending".into();
                m.application_id = Some(application_id);
            }
            Gap::AlreadyRecognised { valid_until, renewal_opens } => {
                m.kind = "already_recognised".into();
                (m.valid_until, m.renewal_opens) = (Some(valid_until), Some(renewal_opens));
            }
        }
        m
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Application {
    pub id: i64,
    pub organisation_id: i64,
    pub applicant: Option<UserRef>,
    pub motivation: String,
    pub renewal: bool,
    /// pending, granted or declined.
    pub status: String,
    pub decided_by: Option<UserRef>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub waiting_days: i64,
}

impl From<svc::ApplicationView> for Application {
    fn from(a: svc::ApplicationView) -> Self {
        Application {
            id: a.id,
            organisation_id: a.organisation_id,
            applicant: a.applicant.map(Into::into),
            motivation: a.motivation,
            renewal: a.renewal,
            status: a.status,
            decided_by: a.decided_by.map(Into::into),
            decided_at: a.decided_at,
            decision_reason: a.decision_reason,
            created_at: a.created_at,
            waiting_days: a.waiting_days,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Readiness {
    pub organisation: Organisation,
    pub eligible: bool,
    /// Exactly what is missing before the organisation can apply.
    pub missing: Vec<MissingPoint>,
    pub current: Option<Recognition>,
    pub applications: Vec<Application>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct NewApplication {
    pub motivation: Text,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum Decision {
    Grant,
    Decline,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct DecisionRequest {
    pub decision: Decision,
    /// Always required: why, and for a decline what to improve.
    pub reason: Text,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct DecisionResult {
    /// The recognition, when granted.
    pub recognition: Option<Recognition>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Reason {
    pub reason: Text,
}

/// What anyone may see of a recognition.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Verification {
    pub organisation: String,
    /// The recognition number printed on the certificate.
    pub number: String,
    pub standing: String,
    pub granted_on: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Waiting {
    pub count: u64,
    pub oldest_since: Option<DateTime<Utc>>,
    pub oldest_days: i64,
}

impl From<dashboard::Waiting> for Waiting {
    fn from(w: dashboard::Waiting) -> Self {
        Waiting { count: w.count as u64, oldest_since: w.oldest_since, oldest_days: w.oldest_days }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct ItemLine {
    pub id: i64,
    pub checklist: String,
    pub text: String,
    pub status: String,
    pub owner: Option<String>,
    /// The due date (overdue items) or the evidence's valid-until (recurring items).
    pub date: Option<NaiveDate>,
    pub recurrence: Option<String>,
}

impl From<dashboard::ItemLine> for ItemLine {
    fn from(l: dashboard::ItemLine) -> Self {
        ItemLine {
            id: l.id,
            checklist: l.checklist,
            text: l.text,
            status: l.status.into(),
            owner: l.owner,
            date: l.date,
            recurrence: l.recurrence.map(Into::into),
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct StatusCount {
    pub status: String,
    pub count: u64,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Dashboard {
    pub organisation: Organisation,
    pub checklists: Vec<ChecklistProgress>,
    /// The four pillars together.
    pub overall: ProgressInfo,
    pub by_status: Vec<StatusCount>,
    pub waiting_on_organisation: Waiting,
    pub waiting_on_advisor: Waiting,
    pub overdue: Vec<ItemLine>,
    pub next_recurring: Vec<ItemLine>,
    pub recognition: Option<Recognition>,
    /// Pillar items done now, from the history (the chart's last point).
    pub done_now: i64,
    pub generated_at: DateTime<Utc>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct PillarCell {
    pub key: String,
    pub percent: u32,
    pub complete: bool,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct PortfolioRow {
    pub organisation_id: i64,
    pub name: String,
    pub pillars: Vec<PillarCell>,
    pub percent: u32,
    pub waiting: u64,
    pub oldest_waiting_days: Option<i64>,
    pub application_pending: bool,
    pub standing: Option<String>,
    pub valid_until: Option<NaiveDate>,
    /// The recognition ends within 90 days.
    pub expiring_soon: bool,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct AdvisorLoad {
    pub advisor: UserRef,
    pub organisations: u64,
    pub waiting: u64,
    pub oldest_waiting_days: Option<i64>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct OperatorOverview {
    pub organisations: u64,
    /// The first 50 organisations without an advisor, by name.
    pub unassigned: Vec<Organisation>,
    /// How many organisations have no advisor.
    pub unassigned_total: u64,
    pub advisors: Vec<AdvisorLoad>,
}

pub struct RecognitionApi;

fn lang(q: &Option<String>) -> &'static str {
    normalise(q.as_deref())
}

#[derive(ApiResponse)]
pub enum CsvStream {
    /// CSV (UTF-8 with a byte order mark, CRLF lines), sent as it is read.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(Binary<poem::Body>),
}

#[OpenApi]
impl RecognitionApi {
    /// What is missing before the organisation can apply, the current recognition and the applications.
    #[oai(path = "/organisations/:id/readiness", method = "get", tag = "Tag::Recognition")]
    async fn readiness(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        lang: Query<Option<String>>,
    ) -> poem::Result<Json<Readiness>> {
        let r = svc::readiness(&state, &auth.0, id.0, self::lang(&lang)).await?;
        Ok(Json(Readiness {
            organisation: r.organisation.into(),
            eligible: r.eligible,
            missing: r.gaps.into_iter().map(Into::into).collect(),
            current: r.current.map(Into::into),
            applications: r.applications.into_iter().map(Into::into).collect(),
        }))
    }

    /// Applies (or applies for renewal). Refused with 422 and the list of what is missing when not eligible.
    #[oai(path = "/organisations/:id/recognition/applications", method = "post", tag = "Tag::Recognition")]
    async fn apply(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<NewApplication>,
    ) -> poem::Result<Json<Application>> {
        let a = svc::apply(&state, &auth.0, id.0, &body.motivation).await?;
        let views = svc::readiness(&state, &auth.0, id.0, "nl").await?.applications;
        let view = views.into_iter().find(|v| v.id == a.id).ok_or(AppError::NotFound)?;
        Ok(Json(view.into()))
    }

    /// The assigned advisor grants or declines a pending application, with a reason.
    #[oai(path = "/recognition-applications/:id/decision", method = "post", tag = "Tag::Recognition")]
    async fn decide(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<DecisionRequest>,
    ) -> poem::Result<Json<DecisionResult>> {
        let granted = svc::decide(&state, &auth.0, id.0, body.decision == Decision::Grant, &body.reason).await?;
        let recognition = match granted {
            Some(r) => svc::current(&state, r.organisation_id).await?.map(Into::into),
            None => None,
        };
        Ok(Json(DecisionResult { recognition }))
    }

    /// The organisation's current recognition.
    #[oai(path = "/organisations/:id/recognition", method = "get", tag = "Tag::Recognition")]
    async fn current(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> poem::Result<Json<Recognition>> {
        let (_, r) = svc::certificate(&state, &auth.0, id.0).await?;
        Ok(Json(r.into()))
    }

    /// The certificate as PDF.
    #[oai(path = "/organisations/:id/recognition/certificate.pdf", method = "get", tag = "Tag::Recognition")]
    async fn certificate(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        lang: Query<Option<String>>,
    ) -> poem::Result<Attachment<Vec<u8>>> {
        let (o, r) = svc::certificate(&state, &auth.0, id.0).await?;
        let texts = crate::web::recognition::texts(&state, self::lang(&lang), &r);
        let bytes = certificate::render_pdf_off_runtime(o.name, r.clone(), texts).await?;
        Ok(Attachment::new(bytes).attachment_type(AttachmentType::Attachment).filename(format!("{}.pdf", r.number)))
    }

    /// The assigned advisor revokes the recognition, with a reason.
    #[oai(path = "/recognitions/:id/revoke", method = "post", tag = "Tag::Recognition")]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<Reason>,
    ) -> poem::Result<()> {
        Ok(svc::revoke(&state, &auth.0, id.0, &body.reason).await?)
    }

    /// Public, without a token: the standing of a recognition by the code on its certificate.
    #[oai(path = "/verify/:code", method = "get", tag = "Tag::Recognition")]
    async fn verify(&self, state: Data<&AppState>, code: Path<String>) -> poem::Result<Json<Verification>> {
        let v = svc::verify(&state, &code.0).await?;
        Ok(Json(Verification {
            organisation: v.organisation,
            number: v.number,
            standing: v.standing.into(),
            granted_on: v.granted_on,
            valid_from: v.valid_from,
            valid_until: v.valid_until,
        }))
    }

    /// The director's dashboard.
    #[oai(path = "/organisations/:id/dashboard", method = "get", tag = "Tag::Dashboards")]
    async fn dashboard(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        lang: Query<Option<String>>,
    ) -> poem::Result<Json<Dashboard>> {
        let d = dashboard::director(&state, &auth.0, id.0, self::lang(&lang)).await?;
        Ok(Json(Dashboard {
            organisation: d.organisation.into(),
            checklists: d.checklists.into_iter().map(Into::into).collect(),
            overall: d.overall.into(),
            by_status: d
                .by_status
                .into_iter()
                .map(|s| StatusCount { status: s.status.into(), count: s.count as u64 })
                .collect(),
            waiting_on_organisation: d.waiting_on_organisation.into(),
            waiting_on_advisor: d.waiting_on_advisor.into(),
            overdue: d.overdue.into_iter().map(Into::into).collect(),
            next_recurring: d.next_recurring.into_iter().map(Into::into).collect(),
            recognition: d.recognition.map(Into::into),
            done_now: d.chart.current,
            generated_at: d.generated_at,
        }))
    }

    /// The organisation's items as CSV (status, owner, dates, evidence).
    #[oai(path = "/organisations/:id/export.csv", method = "get", tag = "Tag::Dashboards")]
    async fn export(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        lang: Query<Option<String>>,
    ) -> poem::Result<PlainText<String>> {
        let (_, body) = dashboard::export_csv(&state, &auth.0, id.0, self::lang(&lang)).await?;
        Ok(PlainText(body))
    }

    /// All organisations of the advisor: progress per pillar, waiting items, recognition.
    #[oai(path = "/portfolio", method = "get", tag = "Tag::Dashboards")]
    #[allow(clippy::too_many_arguments)] // one argument per documented query parameter
    async fn portfolio(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        /// name, progress, waiting, oldest or expiry
        sort: Query<Option<String>>,
        desc: Query<Option<bool>>,
        q: Query<Option<String>>,
        waiting: Query<Option<bool>>,
        expiring: Query<Option<bool>>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> poem::Result<Json<Page<PortfolioRow>>> {
        let query =
            dashboard::PortfolioQuery { sort: sort.0, desc: desc.0, q: q.0, waiting: waiting.0, expiring: expiring.0 };
        let page = page::request(&query.list(), limit.0, cursor.0)?;
        let rows = dashboard::portfolio(&state, &auth.0, "nl", &query, &page).await?;
        Ok(Json(Page::of(rows, |r| PortfolioRow {
            organisation_id: r.organisation_id,
            name: r.name,
            pillars: r
                .pillars
                .into_iter()
                .map(|p| PillarCell { key: p.key, percent: p.percent, complete: p.complete })
                .collect(),
            percent: r.percent,
            waiting: r.waiting as u64,
            oldest_waiting_days: r.oldest_waiting_days,
            application_pending: r.application_pending,
            standing: r.standing.map(Into::into),
            valid_until: r.valid_until,
            expiring_soon: r.expiring_soon,
        })))
    }

    /// The advisor's portfolio as CSV, sorted and filtered as `/portfolio` is: one line per
    /// organisation (progress per pillar, waiting items, recognition), streamed whatever their
    /// number.
    #[oai(path = "/portfolio/export.csv", method = "get", tag = "Tag::Dashboards")]
    #[allow(clippy::too_many_arguments)] // one argument per documented query parameter
    async fn portfolio_export(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        /// name, progress, waiting, oldest or expiry
        sort: Query<Option<String>>,
        desc: Query<Option<bool>>,
        q: Query<Option<String>>,
        waiting: Query<Option<bool>>,
        expiring: Query<Option<bool>>,
    ) -> poem::Result<CsvStream> {
        let query =
            dashboard::PortfolioQuery { sort: sort.0, desc: desc.0, q: q.0, waiting: waiting.0, expiring: expiring.0 };
        let rows = dashboard::portfolio_csv(state.clone(), auth.0.clone(), "nl".into(), query).await?;
        Ok(CsvStream::Ok(Binary(poem::Body::from_bytes_stream(rows))))
    }

    /// Organisations and advisors with their workload (operators).
    #[oai(path = "/operator/overview", method = "get", tag = "Tag::Dashboards")]
    async fn operator(&self, state: Data<&AppState>, auth: ApiAuth) -> poem::Result<Json<OperatorOverview>> {
        let o = dashboard::operator(&state, &auth.0).await?;
        Ok(Json(OperatorOverview {
            organisations: o.organisations as u64,
            unassigned: o.unassigned.into_iter().map(Into::into).collect(),
            unassigned_total: o.unassigned_total as u64,
            advisors: o
                .advisors
                .into_iter()
                .map(|a| AdvisorLoad {
                    advisor: a.advisor.into(),
                    organisations: a.organisations as u64,
                    waiting: a.waiting as u64,
                    oldest_waiting_days: a.oldest_waiting_days,
                })
                .collect(),
        }))
    }
}
