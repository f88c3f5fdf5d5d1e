//! Working Carers Passports over the REST API: consent, passports and their versions,
//! confirmations, reviews, the access log, exports, transfer codes and import, reporting lines and
//! handovers (HR), and the aggregate figures.
//!
//! A passport that the caller may not read answers 404, whoever asks and whatever the path:
//! its existence is not revealed. Counts are objects: `{"value": 12}`, or `{"fewer_than": 5}`
//! for any count below five.
use super::text::Text;
use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Attachment, AttachmentType, Json};
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use super::auth::ApiAuth;
use super::page::{self, Cursor, Limit, Page};
use crate::domain::passport::{self as rules, Arrangement, Content, Count};
use crate::domain::revision::IfMatch;
use crate::services::passport::{self as svc, Channel, ImportSource};
use crate::state::AppState;
use crate::web::i18n::normalise;

type Result<T> = poem::Result<Json<T>>;

#[derive(Tags)]
enum Tag {
    /// Working Carers Passports: confidential agreements between a carer and their manager.
    Passports,
}

pub struct PassportApi;

impl From<svc::Line> for LineDto {
    fn from(l: svc::Line) -> Self {
        LineDto {
            user: PersonDto { id: l.user.id, name: l.user.name },
            role: l.role,
            manager: l.manager.map(|m| PersonDto { id: m.id, name: m.name }),
            department: l.department,
        }
    }
}

#[derive(ApiResponse)]
pub enum PassportResponse {
    /// The passport; `ETag` names its state, for `If-Match` on a change.
    #[oai(status = 200)]
    Ok(Json<Passport>, #[oai(header = "ETag")] String),
}

/// The caller's consent to being recorded as a carer.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Consent {
    /// HR may read a copy of the passport.
    pub hr_copy: bool,
    /// Counted anonymously in the organisation's figures, also after withdrawing.
    pub statistics: bool,
    pub consented_at: Option<DateTime<Utc>>,
}

/// One agreed arrangement.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct ArrangementDto {
    /// phone, flexible_start, work_from_home, leave, emergency_plan, time_made_up or other.
    pub kind: Text,
    /// What was agreed, in free text.
    #[oai(default)]
    pub details: Text,
}

/// What a passport says (stored encrypted).
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct PassportContent {
    /// The caring situation in the carer's own words: only what the carer wants to share.
    #[oai(default)]
    pub situation: Text,
    #[oai(default)]
    pub arrangements: Vec<ArrangementDto>,
    /// Support signposted: employee assistance, local carers organisation, ...
    #[oai(default)]
    pub support: Text,
    /// YYYY-MM-DD; a year from today when left out.
    pub review_date: Option<NaiveDate>,
}

impl PassportContent {
    fn into_draft(self) -> svc::Draft {
        svc::Draft {
            content: Content {
                situation: self.situation.into(),
                arrangements: self
                    .arrangements
                    .into_iter()
                    .map(|a| Arrangement { kind: a.kind.into(), details: a.details.into() })
                    .collect(),
                support: self.support.into(),
            },
            review_date: self.review_date,
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct NewPassport {
    /// The carer: leave out for your own passport; a manager gives a team member's id (who must
    /// have consented).
    pub carer_id: Option<i64>,
    #[oai(flatten)]
    pub content: PassportContent,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Created {
    pub id: i64,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct PersonDto {
    pub id: i64,
    pub name: String,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct ConfirmationDto {
    /// carer or manager.
    pub side: String,
    pub name: Option<String>,
    pub confirmed_at: DateTime<Utc>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct VersionDto {
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub review_date: NaiveDate,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct HandoverDto {
    pub from_manager: Option<String>,
    pub to_manager: Option<String>,
    /// manager_changed or manager_left.
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A passport at one version, as its reader may see it.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Passport {
    pub id: i64,
    pub carer: PersonDto,
    pub manager: Option<PersonDto>,
    pub organisation: String,
    /// created, or imported from another organisation.
    pub origin: String,
    /// The version shown.
    pub version: i32,
    pub current_version: i32,
    pub situation: String,
    pub arrangements: Vec<ArrangementDto>,
    pub support: String,
    pub review_date: NaiveDate,
    pub review_due: bool,
    /// draft (not yet confirmed by both) or confirmed.
    pub state: String,
    /// Confirmations of the version shown.
    pub confirmations: Vec<ConfirmationDto>,
    pub versions: Vec<VersionDto>,
    pub handovers: Vec<HandoverDto>,
    /// Your side: carer, manager or hr.
    pub side: String,
    pub may_confirm: bool,
}

fn state_str(s: rules::State) -> String {
    match s {
        rules::State::Draft => "draft".into(),
        rules::State::Confirmed => "confirmed".into(),
    }
}

impl From<svc::PassportView> for Passport {
    fn from(v: svc::PassportView) -> Self {
        Passport {
            id: v.id,
            carer: PersonDto { id: v.carer.id, name: v.carer.name },
            manager: v.manager.map(|m| PersonDto { id: m.id, name: m.name }),
            organisation: v.organisation,
            origin: v.origin,
            version: v.version,
            current_version: v.current_version,
            situation: v.content.situation,
            arrangements: v
                .content
                .arrangements
                .into_iter()
                .map(|a| ArrangementDto { kind: a.kind.into(), details: a.details.into() })
                .collect(),
            support: v.content.support,
            review_date: v.review_date,
            review_due: v.review_due,
            state: state_str(v.state),
            confirmations: v
                .confirmations
                .into_iter()
                .map(|c| ConfirmationDto { side: c.side, name: c.name, confirmed_at: c.confirmed_at })
                .collect(),
            versions: v
                .versions
                .into_iter()
                .map(|r| VersionDto {
                    version: r.version,
                    created_at: r.created_at,
                    created_by: r.created_by,
                    review_date: r.review_date,
                })
                .collect(),
            handovers: v
                .handovers
                .into_iter()
                .map(|h| HandoverDto {
                    from_manager: h.from_manager,
                    to_manager: h.to_manager,
                    reason: h.reason,
                    at: h.at,
                })
                .collect(),
            side: v.side.as_str().into(),
            may_confirm: v.may_confirm,
        }
    }
}

/// A passport you may read, without its content.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct PassportSummary {
    pub id: i64,
    pub carer: PersonDto,
    pub side: String,
    pub version: i32,
    pub state: String,
    pub review_date: NaiveDate,
    pub review_due: bool,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Confirm {
    /// The version you read and confirm; a passport changed in between answers 409.
    pub version: i32,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct ConfirmResult {
    /// draft or confirmed.
    pub state: String,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Review {
    /// The next review; a year from today when left out.
    pub next_review: Option<NaiveDate>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct VersionCreated {
    pub version: i32,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct AccessEntry {
    pub reader: Option<String>,
    /// carer, manager or hr.
    pub side: String,
    /// read, read_version, export_pdf, export_json or transfer_code.
    pub action: String,
    /// page or api.
    pub channel: String,
    pub at: DateTime<Utc>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct TransferCode {
    /// Give this code at the new organisation; it works once.
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// Either the sealed file as exported with its passphrase, or a transfer code.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Import {
    /// The sealed file (POST /passports/{id}/export.json), as it is.
    pub file: Option<serde_json::Value>,
    /// The passphrase chosen when the file was exported.
    pub passphrase: Option<Text>,
    /// Or a one-time transfer code.
    pub code: Option<Text>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Export {
    /// A passphrase you choose (at least 12 characters); the file imports only with it. It is
    /// not stored: without it the file cannot be opened, also not by us.
    pub passphrase: Text,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct ReportingLine {
    pub manager_id: Option<i64>,
    pub department: Option<Text>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct LineDto {
    pub user: PersonDto,
    pub role: String,
    pub manager: Option<PersonDto>,
    pub department: Option<String>,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct HandOverAll {
    /// The manager who leaves.
    pub from_manager_id: i64,
    /// Their successor.
    pub to_manager_id: i64,
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct HandedOver {
    /// How many passports moved.
    pub passports: u64,
}

/// A count: `{"value": n}` when five or more, else `{"fewer_than": 5}`.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct CountDto {
    #[oai(skip_serializing_if_is_none)]
    pub value: Option<u64>,
    #[oai(skip_serializing_if_is_none)]
    pub fewer_than: Option<u64>,
}

impl From<Count> for CountDto {
    fn from(c: Count) -> Self {
        match c {
            Count::Exact(n) => CountDto { value: Some(n), fewer_than: None },
            Count::FewerThan(n) => CountDto { value: None, fewer_than: Some(n) },
        }
    }
}

#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct DepartmentCount {
    /// Absent for the pool of departments too small to show on their own.
    pub department: Option<String>,
    pub count: CountDto,
}

/// Aggregate figures only; no person can be singled out.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Figures {
    pub organisation_id: i64,
    /// Carers who agreed to be counted, including former carers who stay counted anonymously.
    pub carers: CountDto,
    pub active_passports: CountDto,
    pub draft_passports: CountDto,
    pub reviews_due: CountDto,
    pub active_by_department: Vec<DepartmentCount>,
    pub reviews_due_by_department: Vec<DepartmentCount>,
}

fn departments(v: Vec<svc::DepartmentFigure>) -> Vec<DepartmentCount> {
    v.into_iter().map(|d| DepartmentCount { department: d.department, count: d.count.into() }).collect()
}

impl From<svc::Figures> for Figures {
    fn from(f: svc::Figures) -> Self {
        Figures {
            organisation_id: f.organisation_id,
            carers: f.carers.into(),
            active_passports: f.active_passports.into(),
            draft_passports: f.draft_passports.into(),
            reviews_due: f.reviews_due.into(),
            active_by_department: departments(f.active_by_department),
            reviews_due_by_department: departments(f.reviews_due_by_department),
        }
    }
}

#[OpenApi(tag = "Tag::Passports")]
impl PassportApi {
    /// Your consent to being recorded as a carer (404 when you have not given it).
    #[oai(path = "/passport/consent", method = "get")]
    async fn consent(&self, state: Data<&AppState>, auth: ApiAuth) -> Result<Consent> {
        let c = svc::consent_of(&state, &auth.0).await?.ok_or(crate::error::AppError::NotFound)?;
        Ok(Json(Consent { hr_copy: c.hr_copy, statistics: c.statistics, consented_at: Some(c.consented_at) }))
    }

    /// Gives or changes your consent to being recorded as a carer.
    #[oai(path = "/passport/consent", method = "put")]
    async fn give_consent(&self, state: Data<&AppState>, auth: ApiAuth, body: Json<Consent>) -> Result<Consent> {
        let choice = svc::ConsentChoice { hr_copy: body.hr_copy, statistics: body.statistics };
        let c = svc::give_consent(&state, &auth.0, choice).await?;
        Ok(Json(Consent { hr_copy: c.hr_copy, statistics: c.statistics, consented_at: Some(c.consented_at) }))
    }

    /// Withdraws your consent: your passport and everything about it is erased.
    #[oai(path = "/passport/consent", method = "delete")]
    async fn withdraw(&self, state: Data<&AppState>, auth: ApiAuth) -> poem::Result<()> {
        Ok(svc::withdraw_consent(&state, &auth.0).await?)
    }

    /// The passports you may read (yours, your team's, HR copies), without content, by the
    /// carer's name.
    #[oai(path = "/passports", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> Result<Page<PassportSummary>> {
        let page = page::request("passports", limit.0, cursor.0)?;
        Ok(Json(Page::of(svc::list_readable(&state, &auth.0, &page).await?, |s| PassportSummary {
            id: s.id,
            carer: PersonDto { id: s.carer.id, name: s.carer.name },
            side: s.side.as_str().into(),
            version: s.version,
            state: state_str(s.state),
            review_date: s.review_date,
            review_due: s.review_due,
        })))
    }

    /// Starts a passport (a draft until carer and manager both confirm).
    #[oai(path = "/passports", method = "post")]
    async fn create(&self, state: Data<&AppState>, auth: ApiAuth, body: Json<NewPassport>) -> Result<Created> {
        let NewPassport { carer_id, content } = body.0;
        Ok(Json(Created { id: svc::create(&state, &auth.0, carer_id, content.into_draft()).await? }))
    }

    /// Imports a passport from another organisation on this service (the sealed file with its
    /// passphrase, or a transfer code); it starts as a draft for your new manager to confirm.
    /// Each file and code imports once.
    #[oai(path = "/passports/import", method = "post")]
    async fn import(&self, state: Data<&AppState>, auth: ApiAuth, body: Json<Import>) -> Result<Created> {
        let source = match (body.0.file, body.0.code) {
            (Some(file), _) => {
                ImportSource::File { file, passphrase: body.0.passphrase.map(String::from).unwrap_or_default() }
            }
            (None, Some(c)) => ImportSource::Code(c.into()),
            (None, None) => return Err(crate::error::AppError::invalid("file", "passport_file_invalid").into()),
        };
        Ok(Json(Created { id: svc::import(&state, &auth.0, source).await? }))
    }

    /// One passport at its current version (the read is logged). The `ETag` header names this
    /// state: send it as `If-Match` when changing the passport, so a change made meanwhile by the
    /// other side is not overwritten unseen (412).
    #[oai(path = "/passports/:id", method = "get")]
    async fn get(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> poem::Result<PassportResponse> {
        let v = svc::view(&state, &auth.0, id.0, None, Channel::Api).await?;
        let etag = v.etag.clone();
        Ok(PassportResponse::Ok(Json(v.into()), etag))
    }

    /// Changes the passport: a new version that both confirm again (carer or manager). Answers
    /// with the passport as `GET /passports/{id}` shows it.
    #[oai(path = "/passports/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<PassportContent>,
        /// The passport's `ETag` as you read it: the change is made only if it still is.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> poem::Result<PassportResponse> {
        let expect = if_match.0.as_deref().map(IfMatch::parse);
        svc::update(&state, &auth.0, id.0, body.0.into_draft(), expect.as_ref()).await?;
        let v = svc::as_written(&state, &auth.0, id.0).await?;
        let etag = v.etag.clone();
        Ok(PassportResponse::Ok(Json(v.into()), etag))
    }

    /// An earlier version (the read is logged).
    #[oai(path = "/passports/:id/versions/:version", method = "get")]
    async fn version(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        version: Path<i32>,
    ) -> Result<Passport> {
        Ok(Json(svc::view(&state, &auth.0, id.0, Some(version.0), Channel::Api).await?.into()))
    }

    /// Confirms the current version, as carer or as manager.
    #[oai(path = "/passports/:id/confirmations", method = "post")]
    async fn confirm(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<Confirm>,
    ) -> Result<ConfirmResult> {
        Ok(Json(ConfirmResult { state: state_str(svc::confirm(&state, &auth.0, id.0, body.version).await?) }))
    }

    /// Records a review: the agreement as it stands with the next review date, as a new version.
    #[oai(path = "/passports/:id/reviews", method = "post")]
    async fn review(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<Review>,
    ) -> Result<VersionCreated> {
        Ok(Json(VersionCreated { version: svc::review(&state, &auth.0, id.0, body.next_review).await? }))
    }

    /// Who read your passport, when, newest first (the carer only).
    #[oai(path = "/passports/:id/access-log", method = "get")]
    async fn access_log(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> Result<Page<AccessEntry>> {
        let page = page::request("access-log", limit.0, cursor.0)?;
        Ok(Json(Page::of(svc::access_log(&state, &auth.0, id.0, &page).await?, |e| AccessEntry {
            reader: e.reader,
            side: e.side,
            action: e.action,
            channel: e.channel,
            at: e.at,
        })))
    }

    /// The passport as a PDF (logged).
    #[oai(path = "/passports/:id/export.pdf", method = "get")]
    async fn export_pdf(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        lang: Query<Option<String>>,
    ) -> poem::Result<Attachment<Vec<u8>>> {
        let bytes = svc::export_pdf(&state, &auth.0, id.0, Channel::Api, normalise(lang.0.as_deref())).await?;
        Ok(Attachment::new(bytes).attachment_type(AttachmentType::Attachment).filename("passport.pdf"))
    }

    /// The file to take to another organisation on this service (the carer only), sealed with a
    /// passphrase you choose: it imports once, and only with that passphrase.
    #[oai(path = "/passports/:id/export.json", method = "post")]
    async fn export_json(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<Export>,
    ) -> Result<serde_json::Value> {
        Ok(Json(svc::export_json(&state, &auth.0, id.0, &body.passphrase, Channel::Api).await?))
    }

    /// A one-time code to import the passport elsewhere on this service (the carer only).
    #[oai(path = "/passports/:id/transfer-codes", method = "post")]
    async fn transfer_code(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> Result<TransferCode> {
        let (code, expires_at) = svc::create_transfer_code(&state, &auth.0, id.0, Channel::Api).await?;
        Ok(Json(TransferCode { code, expires_at }))
    }

    /// Aggregate passport figures (HR leads, directors, advisors); counts below five are hidden.
    #[oai(path = "/organisations/:id/passport-figures", method = "get")]
    async fn figures(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> Result<Figures> {
        Ok(Json(svc::figures(&state, &auth.0, id.0).await?.into()))
    }

    /// Everyone's manager and department, by name (HR leads).
    #[oai(path = "/organisations/:id/reporting-lines", method = "get")]
    async fn lines(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> Result<Page<LineDto>> {
        let page = page::request("reporting-lines", limit.0, cursor.0)?;
        Ok(Json(Page::of(svc::reporting_lines(&state, &auth.0, id.0, &page).await?, Into::into)))
    }

    /// Sets someone's manager and department (HR leads). A carer's passport moves to the new
    /// manager: recorded, and the carer is told.
    #[oai(path = "/organisations/:id/reporting-lines/:user_id", method = "put")]
    async fn set_line(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        user_id: Path<i64>,
        body: Json<ReportingLine>,
    ) -> Result<LineDto> {
        let ReportingLine { manager_id, department } = body.0;
        svc::set_reporting_line(&state, &auth.0, id.0, user_id.0, manager_id, department.map(String::from)).await?;
        Ok(Json(svc::reporting_line(&state, &auth.0, id.0, user_id.0).await?.into()))
    }

    /// A manager leaves: everyone they managed, passports included, moves to the successor.
    #[oai(path = "/organisations/:id/handovers", method = "post")]
    async fn hand_over_all(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<HandOverAll>,
    ) -> Result<HandedOver> {
        let n = svc::hand_over_all(&state, &auth.0, id.0, body.from_manager_id, body.to_manager_id).await?;
        Ok(Json(HandedOver { passports: n as u64 }))
    }
}
