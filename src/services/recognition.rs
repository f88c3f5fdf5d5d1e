//! The recognition lifecycle: readiness, application, the advisor's decision, the certificate,
//! public verification and the living standing (valid, at risk, expired, revoked, renewed).
use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Serialize;

use super::assessment::{UserRef, status_of};
use super::audit::{self, Entry};
use super::crypto::random_token;
use crate::db::entities::{
    evidence, item, organisation, recognition, recognition_application as application, recognition_event, user,
};
use crate::db::write_txn;
use crate::domain::checklist::{GOING_AHEAD, PILLARS};
use crate::domain::policy::{Actor, Permission};
use crate::domain::recognition::{self as rules, Facts, Gap, Standing};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::mail;
use crate::state::AppState;

pub const PENDING: &str = "pending";
pub const GRANTED: &str = "granted";
pub const DECLINED: &str = "declined";

/// Statuses of a pillar item that was done when the recognition was granted and is being
/// worked on again: fallen back to due, reopened for fresh evidence, or back with the advisor.
/// ("open" is left out: an item a changed checklist adds starts there.)
const LAPSED_STATUSES: [&str; 5] = ["due", "in_progress", "submitted", "changes_requested", "not_applicable_proposed"];

/// Pillar items that lapsed, per organisation: no longer done, or accepted with current
/// evidence past its valid-until. Two grouped queries, whatever the number of organisations.
pub async fn lapsed_items(db: &impl ConnectionTrait, orgs: &[i64], today: NaiveDate) -> AppResult<HashMap<i64, usize>> {
    let mut out: HashMap<i64, usize> = HashMap::new();
    if orgs.is_empty() {
        return Ok(out);
    }
    let due: Vec<(i64, i64)> = item::Entity::find()
        .select_only()
        .column(item::Column::OrganisationId)
        .column_as(item::Column::Id.count(), "n")
        .filter(item::Column::OrganisationId.is_in(orgs.to_vec()))
        .filter(item::Column::ChecklistKey.is_in(PILLARS))
        .filter(item::Column::Status.is_in(LAPSED_STATUSES))
        .group_by(item::Column::OrganisationId)
        .into_tuple()
        .all(db)
        .await?;
    for (org, n) in due {
        *out.entry(org).or_default() += n as usize;
    }
    let (items, ev) = (Alias::new("items"), Alias::new("evidence"));
    let stmt = Query::select()
        .column((items.clone(), Alias::new("organisation_id")))
        .expr_as(Expr::col((items.clone(), Alias::new("id"))).count_distinct(), Alias::new("n"))
        .from(items.clone())
        .inner_join(
            ev.clone(),
            Expr::col((ev.clone(), Alias::new("item_id"))).equals((items.clone(), Alias::new("id"))),
        )
        .and_where(Expr::col((items.clone(), Alias::new("organisation_id"))).is_in(orgs.to_vec()))
        .and_where(Expr::col((items.clone(), Alias::new("status"))).eq("accepted"))
        .and_where(Expr::col((items.clone(), Alias::new("checklist_key"))).is_in(PILLARS))
        .and_where(Expr::col((ev.clone(), Alias::new("superseded_at"))).is_null())
        .and_where(Expr::col((ev.clone(), Alias::new("valid_until"))).lt(today))
        .group_by_col((items, Alias::new("organisation_id")))
        .to_owned();
    for row in db.query_all(&stmt).await? {
        let org: i64 = row.try_get("", "organisation_id")?;
        let n: i64 = row.try_get("", "n")?;
        *out.entry(org).or_default() += n as usize;
    }
    Ok(out)
}

pub fn standing_of(r: &recognition::Model, lapsed: usize, today: NaiveDate) -> Standing {
    rules::standing(
        Facts {
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            revoked: r.revoked_at.is_some(),
            renewed: r.renewed_by_id.is_some(),
            lapsed_items: lapsed,
        },
        today,
    )
}

#[derive(Debug, Clone, Serialize)]
pub struct RecognitionView {
    pub id: i64,
    pub organisation_id: i64,
    pub number: String,
    pub verification_code: String,
    pub verify_url: String,
    pub granted_at: chrono::DateTime<chrono::Utc>,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub checklist_versions: std::collections::BTreeMap<String, String>,
    pub going_ahead_complete: bool,
    pub standing: &'static str,
    pub lapsed_items: usize,
    pub renewal_opens: NaiveDate,
    pub renewal_open: bool,
    pub revoked_reason: Option<String>,
}

fn view(state: &AppState, r: &recognition::Model, lapsed: usize, today: NaiveDate) -> RecognitionView {
    RecognitionView {
        id: r.id,
        organisation_id: r.organisation_id,
        number: r.number.clone(),
        verification_code: r.verification_code.clone(),
        verify_url: format!("{}/verify/{}", state.public_url(), r.verification_code),
        granted_at: r.granted_at,
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        checklist_versions: serde_json::from_str(&r.checklist_versions).unwrap_or_default(),
        going_ahead_complete: r.going_ahead_complete,
        standing: standing_of(r, lapsed, today).as_str(),
        lapsed_items: lapsed,
        renewal_opens: rules::renewal_opens(r.valid_until),
        renewal_open: rules::renewal_open(r.valid_until, today),
        revoked_reason: r.revoked_reason.clone(),
    }
}

/// The organisation's newest recognition (the one a renewal did not replace), if any.
async fn latest(db: &impl ConnectionTrait, org: i64) -> AppResult<Option<recognition::Model>> {
    Ok(recognition::Entity::find()
        .filter(recognition::Column::OrganisationId.eq(org))
        .order_by_desc(recognition::Column::Id)
        .one(db)
        .await?)
}

/// Stores a change of standing (with an event) when the computed one differs from the last seen.
async fn record_standing(state: &AppState, r: &recognition::Model, now_standing: Standing) -> AppResult<bool> {
    if r.standing == now_standing.as_str() {
        return Ok(false);
    }
    let txn = write_txn(&state.db).await?;
    let updated = recognition::Entity::update_many()
        .col_expr(recognition::Column::Standing, Expr::value(now_standing.as_str()))
        .filter(recognition::Column::Id.eq(r.id))
        .filter(recognition::Column::Standing.eq(r.standing.clone()))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 1 {
        event(&txn, state, r.id, now_standing.as_str(), Some(format!("was {}", r.standing)), None).await?;
    }
    txn.commit().await?;
    Ok(updated.rows_affected == 1)
}

async fn event(
    db: &impl ConnectionTrait,
    state: &AppState,
    recognition_id: i64,
    name: &str,
    reason: Option<String>,
    actor: Option<i64>,
) -> AppResult<()> {
    recognition_event::ActiveModel {
        recognition_id: Set(recognition_id),
        event: Set(name.into()),
        reason: Set(reason),
        actor_id: Set(actor),
        created_at: Set(state.now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The current recognition of an organisation with its standing today. Reading writes nothing:
/// changes of standing are recorded by the recognition-expiry job (`record_standings`).
pub async fn current(state: &AppState, org: i64) -> AppResult<Option<RecognitionView>> {
    let Some(r) = latest(&state.db, org).await? else { return Ok(None) };
    let today = state.now().date_naive();
    let lapsed = lapsed_items(&state.db, &[org], today).await?.get(&org).copied().unwrap_or(0);
    Ok(Some(view(state, &r, lapsed, today)))
}

/// Records every change of standing (with an event) since the last run: run by the job system,
/// not by page views. Returns how many changed.
pub async fn record_standings(state: &AppState) -> AppResult<usize> {
    let today = state.now().date_naive();
    let live = recognition::Entity::find()
        .filter(recognition::Column::RenewedById.is_null())
        .filter(recognition::Column::RevokedAt.is_null())
        .all(&state.db)
        .await?;
    let orgs: Vec<i64> = live.iter().map(|r| r.organisation_id).collect();
    let lapsed = lapsed_items(&state.db, &orgs, today).await?;
    let mut changed = 0;
    for r in &live {
        let standing = standing_of(r, lapsed.get(&r.organisation_id).copied().unwrap_or(0), today);
        if record_standing(state, r, standing).await? {
            changed += 1;
        }
    }
    Ok(changed)
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplicationView {
    pub id: i64,
    pub organisation_id: i64,
    pub organisation: String,
    pub applicant: Option<UserRef>,
    pub motivation: String,
    pub renewal: bool,
    pub status: String,
    pub decided_by: Option<UserRef>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    pub decision_reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub waiting_days: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub event: String,
    pub reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub organisation: organisation::Model,
    pub eligible: bool,
    pub gaps: Vec<GapView>,
    pub current: Option<RecognitionView>,
    pub applications: Vec<ApplicationView>,
    pub events: Vec<EventView>,
    pub may_apply: bool,
    pub may_decide: bool,
}

/// A gap with the texts a person reads.
#[derive(Debug, Clone, Serialize)]
pub struct GapView {
    #[serde(flatten)]
    pub gap: Gap,
    pub checklist_title: Option<String>,
    pub item_text: Option<String>,
}

/// What stands between the organisation and an application today.
async fn gaps(state: &AppState, org: i64, ignore_application: Option<i64>) -> AppResult<Vec<Gap>> {
    let today = state.now().date_naive();
    let rows = item::Entity::find()
        .filter(item::Column::OrganisationId.eq(org))
        .filter(item::Column::ChecklistKey.is_in(PILLARS))
        .order_by_asc(item::Column::Id)
        .all(&state.db)
        .await?;
    let mut gaps = vec![];
    let mut position: HashMap<(String, String), usize> = HashMap::new();
    for (pi, p) in PILLARS.iter().enumerate() {
        if let Some(list) = state.checklists.get(p) {
            for (ii, it) in list.items.iter().enumerate() {
                position.insert((p.to_string(), it.key.clone()), pi * 1000 + ii);
            }
        }
    }
    let mut current: Vec<&item::Model> =
        rows.iter().filter(|r| position.contains_key(&(r.checklist_key.clone(), r.item_key.clone()))).collect();
    current.sort_by_key(|r| position[&(r.checklist_key.clone(), r.item_key.clone())]);
    for r in &current {
        let status = status_of(r);
        if !status.is_done() {
            gaps.push(Gap::ItemNotDone {
                checklist: r.checklist_key.clone(),
                item: r.item_key.clone(),
                item_id: r.id,
                status: status.as_str().into(),
            });
        }
    }
    let accepted: Vec<i64> = current.iter().filter(|r| r.status == "accepted").map(|r| r.id).collect();
    let expired = evidence::Entity::find()
        .filter(evidence::Column::ItemId.is_in(accepted))
        .filter(evidence::Column::SupersededAt.is_null())
        .filter(evidence::Column::ValidUntil.lt(today))
        .order_by_asc(evidence::Column::Id)
        .all(&state.db)
        .await?;
    for e in expired {
        if let Some(r) = current.iter().find(|r| r.id == e.item_id) {
            gaps.push(Gap::EvidenceExpired {
                checklist: r.checklist_key.clone(),
                item: r.item_key.clone(),
                item_id: r.id,
                evidence_id: e.id,
                valid_until: e.valid_until.unwrap_or(today),
            });
        }
    }
    let pending = application::Entity::find()
        .filter(application::Column::OrganisationId.eq(org))
        .filter(application::Column::Status.eq(PENDING))
        .one(&state.db)
        .await?;
    if let Some(p) = pending.filter(|p| Some(p.id) != ignore_application) {
        gaps.push(Gap::ApplicationPending { application_id: p.id });
    }
    if let Some(r) = latest(&state.db, org).await? {
        let lapsed = lapsed_items(&state.db, &[org], today).await?.get(&org).copied().unwrap_or(0);
        let standing = standing_of(&r, lapsed, today);
        if matches!(standing, Standing::Valid | Standing::AtRisk) && !rules::renewal_open(r.valid_until, today) {
            gaps.push(Gap::AlreadyRecognised {
                valid_until: r.valid_until,
                renewal_opens: rules::renewal_opens(r.valid_until),
            });
        }
    }
    Ok(gaps)
}

fn gap_view(state: &AppState, gap: Gap, lang: &str) -> GapView {
    let (list, it) = match &gap {
        Gap::ItemNotDone { checklist, item, .. } | Gap::EvidenceExpired { checklist, item, .. } => {
            (Some(checklist.clone()), Some(item.clone()))
        }
        _ => (None, None),
    };
    let list = list.and_then(|k| state.checklists.get(&k));
    GapView {
        checklist_title: list.map(|l| l.title.get(lang).to_string()),
        item_text: it.and_then(|k| list.and_then(|l| l.item(&k))).map(|i| i.text.get(lang).to_string()),
        gap,
    }
}

async fn application_views(state: &AppState, rows: Vec<application::Model>) -> AppResult<Vec<ApplicationView>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<i64> = rows.iter().flat_map(|a| [Some(a.applicant_id), a.decided_by]).flatten().collect();
    let users: HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let orgs: HashMap<i64, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(rows.iter().map(|a| a.organisation_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let now = state.now();
    Ok(rows
        .into_iter()
        .map(|a| ApplicationView {
            id: a.id,
            organisation_id: a.organisation_id,
            organisation: orgs.get(&a.organisation_id).cloned().unwrap_or_default(),
            applicant: users.get(&a.applicant_id).map(UserRef::from),
            motivation: a.motivation,
            renewal: a.renewal,
            status: a.status,
            decided_by: a.decided_by.and_then(|id| users.get(&id)).map(UserRef::from),
            decided_at: a.decided_at,
            decision_reason: a.decision_reason,
            waiting_days: (now - a.created_at).num_days(),
            created_at: a.created_at,
        })
        .collect())
}

pub async fn readiness(state: &AppState, actor: &Actor, org: i64, lang: &str) -> AppResult<Readiness> {
    actor.may(Permission::ViewAssessment, org)?;
    let organisation = organisation::Entity::find_by_id(org).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let gaps = gaps(state, org, None).await?;
    let current = current(state, org).await?;
    let apps = application::Entity::find()
        .filter(application::Column::OrganisationId.eq(org))
        .order_by_desc(application::Column::Id)
        .all(&state.db)
        .await?;
    let events = match &current {
        Some(c) => recognition_event::Entity::find()
            .filter(recognition_event::Column::RecognitionId.eq(c.id))
            .order_by_asc(recognition_event::Column::Id)
            .all(&state.db)
            .await?
            .into_iter()
            .map(|e| EventView { event: e.event, reason: e.reason, created_at: e.created_at })
            .collect(),
        None => vec![],
    };
    Ok(Readiness {
        organisation,
        eligible: rules::eligible(&gaps),
        gaps: gaps.into_iter().map(|g| gap_view(state, g, lang)).collect(),
        current,
        applications: application_views(state, apps).await?,
        events,
        may_apply: actor.may(Permission::ApplyForRecognition, org).is_ok(),
        may_decide: actor.may(Permission::DecideRecognition, org).is_ok(),
    })
}

/// The HR lead applies (or applies for renewal). Refused with the list of gaps when not eligible.
pub async fn apply(state: &AppState, actor: &Actor, org: i64, motivation: &str) -> AppResult<application::Model> {
    actor.may(Permission::ApplyForRecognition, org)?;
    let motivation = motivation.trim();
    if motivation.is_empty() || motivation.chars().count() > 5000 {
        return Err(AppError::invalid("motivation", "motivation_required"));
    }
    let gaps = gaps(state, org, None).await?;
    if !rules::eligible(&gaps) {
        return Err(AppError::NotEligible(gaps));
    }
    let renewal = latest(&state.db, org).await?.is_some();
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    // The checks above ran outside the transaction; two applications sent together must not
    // both be stored, so look again while holding the organisation's application lock.
    crate::db::connect::serialise(&txn, "recognition.apply", org).await?;
    let pending = application::Entity::find()
        .filter(application::Column::OrganisationId.eq(org))
        .filter(application::Column::Status.eq(PENDING))
        .one(&txn)
        .await?;
    if pending.is_some() {
        return Err(AppError::Conflict("an application is already waiting for a decision".into()));
    }
    let a = application::ActiveModel {
        organisation_id: Set(org),
        applicant_id: Set(actor.user_id),
        motivation: Set(motivation.into()),
        renewal: Set(renewal),
        status: Set(PENDING.into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // The portfolio's "waiting" filter counts organisations with an application waiting.
    super::progress::refresh(&txn, &state.checklists, &[org]).await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action: "recognition.applied",
            subject: format!("application:{}", a.id),
            detail: Some(if renewal { "renewal".into() } else { "first application".into() }),
        },
    )
    .await?;
    let name = organisation::Entity::find_by_id(org).one(&txn).await?.map(|o| o.name).unwrap_or_default();
    for adv in super::organisations::advisors_of(&txn, org).await? {
        mail::enqueue(
            &txn,
            state,
            mail::Message {
                template: "recognition_applied",
                to: &adv.email,
                lang: &adv.locale,
                context: minijinja::context! { name => adv.name, organisation => name.clone(), renewal => renewal,
                motivation => motivation, link => format!("{}/organisations/{org}/recognition", state.public_url()) },
                dedupe_key: None,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(a)
}

async fn hr_leads(db: &impl ConnectionTrait, org: i64) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::OrganisationId.eq(org))
        .filter(user::Column::Role.eq(Role::HrLead.as_str()))
        .filter(user::Column::Active.eq(true))
        .all(db)
        .await?)
}

async fn next_number(db: &impl ConnectionTrait, year: i32) -> AppResult<String> {
    let prefix = format!("WWM-{year}-");
    let last = recognition::Entity::find()
        .filter(recognition::Column::Number.starts_with(&prefix))
        .order_by_desc(recognition::Column::Number)
        .one(db)
        .await?;
    let n = last.and_then(|r| r.number[prefix.len()..].parse::<u32>().ok()).unwrap_or(0) + 1;
    Ok(format!("{prefix}{n:04}"))
}

/// The assigned advisor grants or declines a pending application, always with a reason.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    application_id: i64,
    grant: bool,
    reason: &str,
) -> AppResult<Option<recognition::Model>> {
    let app = application::Entity::find_by_id(application_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    actor.may(Permission::DecideRecognition, app.organisation_id)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 5000 {
        return Err(AppError::invalid("reason", "reason_required"));
    }
    if app.status != PENDING {
        return Err(AppError::Conflict(format!("this application was already {}", app.status)));
    }
    let org = app.organisation_id;
    if grant {
        let gaps = gaps(state, org, Some(app.id)).await?;
        if !rules::eligible(&gaps) {
            return Err(AppError::NotEligible(gaps));
        }
    }
    let now = state.now();
    let today = now.date_naive();
    let txn = write_txn(&state.db).await?;
    let claimed = application::Entity::update_many()
        .col_expr(application::Column::Status, Expr::value(if grant { GRANTED } else { DECLINED }))
        .col_expr(application::Column::DecidedBy, Expr::value(actor.user_id))
        .col_expr(application::Column::DecidedAt, Expr::value(now))
        .col_expr(application::Column::DecisionReason, Expr::value(reason))
        .filter(application::Column::Id.eq(app.id))
        .filter(application::Column::Status.eq(PENDING))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict("this application was decided by someone else".into()));
    }
    let mut granted = None;
    if grant {
        let previous = latest(&txn, org).await?;
        let going_ahead = item::Entity::find()
            .filter(item::Column::OrganisationId.eq(org))
            .filter(item::Column::ChecklistKey.eq(GOING_AHEAD))
            .all(&txn)
            .await?;
        let going_ahead_complete = state.checklists.get(GOING_AHEAD).is_some_and(|l| {
            l.items.iter().all(|d| going_ahead.iter().any(|r| r.item_key == d.key && status_of(r).is_done()))
        });
        let valid_until = rules::valid_until(today, state.config.recognition_years);
        let year = now.format("%Y").to_string().parse().unwrap_or(2026);
        // Numbers are handed out one grant at a time, so two grants never read the same last one.
        crate::db::connect::serialise(&txn, "recognition.number", i64::from(year)).await?;
        let r = recognition::ActiveModel {
            organisation_id: Set(org),
            application_id: Set(app.id),
            number: Set(next_number(&txn, year).await?),
            verification_code: Set(random_token()),
            granted_by: Set(actor.user_id),
            granted_at: Set(now),
            valid_from: Set(today),
            valid_until: Set(valid_until),
            checklist_versions: Set(serde_json::to_string(&state.checklists.versions()).unwrap_or_default()),
            going_ahead_complete: Set(going_ahead_complete),
            standing: Set(Standing::Valid.as_str().into()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        event(
            &txn,
            state,
            r.id,
            if app.renewal { "renewed" } else { "granted" },
            Some(reason.into()),
            Some(actor.user_id),
        )
        .await?;
        if let Some(old) = previous {
            let mut am: recognition::ActiveModel = old.clone().into();
            am.renewed_by_id = Set(Some(r.id));
            am.standing = Set(Standing::Renewed.as_str().into());
            am.update(&txn).await?;
            event(&txn, state, old.id, "renewed", Some(format!("replaced by {}", r.number)), Some(actor.user_id))
                .await?;
        }
        granted = Some(r);
    }
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action: if grant { "recognition.granted" } else { "recognition.declined" },
            subject: format!("application:{}", app.id),
            detail: granted.as_ref().map(|r| r.number.clone()),
        },
    )
    .await?;
    let name = organisation::Entity::find_by_id(org).one(&txn).await?.map(|o| o.name).unwrap_or_default();
    for hr in hr_leads(&txn, org).await? {
        mail::enqueue(
            &txn,
            state,
            mail::Message {
                template: "recognition_decided",
                to: &hr.email,
                lang: &hr.locale,
                context: minijinja::context! { name => hr.name, organisation => name.clone(), granted => grant,
                reason => reason, number => granted.as_ref().map(|r| r.number.clone()),
                valid_until => granted.as_ref().map(|r| r.valid_until.to_string()),
                link => format!("{}/organisations/{org}/recognition", state.public_url()) },
                dedupe_key: None,
            },
        )
        .await?;
    }
    super::progress::refresh(&txn, &state.checklists, &[org]).await?;
    txn.commit().await?;
    Ok(granted)
}

/// The assigned advisor revokes a recognition, with a reason.
pub async fn revoke(state: &AppState, actor: &Actor, recognition_id: i64, reason: &str) -> AppResult<()> {
    let r = recognition::Entity::find_by_id(recognition_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    actor.may(Permission::DecideRecognition, r.organisation_id)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "reason_required"));
    }
    if r.revoked_at.is_some() {
        return Err(AppError::Conflict("this recognition was already revoked".into()));
    }
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let org = r.organisation_id;
    // Conditional: of two revocations at once, one changes the row and the other is told.
    let revoked = recognition::Entity::update_many()
        .col_expr(recognition::Column::RevokedAt, Expr::value(now))
        .col_expr(recognition::Column::RevokedBy, Expr::value(actor.user_id))
        .col_expr(recognition::Column::RevokedReason, Expr::value(reason))
        .col_expr(recognition::Column::Standing, Expr::value(Standing::Revoked.as_str()))
        .filter(recognition::Column::Id.eq(r.id))
        .filter(recognition::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if revoked.rows_affected != 1 {
        return Err(AppError::Conflict("this recognition was already revoked".into()));
    }
    event(&txn, state, r.id, "revoked", Some(reason.into()), Some(actor.user_id)).await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action: "recognition.revoked",
            subject: format!("recognition:{}", r.id),
            detail: Some(r.number.clone()),
        },
    )
    .await?;
    super::progress::refresh(&txn, &state.checklists, &[org]).await?;
    txn.commit().await?;
    Ok(())
}

/// What the public verification page shows: nothing beyond these fields.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub organisation: String,
    /// The number the certificate prints, so a reader can match the two.
    pub number: String,
    pub standing: &'static str,
    pub granted_on: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

pub async fn verify(state: &AppState, code: &str) -> AppResult<Verification> {
    if code.len() < 20 || code.len() > 64 {
        return Err(AppError::NotFound);
    }
    let r = recognition::Entity::find()
        .filter(recognition::Column::VerificationCode.eq(code))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = state.now().date_naive();
    let lapsed =
        lapsed_items(&state.db, &[r.organisation_id], today).await?.get(&r.organisation_id).copied().unwrap_or(0);
    let standing = standing_of(&r, lapsed, today);
    let org = organisation::Entity::find_by_id(r.organisation_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    Ok(Verification {
        organisation: org.name,
        number: r.number.clone(),
        standing: standing.as_str(),
        granted_on: r.granted_at.date_naive(),
        valid_from: r.valid_from,
        valid_until: r.valid_until,
    })
}

/// The certificate's content for an organisation's current recognition.
pub async fn certificate(
    state: &AppState,
    actor: &Actor,
    org: i64,
) -> AppResult<(organisation::Model, RecognitionView)> {
    actor.may(Permission::ViewAssessment, org)?;
    let o = organisation::Entity::find_by_id(org).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let r = current(state, org).await?.ok_or(AppError::NotFound)?;
    Ok((o, r))
}

/// Applications waiting for this advisor, oldest first.
pub async fn pending_for_advisor(state: &AppState, actor: &Actor) -> AppResult<Vec<ApplicationView>> {
    let rows = application::Entity::find()
        .filter(crate::db::scope::organisations(actor, application::Column::OrganisationId))
        .filter(application::Column::Status.eq(PENDING))
        .order_by_asc(application::Column::CreatedAt)
        .all(&state.db)
        .await?;
    application_views(state, rows).await
}

/// Latest recognition per organisation (for tables across organisations), one query.
pub async fn latest_by_org(db: &impl ConnectionTrait, orgs: &[i64]) -> AppResult<HashMap<i64, recognition::Model>> {
    let mut out = HashMap::new();
    for r in recognition::Entity::find()
        .filter(recognition::Column::OrganisationId.is_in(orgs.to_vec()))
        .order_by_asc(recognition::Column::Id)
        .all(db)
        .await?
    {
        out.insert(r.organisation_id, r);
    }
    Ok(out)
}

/// The organisation of an application, for someone who may decide on it.
pub async fn application_organisation(state: &AppState, actor: &Actor, id: i64) -> AppResult<i64> {
    let a = application::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    actor.may(Permission::ViewAssessment, a.organisation_id)?;
    Ok(a.organisation_id)
}

/// The organisation of a recognition, for someone who may see it.
pub async fn recognition_organisation(state: &AppState, actor: &Actor, id: i64) -> AppResult<i64> {
    let r = recognition::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    actor.may(Permission::ViewAssessment, r.organisation_id)?;
    Ok(r.organisation_id)
}
