//! The employee pulse: rounds opened by HR, answered anonymously by the organisation's people
//! (by an e-mailed invitation or one open link), closed by HR or on their closing date, and then
//! frozen into evidence on the checklist items the survey serves.
//!
//! Anonymity holds by construction: an invitation is a random token whose hash is deleted in the
//! transaction that stores the answer; the answer row carries no user, token, address or time of
//! day (the date only) and a random id; a free-text answer goes to a table of its own. Figures
//! are shown only once a round has closed (so two looks cannot be subtracted to isolate one
//! answer), and only as `domain::pulse::figures` allows.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::seq::SliceRandom;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};

use super::audit::{self, Entry};
use super::crypto;
use crate::db::connect::write_txn;
use crate::db::entities::{
    evidence, evidence_file, item, organisation, outbox, pulse_answer, pulse_comment, pulse_link_form, pulse_round,
    pulse_token, reporting_line, user,
};
use crate::db::page::{self as keyset, Keyset};
use crate::domain::checklist::Text;
use crate::domain::page::{Order, Page, PageRequest};
use crate::domain::passport::{Count, SUPPRESS_BELOW, suppress};
use crate::domain::policy::{Actor, Permission};
use crate::domain::pulse::{self as rules, Answers, Figures, Questionnaire, Response};
use crate::domain::schedule::{local_date, zone};
use crate::domain::workflow::ItemStatus;
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

/// The checklist items a closed round's result is evidence for: (checklist, item).
pub const SERVES: [(&str, &str); 2] = [("bespreken", "carer-survey"), ("going-ahead", "count-carers")];
/// The refusal to close a round twice (the pulse job lets it pass).
pub const ALREADY_CLOSED: &str = "this round has closed already";
/// The longest a round may stay open.
pub const MAX_DAYS_OPEN: i64 = 90;
/// Most rounds listed on the organisation's pulse page (about one a year).
pub const LIST_LIMIT: u64 = 100;

pub struct NewRound {
    pub closes_on: Option<NaiveDate>,
    pub by_department: bool,
    pub free_text: bool,
    /// E-mail an invitation to every active member.
    pub invite: bool,
    /// Make one open link for people without an account.
    pub open_link: bool,
}

/// What a round froze when it closed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Frozen {
    pub question_version: String,
    pub opened_on: NaiveDate,
    pub closes_on: NaiveDate,
    pub closed_on: NaiveDate,
    pub invited: u64,
    pub answered_invited: u64,
    pub answered_link: u64,
    pub figures: Figures,
    /// Evidence made from it.
    pub evidence: Vec<EvidenceRef>,
    /// Items it serves that were under review, accepted or not applicable when the round closed:
    /// evidence does not change under the advisor's eyes. HR attaches it once they are reopened.
    #[serde(default)]
    pub held_back: Vec<HeldBack>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldBack {
    pub item_id: i64,
    pub checklist: String,
    pub item: String,
    pub status: String,
}

impl Frozen {
    /// The share of the invited who answered; only from five answers by invitation, as a rate
    /// over a known number of invitations would otherwise tell a count under five.
    pub fn response_rate(&self) -> Option<u32> {
        (self.answered_invited >= SUPPRESS_BELOW)
            .then(|| (self.answered_invited * 100 + self.invited / 2).checked_div(self.invited))
            .flatten()
            .map(|p| p as u32)
    }
}

/// One piece of evidence a closed round made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub item_id: i64,
    pub evidence_id: i64,
    pub checklist: String,
    pub item: String,
}

/// Where a round's result went, with the item's text, for the round's page.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceLink {
    pub item_id: i64,
    pub evidence_id: i64,
    pub checklist: Option<Text>,
    pub item: Option<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundState {
    Open,
    Closed,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoundView {
    pub round: pulse_round::Model,
    pub state: RoundState,
    /// Answers so far, as they may be shown ("fewer than 5" below five).
    pub answers: Count,
    /// Share of invited people who answered (closed rounds with invitations only).
    pub response_rate: Option<u32>,
    pub departments: Vec<String>,
    /// The open link, for those who manage the pulse, while the round is open.
    pub open_link: Option<String>,
    pub frozen: Option<Frozen>,
    pub may_manage: bool,
    /// Free-text answers can be read (closed, enough answers, the question was asked).
    pub comments_readable: bool,
    /// The evidence the result became, with the items' texts.
    pub evidence_on: Vec<EvidenceLink>,
    /// The items the result was held back from, with their texts.
    pub held_back_on: Vec<HeldLink>,
    /// The questions this round asked.
    pub questionnaire: Questionnaire,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeldLink {
    pub item_id: i64,
    pub status: String,
    pub checklist: Option<Text>,
    pub item: Option<Text>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    pub round_id: i64,
    pub closed_on: NaiveDate,
    pub respondents: u64,
    pub response_rate: Option<u32>,
    /// Share caring now, knowing the arrangements, average support: `None` when not shown.
    pub caring_now: Option<u32>,
    pub knows_arrangements: Option<u32>,
    pub supported: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub organisation: organisation::Model,
    pub rounds: Vec<RoundView>,
    pub trend: Vec<TrendPoint>,
    pub may_manage: bool,
    pub has_open: bool,
    /// Suggested closing date for a new round (three weeks from today).
    pub suggested_close: NaiveDate,
}

fn today(state: &AppState, o: &organisation::Model) -> NaiveDate {
    local_date(zone(&o.timezone), state.now())
}

/// The start of the outbox key of this round's invitation e-mails.
fn invitation_key(round: i64) -> String {
    format!("pulse-invite:{round}:")
}

/// The questions the round asked (the current ones only for a round stored without them).
pub fn questionnaire_of(state: &AppState, r: &pulse_round::Model) -> Questionnaire {
    serde_json::from_str(&r.questions).unwrap_or_else(|_| state.pulse.as_ref().clone())
}

fn departments_of(r: &pulse_round::Model) -> Vec<String> {
    serde_json::from_str(&r.departments).unwrap_or_default()
}

fn is_open(r: &pulse_round::Model, today: NaiveDate) -> bool {
    r.closed_at.is_none() && r.closes_on >= today
}

/// The open link's token: `{round}.{signature}`, a signature over the round's nonce (never stored).
fn link_token(state: &AppState, r: &pulse_round::Model) -> Option<String> {
    Some(format!("{}.{}", r.id, crypto::sign(&state.secret, &link_subject(r)?)))
}

fn link_subject(r: &pulse_round::Model) -> Option<String> {
    r.link_nonce.as_deref().map(|nonce| format!("pulse-link:{}:{nonce}", r.id))
}

fn link_url(state: &AppState, r: &pulse_round::Model) -> Option<String> {
    link_token(state, r).map(|t| format!("{}/pulse/link/{t}", state.public_url()))
}

/// A checklist's title and one of its items' text, for naming the items a result went to.
fn item_texts(state: &AppState, checklist: &str, key: &str) -> (Option<Text>, Option<Text>) {
    let list = state.checklists.get(checklist);
    (list.map(|l| l.title.clone()), list.and_then(|l| l.item(key)).map(|i| i.text.clone()))
}

fn view(state: &AppState, actor: &Actor, r: pulse_round::Model, today: NaiveDate, answers: u64) -> RoundView {
    let may_manage = actor.may(Permission::ManagePulse, r.organisation_id).is_ok();
    let open = is_open(&r, today);
    let frozen: Option<Frozen> = r.result.as_deref().and_then(|s| serde_json::from_str(s).ok());
    let response_rate = frozen.as_ref().and_then(Frozen::response_rate);
    let comments_readable = may_manage
        && r.free_text
        && frozen.as_ref().is_some_and(|f| f.figures.respondents >= rules::FREE_TEXT_MIN_ANSWERS);
    let (evidence_on, held_back_on) = match &frozen {
        Some(f) => (
            f.evidence
                .iter()
                .map(|e| {
                    let (checklist, item) = item_texts(state, &e.checklist, &e.item);
                    EvidenceLink { item_id: e.item_id, evidence_id: e.evidence_id, checklist, item }
                })
                .collect(),
            f.held_back
                .iter()
                .map(|h| {
                    let (checklist, item) = item_texts(state, &h.checklist, &h.item);
                    HeldLink { item_id: h.item_id, status: h.status.clone(), checklist, item }
                })
                .collect(),
        ),
        None => (vec![], vec![]),
    };
    RoundView {
        held_back_on,
        questionnaire: questionnaire_of(state, &r),
        evidence_on,
        state: if r.closed_at.is_some() { RoundState::Closed } else { RoundState::Open },
        answers: suppress(answers),
        response_rate,
        departments: departments_of(&r),
        open_link: if may_manage && open { link_url(state, &r) } else { None },
        frozen,
        may_manage,
        comments_readable,
        round: r,
    }
}

async fn answer_counts(db: &impl ConnectionTrait, rounds: &[i64]) -> AppResult<HashMap<i64, u64>> {
    if rounds.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(pulse_answer::Entity::find()
        .select_only()
        .column(pulse_answer::Column::RoundId)
        .column_as(pulse_answer::Column::Id.count(), "n")
        .filter(pulse_answer::Column::RoundId.is_in(rounds.to_vec()))
        .group_by(pulse_answer::Column::RoundId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(r, n)| (r, n as u64))
        .collect())
}

/// The organisation's rounds, newest first, with the trend of the closed ones.
pub async fn overview(state: &AppState, actor: &Actor, org: i64) -> AppResult<Overview> {
    actor.may(Permission::ViewPulse, org)?;
    let organisation = organisation::Entity::find_by_id(org).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let today = today(state, &organisation);
    let rounds = pulse_round::Entity::find()
        .filter(pulse_round::Column::OrganisationId.eq(org))
        .order_by_desc(pulse_round::Column::Id)
        .limit(LIST_LIMIT)
        .all(&state.db)
        .await?;
    let counts = answer_counts(&state.db, &rounds.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
    let rounds: Vec<RoundView> = rounds
        .into_iter()
        .map(|r| {
            let n = counts.get(&r.id).copied().unwrap_or(0);
            view(state, actor, r, today, n)
        })
        .collect();
    let trend = rounds
        .iter()
        .rev()
        .filter_map(|v| {
            let f = v.frozen.as_ref()?;
            let overall = f.figures.overall.as_ref()?;
            let share = |q: &str, c: &str| {
                overall.questions.iter().find(|x| x.question == q)?.choices.iter().find(|x| x.choice == c).and_then(
                    |x| match x.cell {
                        rules::Cell::Exact { percent, .. } => Some(percent),
                        _ => None,
                    },
                )
            };
            Some(TrendPoint {
                round_id: v.round.id,
                closed_on: f.closed_on,
                respondents: f.figures.respondents,
                response_rate: v.response_rate,
                caring_now: share("cares", "now"),
                knows_arrangements: share("knows-arrangements", "yes"),
                supported: overall.questions.iter().find(|q| q.question == "supported").and_then(|q| q.mean),
            })
        })
        .collect();
    Ok(Overview {
        may_manage: actor.may(Permission::ManagePulse, org).is_ok(),
        has_open: rounds.iter().any(|r| r.state == RoundState::Open),
        suggested_close: today + Duration::days(21),
        organisation,
        rounds,
        trend,
    })
}

pub async fn round(state: &AppState, actor: &Actor, id: i64) -> AppResult<RoundView> {
    let r = pulse_round::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    actor.may(Permission::ViewPulse, r.organisation_id)?;
    let o = organisation::Entity::find_by_id(r.organisation_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let n = answer_counts(&state.db, &[r.id]).await?.get(&r.id).copied().unwrap_or(0);
    Ok(view(state, actor, r, today(state, &o), n))
}

/// Free-text answers of a closed round with enough answers, for HR, a page at a time. Their ids
/// are random and closing wrote them again in random order, so the order of the list is a
/// shuffle, unrelated to the order of answering (and the same from page to page).
pub async fn comments(state: &AppState, actor: &Actor, id: i64, page: &PageRequest) -> AppResult<Page<String>> {
    let v = round(state, actor, id).await?;
    actor.may(Permission::ManagePulse, v.round.organisation_id)?;
    if !v.comments_readable {
        return Err(AppError::Conflict(format!(
            "free-text answers can be read once the round has closed with at least {} answers",
            rules::FREE_TEXT_MIN_ANSWERS
        )));
    }
    let q = pulse_comment::Entity::find().filter(pulse_comment::Column::RoundId.eq(id));
    let shuffled = Keyset::by_id(pulse_comment::Column::Id, Order::Asc);
    let p = keyset::fetch(&state.db, q, page, shuffled, |c| vec![c.id.into()]).await?;
    Ok(Page { rows: p.rows.into_iter().map(|c| c.text).collect(), next: p.next, total: p.total })
}

/// Active members with their department, if any.
async fn members_with_department(db: &impl ConnectionTrait, org: i64) -> AppResult<Vec<(user::Model, Option<String>)>> {
    let people = user::Entity::find()
        .filter(user::Column::OrganisationId.eq(org))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?;
    let lines: HashMap<i64, String> = reporting_line::Entity::find()
        .filter(reporting_line::Column::OrganisationId.eq(org))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|l| l.department.map(|d| (l.user_id, d)))
        .collect();
    Ok(people
        .into_iter()
        .filter(|u| crate::domain::role::Role::parse(&u.role).is_some_and(|r| r.is_organisation_member()))
        .map(|u| {
            let d = lines.get(&u.id).cloned();
            (u, d)
        })
        .collect())
}

pub async fn open(state: &AppState, actor: &Actor, org: i64, new: NewRound) -> AppResult<RoundView> {
    actor.may(Permission::ManagePulse, org)?;
    let o = organisation::Entity::find_by_id(org).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let today = today(state, &o);
    let mut errors = vec![];
    match new.closes_on {
        Some(d) if d > today && d <= today + Duration::days(MAX_DAYS_OPEN) => {}
        _ => errors.push(FieldError::new("closes_on", "pulse_closes_on_invalid")),
    }
    if !new.invite && !new.open_link {
        errors.push(FieldError::new("invite", "pulse_no_channel"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let closes_on = new.closes_on.unwrap_or(today);
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    // The organisation's row, locked: two rounds opened at once cannot both pass the check below.
    organisation::Entity::find_by_id(org).lock_exclusive().one(&txn).await?;
    let open_round = pulse_round::Entity::find()
        .filter(pulse_round::Column::OrganisationId.eq(org))
        .filter(pulse_round::Column::ClosedAt.is_null())
        .one(&txn)
        .await?;
    if open_round.is_some() {
        return Err(AppError::Conflict("a pulse round is open already; close it before opening another".into()));
    }
    let members = members_with_department(&txn, org).await?;
    // Only departments of at least five people are told apart, even in the stored answers.
    let mut sizes: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, d) in &members {
        if let Some(d) = d {
            *sizes.entry(d.as_str()).or_default() += 1;
        }
    }
    let departments: Vec<String> = if new.by_department {
        sizes.into_iter().filter(|(_, n)| *n >= SUPPRESS_BELOW).map(|(d, _)| d.to_string()).collect()
    } else {
        vec![]
    };
    let invitees: Vec<&(user::Model, Option<String>)> = if new.invite { members.iter().collect() } else { vec![] };
    let round = pulse_round::ActiveModel {
        organisation_id: Set(org),
        question_version: Set(state.pulse.version.clone()),
        questions: Set(serde_json::to_string(state.pulse.as_ref()).map_err(AppError::internal)?),
        opened_by: Set(Some(actor.user_id)),
        opened_at: Set(now),
        closes_on: Set(closes_on),
        closed_at: Set(None),
        closed_by: Set(None),
        by_department: Set(new.by_department),
        free_text: Set(new.free_text),
        departments: Set(serde_json::to_string(&departments).map_err(AppError::internal)?),
        link_nonce: Set(new.open_link.then(crypto::random_token)),
        invited: Set(invitees.len() as i32),
        answered_invited: Set(0),
        answered_link: Set(0),
        result: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // Tokens are stored in random order, so their ids say nothing about whom they went to.
    let mut tokens: Vec<(String, Option<String>)> = vec![];
    for (u, d) in &invitees {
        let token = crypto::random_token();
        let department = d.clone().filter(|d| departments.contains(d));
        let link = format!("{}/pulse/answer/{token}", state.public_url());
        crate::mail::enqueue(
            &txn,
            state,
            crate::mail::Message {
                template: "pulse_invitation",
                to: &u.email,
                lang: &u.locale,
                context: minijinja::context! { name => u.name.clone(), organisation => o.name.clone(), link => link,
                closes_on => crate::domain::dates::long_date(crate::web::i18n::normalise(Some(&u.locale)), closes_on) },
                // Marks it as this round's invitation, removed from the outbox when the round closes.
                dedupe_key: Some(format!("{}{}", invitation_key(round.id), crypto::random_token())),
            },
        )
        .await?;
        tokens.push((crypto::hash_token(&token), department));
    }
    tokens.shuffle(&mut rand::rng());
    for chunk in tokens.chunks(500) {
        pulse_token::Entity::insert_many(chunk.iter().map(|(hash, department)| pulse_token::ActiveModel {
            round_id: Set(round.id),
            token_hash: Set(hash.clone()),
            department: Set(department.clone()),
            ..Default::default()
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action: "pulse.opened",
            subject: format!("pulse_round:{}", round.id),
            detail: Some(format!(
                "closes_on={closes_on} invited={} open_link={} by_department={} free_text={}",
                invitees.len(),
                new.open_link,
                new.by_department,
                new.free_text
            )),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(view(state, actor, round, today, 0))
}

/// How someone reached the questionnaire.
pub enum Access<'a> {
    /// The token from an invitation e-mail.
    Invitation(&'a str),
    /// The open link's token; `already` when this browser answered the round before; `form`
    /// the one-time value of the form being sent (none when only showing it).
    Link { token: &'a str, already: bool, form: Option<&'a str> },
}

/// What the questionnaire page needs.
#[derive(Debug, Clone, Serialize)]
pub struct Form {
    pub round_id: i64,
    pub organisation: String,
    pub closes_on: NaiveDate,
    pub free_text: bool,
    /// Departments to choose from (open link only; an invitation knows it).
    pub departments: Vec<String>,
    pub questionnaire: Questionnaire,
    /// The open link's one-time form value (sent back with the answers).
    pub form_nonce: Option<String>,
}

/// Why a questionnaire cannot be answered, told to the person as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Unknown, or used already (the two cannot be told apart: a used token is deleted).
    UsedOrUnknown,
    AnsweredInThisBrowser,
    Closed,
}

async fn find_access(
    state: &AppState,
    db: &impl ConnectionTrait,
    access: &Access<'_>,
) -> AppResult<Result<(pulse_round::Model, organisation::Model, Option<pulse_token::Model>), Refusal>> {
    let (round, token) = match access {
        Access::Invitation(t) => {
            let Some(tok) = pulse_token::Entity::find()
                .filter(pulse_token::Column::TokenHash.eq(crypto::hash_token(t)))
                .one(db)
                .await?
            else {
                return Ok(Err(Refusal::UsedOrUnknown));
            };
            let r = pulse_round::Entity::find_by_id(tok.round_id).one(db).await?.ok_or(AppError::NotFound)?;
            (r, Some(tok))
        }
        Access::Link { token, already, .. } => {
            let (id, signature) = token.split_once('.').ok_or(AppError::NotFound)?;
            let round_id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
            let r = pulse_round::Entity::find_by_id(round_id).one(db).await?.ok_or(AppError::NotFound)?;
            if link_subject(&r).is_none_or(|subject| !crypto::verify_signature(&state.secret, &subject, signature)) {
                return Err(AppError::NotFound);
            }
            if *already {
                return Ok(Err(Refusal::AnsweredInThisBrowser));
            }
            (r, None)
        }
    };
    let o = organisation::Entity::find_by_id(round.organisation_id).one(db).await?.ok_or(AppError::NotFound)?;
    if !is_open(&round, today(state, &o)) {
        return Ok(Err(Refusal::Closed));
    }
    Ok(Ok((round, o, token)))
}

pub async fn form(state: &AppState, access: &Access<'_>) -> AppResult<Result<Form, Refusal>> {
    Ok(find_access(state, &state.db, access).await?.map(|(r, o, _)| Form {
        round_id: r.id,
        organisation: o.name,
        closes_on: r.closes_on,
        free_text: r.free_text,
        departments: if matches!(access, Access::Link { .. }) { departments_of(&r) } else { vec![] },
        questionnaire: questionnaire_of(state, &r),
        form_nonce: matches!(access, Access::Link { .. }).then(crypto::random_token),
    }))
}

/// A random id for an answer or comment: their order says nothing about the order of answering.
fn random_id() -> i64 {
    let mut b = [0u8; 8];
    crypto::fill_random(&mut b);
    // Positive and within JavaScript's safe integers, for any client that reads them.
    (u64::from_le_bytes(b) >> 11) as i64
}

/// Stores one person's answers. The invitation is used up in the same transaction.
pub async fn answer(
    state: &AppState,
    access: &Access<'_>,
    fields: &[(String, String)],
) -> AppResult<Result<i64, Refusal>> {
    let (round, o, token) = match find_access(state, &state.db, access).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let (answers, comment) =
        questionnaire_of(state, &round).read_answers(fields, round.free_text).map_err(AppError::Invalid)?;
    let department = match &token {
        Some(t) => t.department.clone(),
        None => {
            let chosen = fields.iter().find(|(k, _)| k == "department").map(|(_, v)| v.trim()).unwrap_or("");
            match chosen {
                "" => None,
                d if departments_of(&round).iter().any(|x| x == d) => Some(d.to_string()),
                _ => return Err(AppError::invalid("department", "pulse_department_invalid")),
            }
        }
    };
    let txn = write_txn(&state.db).await?;
    let counter =
        if token.is_some() { pulse_round::Column::AnsweredInvited } else { pulse_round::Column::AnsweredLink };
    // The round first (as closing does, so the two cannot deadlock), and only while it is open:
    // it may have closed between the form and now.
    let still_open = pulse_round::Entity::update_many()
        .col_expr(counter, Expr::col(counter).add(1))
        .filter(pulse_round::Column::Id.eq(round.id))
        .filter(pulse_round::Column::ClosedAt.is_null())
        .exec(&txn)
        .await?;
    if still_open.rows_affected != 1 {
        return Ok(Err(Refusal::Closed));
    }
    if let Access::Link { form, .. } = access {
        // One answer per form sent: a double click or a form sent again counts once.
        let nonce = form.filter(|f| !f.is_empty()).ok_or(AppError::invalid("form", "pulse_form_expired"))?;
        let stored = pulse_link_form::Entity::insert(pulse_link_form::ActiveModel {
            round_id: Set(round.id),
            nonce_hash: Set(crypto::hash_token(nonce)),
            ..Default::default()
        })
        .on_conflict(OnConflict::column(pulse_link_form::Column::NonceHash).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
        if stored != 1 {
            return Ok(Err(Refusal::AnsweredInThisBrowser));
        }
    }
    if let Some(t) = &token {
        // Deleting is the check: of two submissions with one token only one deletes it (the
        // other's transaction, and its count, roll back).
        let gone = pulse_token::Entity::delete_by_id(t.id).exec(&txn).await?;
        if gone.rows_affected != 1 {
            return Ok(Err(Refusal::UsedOrUnknown));
        }
    }
    pulse_answer::ActiveModel {
        id: Set(random_id()),
        round_id: Set(round.id),
        department: Set(department),
        answered_on: Set(today(state, &o)),
        answers: Set(serde_json::to_string(&answers).map_err(AppError::internal)?),
    }
    .insert(&txn)
    .await?;
    if let Some(text) = comment {
        pulse_comment::ActiveModel { id: Set(random_id()), round_id: Set(round.id), text: Set(text) }
            .insert(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Ok(round.id))
}

/// Closes a round by hand (HR) or on its date (`actor` is `None`: the pulse job).
pub async fn close(state: &AppState, actor: Option<&Actor>, id: i64, lang: &str) -> AppResult<pulse_round::Model> {
    let r = pulse_round::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    if let Some(a) = actor {
        a.may(Permission::ManagePulse, r.organisation_id)?;
    }
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let r = pulse_round::Entity::find_by_id(id).lock_exclusive().one(&txn).await?.ok_or(AppError::NotFound)?;
    if r.closed_at.is_some() {
        return Err(AppError::Conflict(ALREADY_CLOSED.into()));
    }
    let o = organisation::Entity::find_by_id(r.organisation_id).one(&txn).await?.ok_or(AppError::NotFound)?;
    let rows = reshuffle(&txn, id).await?;
    let parsed: Vec<(Option<String>, Answers)> =
        rows.iter().map(|a| (a.department.clone(), serde_json::from_str(&a.answers).unwrap_or_default())).collect();
    let responses: Vec<Response> =
        parsed.iter().map(|(d, a)| Response { department: d.as_deref(), answers: a }).collect();
    let figures = rules::figures(&questionnaire_of(state, &r), r.free_text, &responses, r.by_department);
    let closed_by = actor.map(|a| a.user_id);
    let mut frozen = Frozen {
        question_version: r.question_version.clone(),
        opened_on: local_date(zone(&o.timezone), r.opened_at),
        closes_on: r.closes_on,
        closed_on: today(state, &o),
        invited: u64::try_from(r.invited).unwrap_or(0),
        answered_invited: u64::try_from(r.answered_invited).unwrap_or(0),
        answered_link: u64::try_from(r.answered_link).unwrap_or(0),
        figures,
        evidence: vec![],
        held_back: vec![],
    };
    // Invitations not used, and the open link's forms, are of no further use.
    pulse_token::Entity::delete_many().filter(pulse_token::Column::RoundId.eq(id)).exec(&txn).await?;
    pulse_link_form::Entity::delete_many().filter(pulse_link_form::Column::RoundId.eq(id)).exec(&txn).await?;
    // So are the invitation e-mails (sent or not): their links no longer work, and until now they
    // tied each address to its token.
    outbox::Entity::delete_many().filter(outbox::Column::DedupeKey.starts_with(invitation_key(id))).exec(&txn).await?;
    if let Some(author) = closed_by.or(r.opened_by)
        && frozen.figures.overall.is_some()
    {
        let targets: Vec<(i64, String, String)> = serving_items(&txn, r.organisation_id).await?;
        (frozen.evidence, frozen.held_back) =
            attach_evidence(state, &txn, &r, &o, &frozen, author, lang, targets).await?;
    }
    let mut am: pulse_round::ActiveModel = r.clone().into();
    am.closed_at = Set(Some(now));
    am.closed_by = Set(closed_by);
    am.result = Set(Some(serde_json::to_string(&frozen).map_err(AppError::internal)?));
    let closed = am.update(&txn).await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: closed_by,
            organisation_id: Some(r.organisation_id),
            action: "pulse.closed",
            subject: format!("pulse_round:{id}"),
            detail: Some(format!(
                "answers={} evidence={}",
                match suppress(frozen.figures.respondents) {
                    Count::Exact(n) => n.to_string(),
                    Count::FewerThan(n) => format!("fewer than {n}"),
                },
                frozen.evidence.iter().map(|e| format!("evidence:{}", e.evidence_id)).collect::<Vec<_>>().join(",")
            )),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(closed)
}

/// Writes the round's answers and comments again, in random order, in this one transaction.
/// PostgreSQL keeps, per row, the transaction that wrote it and where it lies; while the round
/// was open those told the order of answering and which comment came with which answer. After
/// this, every row has the same writer and a random place. Returns the answers.
async fn reshuffle(txn: &impl ConnectionTrait, id: i64) -> AppResult<Vec<pulse_answer::Model>> {
    let mut rows = pulse_answer::Entity::find().filter(pulse_answer::Column::RoundId.eq(id)).all(txn).await?;
    let mut comments = pulse_comment::Entity::find().filter(pulse_comment::Column::RoundId.eq(id)).all(txn).await?;
    rows.shuffle(&mut rand::rng());
    comments.shuffle(&mut rand::rng());
    pulse_answer::Entity::delete_many().filter(pulse_answer::Column::RoundId.eq(id)).exec(txn).await?;
    pulse_comment::Entity::delete_many().filter(pulse_comment::Column::RoundId.eq(id)).exec(txn).await?;
    for chunk in rows.chunks(500) {
        pulse_answer::Entity::insert_many(chunk.iter().cloned().map(pulse_answer::ActiveModel::from))
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in comments.chunks(500) {
        pulse_comment::Entity::insert_many(chunk.iter().cloned().map(pulse_comment::ActiveModel::from))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(rows)
}

/// The frozen result as evidence (a note with the key figures and the PDF) on each item it serves.
#[allow(clippy::too_many_arguments)]
async fn attach_evidence(
    state: &AppState,
    txn: &impl ConnectionTrait,
    r: &pulse_round::Model,
    o: &organisation::Model,
    frozen: &Frozen,
    author: i64,
    lang: &str,
    targets: Vec<(i64, String, String)>,
) -> AppResult<(Vec<EvidenceRef>, Vec<HeldBack>)> {
    let now = state.now();
    let pdf = super::pulse_pdf::render(state, o, r, frozen, lang)?;
    let sha = crypto::sha256_hex(&pdf);
    let t = |key: &str| state.translations.get(lang, key).to_string();
    let title = format!("{} {}", t("pulse.evidence_title"), crate::domain::dates::long_date(lang, frozen.closed_on));
    let note = super::pulse_pdf::summary(state, frozen, lang);
    let mut out = vec![];
    let mut held = vec![];
    for (item_id, checklist, key) in targets {
        // Locked, so its state cannot change between this look and the evidence.
        let Some(row) = item::Entity::find_by_id(item_id).lock_exclusive().one(txn).await? else { continue };
        let status = super::assessment::status_of(&row);
        if !super::evidence::may_change_evidence(status) {
            held.push(HeldBack { item_id, checklist, item: key, status: status.as_str().into() });
            continue;
        }
        let file = evidence_file::ActiveModel {
            size: Set(pdf.len() as i64),
            content: Set(pdf.clone()),
            content_type: Set("application/pdf".into()),
            filename: Set(format!("pulse-{}.pdf", frozen.closed_on)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let created = evidence::ActiveModel {
            item_id: Set(row.id),
            kind: Set("pulse".into()),
            title: Set(title.clone()),
            note: Set(Some(note.clone())),
            url: Set(Some(format!("{}/pulse/rounds/{}", state.public_url(), r.id))),
            file_id: Set(Some(file.id)),
            sha256: Set(sha.clone()),
            valid_from: Set(None),
            valid_until: Set(None),
            created_by: Set(author),
            created_at: Set(now),
            replaces_id: Set(None),
            superseded_at: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        // Like any first evidence, it starts an open item.
        if status == ItemStatus::Open {
            let step = super::assessment::Step {
                from: ItemStatus::Open,
                to: ItemStatus::InProgress,
                actor_id: None,
                reason: Some(format!("pulse round {} closed", r.id)),
            };
            super::assessment::apply_transition(txn, &state.checklists, &row, step, now).await?;
        }
        audit::record(
            txn,
            now,
            Entry {
                actor_id: None,
                organisation_id: Some(r.organisation_id),
                action: "evidence.added",
                subject: format!("evidence:{}", created.id),
                detail: Some(format!("item:{} pulse_round:{} sha256={sha}", row.id, r.id)),
            },
        )
        .await?;
        out.push(EvidenceRef { item_id: row.id, evidence_id: created.id, checklist, item: key });
    }
    Ok((out, held))
}

/// The organisation's items a round's result is evidence for: (id, checklist, item).
async fn serving_items(db: &impl ConnectionTrait, org: i64) -> AppResult<Vec<(i64, String, String)>> {
    let mut out = vec![];
    for (checklist, key) in SERVES {
        let row = item::Entity::find()
            .filter(item::Column::OrganisationId.eq(org))
            .filter(item::Column::ChecklistKey.eq(checklist))
            .filter(item::Column::ItemKey.eq(key))
            .one(db)
            .await?;
        if let Some(row) = row {
            out.push((row.id, checklist.to_string(), key.to_string()));
        }
    }
    Ok(out)
}

/// Attaches a closed round's result to the items it was held back from, where they now take
/// evidence (HR reopened them); the others stay held back.
pub async fn attach_held_back(state: &AppState, actor: &Actor, id: i64, lang: &str) -> AppResult<usize> {
    let r = pulse_round::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    actor.may(Permission::ManagePulse, r.organisation_id)?;
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let r = pulse_round::Entity::find_by_id(id).lock_exclusive().one(&txn).await?.ok_or(AppError::NotFound)?;
    let mut frozen: Frozen = r
        .result
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| AppError::Conflict("this round has not closed yet".into()))?;
    let o = organisation::Entity::find_by_id(r.organisation_id).one(&txn).await?.ok_or(AppError::NotFound)?;
    let targets = frozen.held_back.iter().map(|h| (h.item_id, h.checklist.clone(), h.item.clone())).collect();
    let (attached, held) = attach_evidence(state, &txn, &r, &o, &frozen, actor.user_id, lang, targets).await?;
    let n = attached.len();
    frozen.evidence.extend(attached);
    frozen.held_back = held;
    let mut am: pulse_round::ActiveModel = r.into();
    am.result = Set(Some(serde_json::to_string(&frozen).map_err(AppError::internal)?));
    am.update(&txn).await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(o.id),
            action: "pulse.evidence_attached",
            subject: format!("pulse_round:{id}"),
            detail: Some(format!("attached={n} still_held_back={}", frozen.held_back.len())),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(n)
}

/// Rounds whose closing date has passed, not yet closed (the pulse job closes them).
pub async fn due_to_close(state: &AppState) -> AppResult<Vec<(pulse_round::Model, organisation::Model)>> {
    let earliest = state.now().date_naive() - Duration::days(1);
    // A day's margin either side for time zones; each is checked in its organisation's zone.
    let rounds = pulse_round::Entity::find()
        .filter(pulse_round::Column::ClosedAt.is_null())
        .filter(pulse_round::Column::ClosesOn.lte(earliest + Duration::days(1)))
        .order_by_asc(pulse_round::Column::Id)
        .all(&state.db)
        .await?;
    let ids: Vec<i64> = rounds.iter().map(|r| r.organisation_id).collect();
    let orgs: HashMap<i64, organisation::Model> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    Ok(rounds
        .into_iter()
        .filter_map(|r| orgs.get(&r.organisation_id).cloned().map(|o| (r, o)))
        .filter(|(r, o)| r.closes_on < today(state, o))
        .collect())
}

/// When the organisation last opened a round.
pub async fn last_opened(db: &impl ConnectionTrait, org: i64) -> AppResult<Option<DateTime<Utc>>> {
    Ok(pulse_round::Entity::find()
        .select_only()
        .column(pulse_round::Column::OpenedAt)
        .filter(pulse_round::Column::OrganisationId.eq(org))
        .order_by_desc(pulse_round::Column::Id)
        .into_tuple::<DateTime<Utc>>()
        .one(db)
        .await?)
}
