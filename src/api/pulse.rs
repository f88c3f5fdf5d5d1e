//! REST API for the employee pulse: rounds, their figures (as the pages show them: suppressed),
//! opening and closing, the free-text answers for HR, and the questionnaire. Answering is done on
//! the questionnaire page the invitation links to; it needs no account and no API token.
use chrono::{DateTime, NaiveDate, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use super::auth::ApiAuth;
use super::page::{Cursor, Limit, Page};
use crate::domain::passport::Count;
use crate::domain::pulse::{self as rules, Cell};
use crate::services::pulse::{self as svc, NewRound, RoundState, RoundView};
use crate::state::AppState;

#[derive(Tags)]
enum Tag {
    /// The employee pulse: anonymous rounds among the organisation's staff, and their figures.
    Pulse,
}

#[derive(Object)]
pub struct PulseCell {
    pub choice: String,
    /// exact, fewer_than (under five, zero included) or hidden (five or more, hidden so that a
    /// suppressed figure beside it cannot be worked out).
    pub shown: String,
    pub count: Option<u64>,
    /// Of the group's answers.
    pub percent: Option<u32>,
}

#[derive(Object)]
pub struct PulseQuestionFigures {
    pub question: String,
    /// single, scale, multiple.
    pub kind: String,
    pub choices: Vec<PulseCell>,
    /// The scale's average over at least five answers.
    pub mean: Option<f64>,
}

#[derive(Object)]
pub struct PulseGroup {
    /// Null overall, and for the pooled "other departments".
    pub department: Option<String>,
    pub pooled: bool,
    pub respondents: u64,
    pub questions: Vec<PulseQuestionFigures>,
}

#[derive(Object)]
pub struct PulseFigures {
    /// Answers in all; null when fewer than five.
    pub respondents: Option<u64>,
    /// Null while fewer than five answered.
    pub overall: Option<PulseGroup>,
    pub departments: Vec<PulseGroup>,
}

#[derive(Object)]
pub struct PulseRound {
    pub id: i64,
    pub organisation_id: i64,
    /// open or closed.
    pub state: String,
    pub question_version: String,
    pub opened_at: DateTime<Utc>,
    pub closes_on: NaiveDate,
    pub closed_at: Option<DateTime<Utc>>,
    pub by_department: bool,
    pub free_text: bool,
    pub invited: i32,
    /// Answers so far; null when fewer than five (`answers_fewer_than_5` is then true).
    pub answers: Option<u64>,
    pub answers_fewer_than_5: bool,
    /// Share of the invited who answered (closed rounds with invitations).
    pub response_rate: Option<u32>,
    /// Departments told apart in this round (at least five people when it opened).
    pub departments: Vec<String>,
    /// The open link to share (HR, while open).
    pub open_link: Option<String>,
    /// The frozen figures: closed rounds only.
    pub figures: Option<PulseFigures>,
    /// Evidence made from the result.
    pub evidence: Vec<PulseEvidence>,
    /// Items the result was not attached to, being under review, accepted or not applicable
    /// when the round closed (`POST /pulse/rounds/{id}/evidence` attaches it once reopened).
    pub held_back: Vec<PulseHeldBack>,
    /// Whether you can read the free-text answers (`/pulse/rounds/{id}/comments`).
    pub comments_readable: bool,
}

#[derive(Object)]
pub struct PulseHeldBack {
    pub item_id: i64,
    pub checklist: String,
    pub item: String,
    /// The item's status when the result was held back.
    pub status: String,
}

#[derive(Object)]
pub struct PulseEvidence {
    pub item_id: i64,
    pub evidence_id: i64,
    /// The checklist's key (bespreken, going-ahead).
    pub checklist: String,
    /// The item's key within it.
    pub item: String,
}

#[derive(Object)]
pub struct PulseTrendPoint {
    pub round_id: i64,
    pub closed_on: NaiveDate,
    pub respondents: u64,
    pub response_rate: Option<u32>,
    /// Percent caring now; null when not shown.
    pub caring_now: Option<u32>,
    /// Percent who know the arrangements; null when not shown.
    pub knows_arrangements: Option<u32>,
    /// Average of "how supported do you feel" (1-5); null when not shown.
    pub supported: Option<f64>,
}

#[derive(Object)]
pub struct PulseOverview {
    /// Newest first; at most 100.
    pub rounds: Vec<PulseRound>,
    /// Closed rounds with figures, oldest first.
    pub trend: Vec<PulseTrendPoint>,
}

#[derive(Object)]
pub struct NewPulseRound {
    /// The last day to answer: after today, at most 90 days ahead (organisation's time zone).
    pub closes_on: NaiveDate,
    /// Split the figures by department (from the reporting lines).
    #[oai(default)]
    pub by_department: bool,
    /// Also ask the one open question (its answers readable after closing with 10 or more).
    #[oai(default)]
    pub free_text: bool,
    /// E-mail an invitation to every active member (default true).
    #[oai(default = "yes")]
    pub invite: bool,
    /// Make one open link to share.
    #[oai(default)]
    pub open_link: bool,
}

fn yes() -> bool {
    true
}

#[derive(Object)]
pub struct PulseChoice {
    pub key: String,
    pub nl: String,
    pub en: String,
}

#[derive(Object)]
pub struct PulseQuestion {
    pub key: String,
    /// single, scale, multiple or text (text is asked only in rounds with `free_text`).
    pub kind: String,
    pub required: bool,
    pub nl: String,
    pub en: String,
    pub choices: Vec<PulseChoice>,
}

#[derive(Object)]
pub struct PulseQuestionnaire {
    pub version: String,
    pub questions: Vec<PulseQuestion>,
}

fn kind(k: rules::QuestionKind) -> String {
    serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn group(g: rules::GroupFigures) -> PulseGroup {
    PulseGroup {
        department: g.department,
        pooled: g.pooled,
        respondents: g.respondents,
        questions: g
            .questions
            .into_iter()
            .map(|q| PulseQuestionFigures {
                question: q.question,
                kind: kind(q.kind),
                mean: q.mean,
                choices: q
                    .choices
                    .into_iter()
                    .map(|c| {
                        let (shown, count, percent) = match c.cell {
                            Cell::Exact { count, percent } => ("exact", Some(count), Some(percent)),
                            Cell::FewerThan { .. } => ("fewer_than", None, None),
                            Cell::Hidden => ("hidden", None, None),
                        };
                        PulseCell { choice: c.choice, shown: shown.into(), count, percent }
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn round(v: RoundView) -> PulseRound {
    let (figures, evidence, held_back) = match v.frozen {
        Some(f) => (
            Some(PulseFigures {
                respondents: (f.figures.respondents >= 5).then_some(f.figures.respondents),
                overall: f.figures.overall.map(group),
                departments: f.figures.departments.into_iter().map(group).collect(),
            }),
            f.evidence
                .into_iter()
                .map(|e| PulseEvidence {
                    item_id: e.item_id,
                    evidence_id: e.evidence_id,
                    checklist: e.checklist,
                    item: e.item,
                })
                .collect(),
            f.held_back
                .into_iter()
                .map(|h| PulseHeldBack { item_id: h.item_id, checklist: h.checklist, item: h.item, status: h.status })
                .collect(),
        ),
        None => (None, vec![], vec![]),
    };
    PulseRound {
        id: v.round.id,
        organisation_id: v.round.organisation_id,
        state: match v.state {
            RoundState::Open => "open",
            RoundState::Closed => "closed",
        }
        .into(),
        question_version: v.round.question_version,
        opened_at: v.round.opened_at,
        closes_on: v.round.closes_on,
        closed_at: v.round.closed_at,
        by_department: v.round.by_department,
        free_text: v.round.free_text,
        invited: v.round.invited,
        answers: v.answers.exact(),
        answers_fewer_than_5: matches!(v.answers, Count::FewerThan(_)),
        response_rate: v.response_rate,
        departments: v.departments,
        open_link: v.open_link,
        figures,
        evidence,
        held_back,
        comments_readable: v.comments_readable,
    }
}

pub struct PulseApi;

#[OpenApi]
impl PulseApi {
    /// The organisation's pulse rounds, newest first, with the trend of the closed ones.
    #[oai(path = "/organisations/:id/pulse/rounds", method = "get", tag = "Tag::Pulse")]
    async fn rounds(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> poem::Result<Json<PulseOverview>> {
        let o = svc::overview(&state, &auth.0, id.0).await?;
        Ok(Json(PulseOverview {
            trend: o
                .trend
                .into_iter()
                .map(|t| PulseTrendPoint {
                    round_id: t.round_id,
                    closed_on: t.closed_on,
                    respondents: t.respondents,
                    response_rate: t.response_rate,
                    caring_now: t.caring_now,
                    knows_arrangements: t.knows_arrangements,
                    supported: t.supported,
                })
                .collect(),
            rounds: o.rounds.into_iter().map(round).collect(),
        }))
    }

    /// Opens a round (HR): invitations are e-mailed at once; one round may be open at a time.
    #[oai(path = "/organisations/:id/pulse/rounds", method = "post", tag = "Tag::Pulse")]
    async fn open(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<NewPulseRound>,
    ) -> poem::Result<Json<PulseRound>> {
        let b = body.0;
        let new = NewRound {
            closes_on: Some(b.closes_on),
            by_department: b.by_department,
            free_text: b.free_text,
            invite: b.invite,
            open_link: b.open_link,
        };
        Ok(Json(round(svc::open(&state, &auth.0, id.0, new).await?)))
    }

    /// One round; its figures once it has closed.
    #[oai(path = "/pulse/rounds/:id", method = "get", tag = "Tag::Pulse")]
    async fn round(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> poem::Result<Json<PulseRound>> {
        Ok(Json(round(svc::round(&state, &auth.0, id.0).await?)))
    }

    /// Closes a round now (HR): freezes its result and attaches it as evidence.
    #[oai(path = "/pulse/rounds/:id/close", method = "post", tag = "Tag::Pulse")]
    async fn close(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> poem::Result<Json<PulseRound>> {
        let u = crate::db::entities::user::Entity::find_by_id_active(&state.db, auth.0.user_id).await?;
        svc::close(&state, Some(&auth.0), id.0, crate::web::i18n::normalise(Some(&u.locale))).await?;
        Ok(Json(round(svc::round(&state, &auth.0, id.0).await?)))
    }

    /// Attaches a closed round's result to the items it was held back from (they were under
    /// review, accepted or not applicable when it closed) where they now take evidence (HR).
    #[oai(path = "/pulse/rounds/:id/evidence", method = "post", tag = "Tag::Pulse")]
    async fn attach(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> poem::Result<Json<PulseRound>> {
        let u = crate::db::entities::user::Entity::find_by_id_active(&state.db, auth.0.user_id).await?;
        svc::attach_held_back(&state, &auth.0, id.0, crate::web::i18n::normalise(Some(&u.locale))).await?;
        Ok(Json(round(svc::round(&state, &auth.0, id.0).await?)))
    }

    /// The answers to the open question (HR), a page at a time, in a shuffled order unrelated to
    /// the order of answering, apart from the other answers; only for a closed round with at least
    /// 10 answers.
    #[oai(path = "/pulse/rounds/:id/comments", method = "get", tag = "Tag::Pulse")]
    async fn comments(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> poem::Result<Json<Page<String>>> {
        let page = super::page::request("pulse-comments", limit.0, cursor.0)?;
        Ok(Json(Page::of(svc::comments(&state, &auth.0, id.0, &page).await?, |c| c)))
    }

    /// The questions a round asks (this version), in Dutch and English.
    #[oai(path = "/pulse/questions", method = "get", tag = "Tag::Pulse")]
    async fn questions(&self, state: Data<&AppState>, _auth: ApiAuth) -> Json<PulseQuestionnaire> {
        let q = state.pulse.as_ref();
        Json(PulseQuestionnaire {
            version: q.version.clone(),
            questions: q
                .questions
                .iter()
                .map(|x| PulseQuestion {
                    key: x.key.clone(),
                    kind: kind(x.kind),
                    required: x.required,
                    nl: x.text.nl.clone(),
                    en: x.text.en.clone(),
                    choices: x
                        .choices
                        .iter()
                        .map(|c| PulseChoice { key: c.key.clone(), nl: c.text.nl.clone(), en: c.text.en.clone() })
                        .collect(),
                })
                .collect(),
        })
    }
}
