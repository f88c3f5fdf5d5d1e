//! The self-assessment: items per organisation and checklist, their workflow, comments,
//! history, progress and the advisors' review queue.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde::Serialize;

use super::audit::{self, Entry};
use super::progress;
use crate::db::entities::{comment, evidence, item, item_opening, item_transition, organisation, user};
use crate::db::page::{self as keyset, Keyset};
use crate::db::write_txn;
use crate::domain::checklist::{Checklist, ChecklistItem, Checklists, Kind};
use crate::domain::page::{Order, Page, PageRequest};
use crate::domain::policy::{Actor, Permission};
use crate::domain::progress::Progress;
use crate::domain::revision::{self, IfMatch};
use crate::domain::role::Role;
use crate::domain::workflow::{self, Action, ItemFacts, ItemStatus, Side, TransitionError};
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

impl From<TransitionError> for AppError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::NotAllowed { .. } => AppError::Conflict(e.to_string()),
            TransitionError::NoEvidence => AppError::Invalid(vec![FieldError::new("evidence", "evidence_required")]),
            TransitionError::ReasonRequired => AppError::Invalid(vec![FieldError::new("reason", "reason_required")]),
        }
    }
}

pub fn status_of(row: &item::Model) -> ItemStatus {
    // Rows are only written through `transition`, so an unknown status means a damaged row;
    // showing it as open keeps the page usable and the log says what happened.
    ItemStatus::parse(&row.status).unwrap_or_else(|| {
        tracing::warn!(item = row.id, status = %row.status, "unknown item status");
        ItemStatus::Open
    })
}

/// Creates the missing item rows for the given organisations: new organisations get every item,
/// a changed checklist adds its new items. Items that left a checklist keep their rows (archived).
/// The organisations that got items have their progress counted in the same transaction.
pub async fn ensure_items(
    db: &impl ConnectionTrait,
    checklists: &Checklists,
    organisations: &[i64],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let (created, changed) = add_items(db, checklists, organisations, now).await?;
    progress::refresh(db, checklists, &changed).await?;
    Ok(created)
}

/// `ensure_items` without counting progress, for a caller that counts it after further writes:
/// the number of items created and the organisations that got some.
pub async fn add_items(
    db: &impl ConnectionTrait,
    checklists: &Checklists,
    organisations: &[i64],
    now: DateTime<Utc>,
) -> AppResult<(usize, Vec<i64>)> {
    let mut created = 0;
    let mut changed = vec![];
    for chunk in organisations.chunks(200) {
        let existing: HashSet<(i64, String, String)> = item::Entity::find()
            .select_only()
            .columns([item::Column::OrganisationId, item::Column::ChecklistKey, item::Column::ItemKey])
            .filter(item::Column::OrganisationId.is_in(chunk.to_vec()))
            .into_tuple::<(i64, String, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let mut missing = vec![];
        for &org in chunk {
            let before = missing.len();
            for list in checklists.all() {
                for it in &list.items {
                    if !existing.contains(&(org, list.key.clone(), it.key.clone())) {
                        missing.push(item::ActiveModel {
                            organisation_id: Set(org),
                            checklist_key: Set(list.key.clone()),
                            item_key: Set(it.key.clone()),
                            status: Set(ItemStatus::Open.as_str().into()),
                            owner_id: Set(None),
                            due_date: Set(None),
                            status_changed_at: Set(now),
                            created_at: Set(now),
                            ..Default::default()
                        });
                    }
                }
            }
            if missing.len() > before {
                changed.push(org);
            }
        }
        created += missing.len();
        for batch in missing.chunks(500) {
            item::Entity::insert_many(batch.to_vec()).exec(db).await?;
        }
    }
    Ok((created, changed))
}

/// At start: every organisation gets the items that changed checklists added.
pub async fn sync_checklists(state: &AppState) -> AppResult<usize> {
    let orgs: Vec<i64> = organisation::Entity::find()
        .select_only()
        .column(organisation::Column::Id)
        .into_tuple::<i64>()
        .all(&state.db)
        .await?;
    let (added, changed) = add_items(&state.db, &state.checklists, &orgs, state.now()).await?;
    let recounted = progress::refresh_stale(&state.db, &state.checklists, &changed).await?;
    progress::recount_advisors(&state.db).await?;
    if recounted > 0 {
        tracing::info!(
            organisations = recounted,
            "progress counted for organisations new to it or to these checklists"
        );
    }
    Ok(added)
}

#[derive(Debug, Clone, Serialize)]
pub struct ChecklistSummary {
    pub key: String,
    pub title: String,
    pub summary: String,
    pub is_pillar: bool,
    pub version: String,
    pub progress: Progress,
    pub percent: u32,
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub organisation: organisation::Model,
    pub checklists: Vec<ChecklistSummary>,
    pub all_pillars_complete: bool,
    pub advisors: Vec<UserRef>,
    /// For the HR lead: what asks for their hand (their own open items, changes requested,
    /// items past their due date), most urgent first.
    pub tasks: Vec<Task>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub item_id: i64,
    pub checklist: String,
    pub text: String,
    pub status: &'static str,
    pub due_date: Option<NaiveDate>,
    pub overdue: bool,
    pub mine: bool,
}

/// At most this many tasks on the overview; the worksheets hold the rest.
const TASKS_SHOWN: u64 = 15;

async fn tasks(state: &AppState, actor: &Actor, org_id: i64, lang: &str) -> AppResult<Vec<Task>> {
    use sea_orm::Condition;
    if actor.may(Permission::WorkItems, org_id).is_err() {
        return Ok(vec![]);
    }
    let today = state.now().date_naive();
    let done = [ItemStatus::Accepted.as_str(), ItemStatus::NotApplicable.as_str()];
    let rows = item::Entity::find()
        .filter(item::Column::OrganisationId.eq(org_id))
        .filter(item::Column::Status.is_not_in(done))
        .filter(
            Condition::any()
                .add(item::Column::OwnerId.eq(actor.user_id))
                .add(item::Column::Status.eq(ItemStatus::ChangesRequested.as_str()))
                .add(item::Column::DueDate.lt(today)),
        )
        .order_by_asc(item::Column::DueDate)
        .order_by_asc(item::Column::Id)
        .limit(TASKS_SHOWN)
        .all(&state.db)
        .await?;
    let mut out: Vec<Task> = rows
        .iter()
        .map(|r| {
            let list = state.checklists.get(&r.checklist_key);
            let status = status_of(r);
            Task {
                item_id: r.id,
                checklist: list.map(|l| l.title.get(lang).to_string()).unwrap_or_default(),
                text: list
                    .and_then(|l| l.item(&r.item_key))
                    .map(|d| d.text.get(lang).to_string())
                    .unwrap_or_else(|| r.item_key.clone()),
                status: status.as_str(),
                due_date: r.due_date,
                overdue: r.due_date.is_some_and(|d| d < today),
                mine: r.owner_id == Some(actor.user_id),
            }
        })
        .collect();
    // Changes requested and overdue first, then by due date (the query's order).
    out.sort_by_key(|t| (t.status != ItemStatus::ChangesRequested.as_str(), !t.overdue));
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct UserRef {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
}

impl From<&user::Model> for UserRef {
    fn from(u: &user::Model) -> Self {
        UserRef { id: u.id, name: u.name.clone(), email: u.email.clone(), role: u.role.clone() }
    }
}

fn summarise(list: &Checklist, progress: Progress, lang: &str) -> ChecklistSummary {
    ChecklistSummary {
        key: list.key.clone(),
        title: list.title.get(lang).into(),
        summary: list.summary.get(lang).into(),
        is_pillar: list.kind == Kind::Pillar,
        version: list.version.clone(),
        percent: progress.percent(),
        complete: progress.complete(),
        progress,
    }
}

/// Progress per checklist from (checklist, item, status) rows; items no longer in a checklist
/// do not count.
pub fn progress_by_checklist<'a>(
    checklists: &Checklists,
    rows: impl IntoIterator<Item = (&'a str, &'a str, ItemStatus)>,
) -> HashMap<String, Progress> {
    let mut by: HashMap<String, Progress> = HashMap::new();
    for (list_key, item_key, status) in rows {
        if checklists.get(list_key).and_then(|l| l.item(item_key)).is_some() {
            by.entry(list_key.to_string()).or_default().add(status);
        }
    }
    by
}

pub async fn overview(state: &AppState, actor: &Actor, org_id: i64, lang: &str) -> AppResult<Overview> {
    actor.may(Permission::ViewAssessment, org_id)?;
    let organisation = organisation::Entity::find_by_id(org_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let rows = item::Entity::find()
        .select_only()
        .columns([item::Column::ChecklistKey, item::Column::ItemKey, item::Column::Status])
        .filter(item::Column::OrganisationId.eq(org_id))
        .into_tuple::<(String, String, String)>()
        .all(&state.db)
        .await?;
    let by = progress_by_checklist(
        &state.checklists,
        rows.iter().map(|(c, i, s)| (c.as_str(), i.as_str(), ItemStatus::parse(s).unwrap_or(ItemStatus::Open))),
    );
    let checklists: Vec<ChecklistSummary> = state
        .checklists
        .all()
        .iter()
        .map(|l| summarise(l, by.get(&l.key).cloned().unwrap_or_default(), lang))
        .collect();
    let all_pillars_complete = checklists.iter().filter(|c| c.is_pillar).all(|c| c.complete);
    let advisors = super::organisations::advisors_of(&state.db, org_id).await?.iter().map(UserRef::from).collect();
    let tasks = tasks(state, actor, org_id, lang).await?;
    Ok(Overview { organisation, checklists, all_pillars_complete, advisors, tasks })
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemRow {
    pub id: i64,
    pub key: String,
    pub checklist_key: String,
    pub text: String,
    pub status: &'static str,
    pub recurrence: Option<&'static str>,
    pub owner: Option<UserRef>,
    pub due_date: Option<NaiveDate>,
    pub overdue: bool,
    pub evidence_count: u64,
    pub status_changed_at: DateTime<Utc>,
    pub archived: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Worksheet {
    pub organisation: organisation::Model,
    pub checklist: ChecklistSummary,
    pub intro: String,
    pub items: Vec<ItemRow>,
    pub archived: Vec<ItemRow>,
}

pub(crate) async fn users_by_id(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<HashMap<i64, user::Model>> {
    let ids: HashSet<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find().filter(user::Column::Id.is_in(ids)).all(db).await?.into_iter().map(|u| (u.id, u)).collect())
}

fn item_row(
    row: &item::Model,
    def: Option<&ChecklistItem>,
    users: &HashMap<i64, user::Model>,
    evidence_count: u64,
    today: NaiveDate,
    lang: &str,
) -> ItemRow {
    let status = status_of(row);
    ItemRow {
        id: row.id,
        key: row.item_key.clone(),
        checklist_key: row.checklist_key.clone(),
        text: def.map(|d| d.text.get(lang).to_string()).unwrap_or_else(|| row.item_key.clone()),
        status: status.as_str(),
        recurrence: def.and_then(|d| d.recurrence).map(|r| r.as_str()),
        owner: row.owner_id.and_then(|id| users.get(&id)).map(UserRef::from),
        due_date: row.due_date,
        overdue: row.due_date.is_some_and(|d| d < today) && !status.is_done(),
        evidence_count,
        status_changed_at: row.status_changed_at,
        archived: def.is_none(),
    }
}

pub async fn worksheet(
    state: &AppState,
    actor: &Actor,
    org_id: i64,
    list_key: &str,
    lang: &str,
) -> AppResult<Worksheet> {
    actor.may(Permission::ViewAssessment, org_id)?;
    let list = state.checklists.get(list_key).ok_or(AppError::NotFound)?;
    let organisation = organisation::Entity::find_by_id(org_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let rows = item::Entity::find()
        .filter(item::Column::OrganisationId.eq(org_id))
        .filter(item::Column::ChecklistKey.eq(list_key))
        .all(&state.db)
        .await?;
    let users = users_by_id(&state.db, rows.iter().filter_map(|r| r.owner_id)).await?;
    let counts: HashMap<i64, i64> = evidence::Entity::find()
        .select_only()
        .column(evidence::Column::ItemId)
        .column_as(evidence::Column::Id.count(), "n")
        .filter(evidence::Column::ItemId.is_in(rows.iter().map(|r| r.id)))
        .filter(evidence::Column::SupersededAt.is_null())
        .group_by(evidence::Column::ItemId)
        .into_tuple::<(i64, i64)>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let today = state.now().date_naive();
    let by_key: HashMap<&str, &item::Model> = rows.iter().map(|r| (r.item_key.as_str(), r)).collect();
    let mut progress = Progress::default();
    let mut items = vec![];
    for def in &list.items {
        if let Some(row) = by_key.get(def.key.as_str()) {
            progress.add(status_of(row));
            let n = counts.get(&row.id).copied().unwrap_or(0) as u64;
            items.push(item_row(row, Some(def), &users, n, today, lang));
        }
    }
    let archived = rows
        .iter()
        .filter(|r| list.item(&r.item_key).is_none())
        .map(|r| item_row(r, None, &users, counts.get(&r.id).copied().unwrap_or(0) as u64, today, lang))
        .collect();
    Ok(Worksheet {
        organisation,
        checklist: summarise(list, progress, lang),
        intro: list.intro.get(lang).into(),
        items,
        archived,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceView {
    pub id: i64,
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
    pub replaces_id: Option<i64>,
    pub superseded_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommentView {
    pub id: i64,
    pub author: Option<UserRef>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryView {
    pub from_status: String,
    pub to_status: String,
    pub actor: Option<UserRef>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemDetail {
    pub organisation: organisation::Model,
    pub checklist: ChecklistSummary,
    pub item: ItemRow,
    pub guidance: String,
    pub evidence_hint: String,
    pub evidence: Vec<EvidenceView>,
    pub previous_evidence: Vec<EvidenceView>,
    pub comments: Vec<CommentView>,
    pub history: Vec<HistoryView>,
    pub actions: Vec<&'static str>,
    pub may_work: bool,
    pub may_review: bool,
    pub may_comment: bool,
    pub members: Vec<UserRef>,
    /// The item's entity tag (`item_etag`), for a write that must not overwrite another's.
    pub etag: String,
}

/// The item, if this user may do `permission` on it; someone else's item is "not found".
pub async fn load_item(
    state: &AppState,
    actor: &Actor,
    item_id: i64,
    permission: Permission,
) -> AppResult<item::Model> {
    let row = item::Entity::find_by_id(item_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    actor.may(permission, row.organisation_id)?;
    Ok(row)
}

pub async fn current_evidence_count(db: &impl ConnectionTrait, item_id: i64) -> AppResult<u64> {
    Ok(evidence::Entity::find()
        .filter(evidence::Column::ItemId.eq(item_id))
        .filter(evidence::Column::SupersededAt.is_null())
        .count(db)
        .await?)
}

pub async fn item_detail(state: &AppState, actor: &Actor, item_id: i64, lang: &str) -> AppResult<ItemDetail> {
    let row = load_item(state, actor, item_id, Permission::ViewAssessment).await?;
    let list = state.checklists.get(&row.checklist_key);
    let def = list.and_then(|l| l.item(&row.item_key));
    let organisation =
        organisation::Entity::find_by_id(row.organisation_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let ev = evidence::Entity::find()
        .filter(evidence::Column::ItemId.eq(row.id))
        .order_by_desc(evidence::Column::CreatedAt)
        .order_by_desc(evidence::Column::Id)
        .all(&state.db)
        .await?;
    let files = super::evidence::file_meta(&state.db, ev.iter().filter_map(|e| e.file_id)).await?;
    let comments = comment::Entity::find()
        .filter(comment::Column::ItemId.eq(row.id))
        .order_by_asc(comment::Column::Id)
        .all(&state.db)
        .await?;
    let history = item_transition::Entity::find()
        .filter(item_transition::Column::ItemId.eq(row.id))
        .order_by_asc(item_transition::Column::Id)
        .all(&state.db)
        .await?;
    let member_rows = user::Entity::find()
        .filter(user::Column::OrganisationId.eq(row.organisation_id))
        .filter(user::Column::Role.is_in([Role::HrLead.as_str(), Role::Director.as_str(), Role::Manager.as_str()]))
        .order_by_asc(user::Column::Name)
        .all(&state.db)
        .await?;
    let mut users = users_by_id(
        &state.db,
        ev.iter()
            .map(|e| e.created_by)
            .chain(comments.iter().map(|c| c.author_id))
            .chain(history.iter().filter_map(|h| h.actor_id))
            .chain(row.owner_id),
    )
    .await?;
    for m in &member_rows {
        users.entry(m.id).or_insert_with(|| m.clone());
    }
    let today = state.now().date_naive();
    let to_view = |e: &evidence::Model| {
        let f = e.file_id.and_then(|id| files.get(&id));
        EvidenceView {
            id: e.id,
            kind: e.kind.clone(),
            title: e.title.clone(),
            note: e.note.clone(),
            url: e.url.clone(),
            filename: f.map(|f| f.1.clone()),
            content_type: f.map(|f| f.0.clone()),
            size: f.map(|f| f.2),
            sha256: e.sha256.clone(),
            valid_from: e.valid_from,
            valid_until: e.valid_until,
            expired: e.valid_until.is_some_and(|d| d < today),
            created_by: users.get(&e.created_by).map(UserRef::from),
            created_at: e.created_at,
            replaces_id: e.replaces_id,
            superseded_at: e.superseded_at,
        }
    };
    let current: Vec<_> = ev.iter().filter(|e| e.superseded_at.is_none()).map(to_view).collect();
    let previous: Vec<_> = ev.iter().filter(|e| e.superseded_at.is_some()).map(to_view).collect();
    let status = status_of(&row);
    let may_work = actor.may(Permission::WorkItems, row.organisation_id).is_ok();
    let may_review = actor.may(Permission::ReviewItems, row.organisation_id).is_ok();
    let mut actions = vec![];
    if may_work {
        actions.extend(workflow::available_actions(status, Side::Organisation).into_iter().map(Action::as_str));
    }
    if may_review {
        actions.extend(workflow::available_actions(status, Side::Advisor).into_iter().map(Action::as_str));
    }
    let summary = match list {
        Some(l) => summarise(l, Progress::default(), lang),
        None => return Err(AppError::NotFound),
    };
    Ok(ItemDetail {
        etag: item_etag(&row),
        item: item_row(&row, def, &users, current.len() as u64, today, lang),
        guidance: def.map(|d| d.guidance.get(lang).to_string()).unwrap_or_default(),
        evidence_hint: def.map(|d| d.evidence.get(lang).to_string()).unwrap_or_default(),
        organisation,
        checklist: summary,
        evidence: current,
        previous_evidence: previous,
        comments: comments
            .iter()
            .map(|c| CommentView {
                id: c.id,
                author: users.get(&c.author_id).map(UserRef::from),
                body: c.body.clone(),
                created_at: c.created_at,
            })
            .collect(),
        history: history
            .iter()
            .map(|h| HistoryView {
                from_status: h.from_status.clone(),
                to_status: h.to_status.clone(),
                actor: h.actor_id.and_then(|id| users.get(&id)).map(UserRef::from),
                reason: h.reason.clone(),
                created_at: h.created_at,
            })
            .collect(),
        actions,
        may_work,
        may_review,
        may_comment: actor.may(Permission::Comment, row.organisation_id).is_ok(),
        // Only people who can still work on it can become its owner.
        members: member_rows.iter().filter(|u| u.active).map(UserRef::from).collect(),
    })
}

/// Moves an item: checks the side, the workflow and the item's current state, stores the new
/// status only if nobody moved it in between, and appends the history.
/// Takes a workflow step on an item; with `expect`, only while the item is still in the state
/// the client read (its `item_etag`).
pub async fn transition(
    state: &AppState,
    actor: &Actor,
    item_id: i64,
    action: Action,
    reason: Option<&str>,
    expect: Option<&IfMatch>,
) -> AppResult<item::Model> {
    let permission = match action.side() {
        Side::Organisation => Permission::WorkItems,
        Side::Advisor => Permission::ReviewItems,
        Side::System => {
            // Only the service lapses items; users asking for it are refused after the usual
            // visibility check.
            load_item(state, actor, item_id, Permission::ViewAssessment).await?;
            return Err(AppError::Forbidden);
        }
    };
    load_item(state, actor, item_id, permission).await?;
    let txn = write_txn(&state.db).await?;
    let row = current_item(&txn, item_id, expect).await?;
    let evidence_count = current_evidence_count(&txn, row.id).await? as usize;
    let from = status_of(&row);
    let to = workflow::transition(ItemFacts { status: from, evidence_count }, action, reason)?;
    let now = state.now();
    let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(String::from);
    let step = Step { from, to, actor_id: Some(actor.user_id), reason: reason.clone() };
    apply_transition(&txn, &state.checklists, &row, step, now).await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(row.organisation_id),
            action: "item.transition",
            subject: format!("item:{}", row.id),
            detail: Some(format!("{} -> {} ({})", from.as_str(), to.as_str(), action.as_str())),
        },
    )
    .await?;
    notify_transition(&txn, state, &row, to, reason.as_deref(), now).await?;
    txn.commit().await?;
    item::Entity::find_by_id(row.id).one(&state.db).await?.ok_or(AppError::NotFound)
}

/// The item's entity tag: what a client saw when it read the item's state (status, owner, due
/// date). Evidence and comments are added beside it and do not change it.
pub fn item_etag(row: &item::Model) -> String {
    let owner = row.owner_id.map(|o| o.to_string()).unwrap_or_default();
    let due = row.due_date.map(|d| d.to_string()).unwrap_or_default();
    revision::etag(&[&row.id.to_string(), &row.status, &owner, &due, &row.status_changed_at.to_rfc3339()])
}

/// The item as it is inside a write transaction (locked on PostgreSQL; SQLite's write
/// transaction already excludes other writers), refused when it is no longer what the client read.
async fn current_item(txn: &impl ConnectionTrait, id: i64, expect: Option<&IfMatch>) -> AppResult<item::Model> {
    let row = item::Entity::find_by_id(id).lock_exclusive().one(txn).await?.ok_or(AppError::NotFound)?;
    if !revision::holds(expect, &item_etag(&row)) {
        return Err(AppError::PreconditionFailed);
    }
    Ok(row)
}

/// One status change of an item, by someone (or by the service, `actor_id` None).
pub struct Step {
    pub from: ItemStatus,
    pub to: ItemStatus,
    pub actor_id: Option<i64>,
    pub reason: Option<String>,
}

/// Writes a status change if the item still has `from`, its history line, and the organisation's
/// kept progress (`progress::refresh`), all in the caller's transaction.
pub async fn apply_transition(
    db: &impl ConnectionTrait,
    checklists: &Checklists,
    row: &item::Model,
    step: Step,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Step { from, to, actor_id, reason } = step;
    let updated = item::Entity::update_many()
        .col_expr(item::Column::Status, Expr::value(to.as_str()))
        .col_expr(item::Column::StatusChangedAt, Expr::value(now))
        .filter(item::Column::Id.eq(row.id))
        .filter(item::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::Conflict("the item was changed by someone else; reload and try again".into()));
    }
    item_transition::ActiveModel {
        item_id: Set(row.id),
        from_status: Set(from.as_str().into()),
        to_status: Set(to.as_str().into()),
        actor_id: Set(actor_id),
        reason: Set(reason),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    progress::refresh(db, checklists, &[row.organisation_id]).await
}

/// Submitted items reach the advisors (bundled, see `review_mail`); decisions reach the
/// organisation's HR leads in their inbox and by e-mail.
async fn notify_transition(
    db: &impl ConnectionTrait,
    state: &AppState,
    row: &item::Model,
    to: ItemStatus,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use super::notifications::{self, Kind, Notice};
    match to {
        ItemStatus::Submitted | ItemStatus::NotApplicableProposed => {
            super::review_mail::submitted(db, state, row.organisation_id, now).await
        }
        ItemStatus::Accepted | ItemStatus::NotApplicable | ItemStatus::ChangesRequested => {
            let hr_leads = user::Entity::find()
                .filter(user::Column::OrganisationId.eq(row.organisation_id))
                .filter(user::Column::Role.eq(Role::HrLead.as_str()))
                .filter(user::Column::Active.eq(true))
                .all(db)
                .await?;
            let org = organisation::Entity::find_by_id(row.organisation_id).one(db).await?.ok_or(AppError::NotFound)?;
            let def = state.checklists.get(&row.checklist_key).and_then(|l| l.item(&row.item_key));
            let text = |lang: &str| def.map(|d| d.text.get(lang).to_string()).unwrap_or_else(|| row.item_key.clone());
            // Both languages are kept, so the inbox shows the message in the reader's language.
            let params = minijinja::context! {
                organisation => org.name, status => to.as_str(), reason => reason,
                item_nl => text("nl"), item_en => text("en"),
                short_nl => super::review_mail::short(&text("nl")), short_en => super::review_mail::short(&text("en")),
            };
            for hr in &hr_leads {
                notifications::notify(
                    db,
                    state,
                    Notice {
                        to: hr,
                        kind: Kind::ItemDecision,
                        organisation_id: Some(row.organisation_id),
                        params: params.clone(),
                        link: Some(format!("{}/items/{}", state.public_url(), row.id)),
                        dedupe_key: format!("item-decision:{}:{}:{}", row.id, now.timestamp_micros(), hr.id),
                    },
                )
                .await?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

pub struct ItemUpdate {
    /// `Some(None)` clears the owner.
    pub owner_id: Option<Option<i64>>,
    pub due_date: Option<Option<NaiveDate>>,
}

/// Sets an item's owner or due date; with `expect`, only while the item is still in the state the
/// client read.
pub async fn update_item(
    state: &AppState,
    actor: &Actor,
    item_id: i64,
    update: ItemUpdate,
    expect: Option<&IfMatch>,
) -> AppResult<item::Model> {
    let row = load_item(state, actor, item_id, Permission::WorkItems).await?;
    if let Some(Some(owner)) = update.owner_id {
        let ok = user::Entity::find_by_id(owner).one(&state.db).await?.is_some_and(|u| {
            u.active && u.organisation_id == Some(row.organisation_id) && u.role != Role::Employee.as_str()
        });
        if !ok {
            return Err(AppError::invalid("owner_id", "owner_unknown"));
        }
    }
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let row = current_item(&txn, item_id, expect).await?;
    if update.owner_id.is_none() && update.due_date.is_none() {
        return Ok(row); // nothing asked, nothing written
    }
    let mut am: item::ActiveModel = row.clone().into();
    let mut changes = vec![];
    if let Some(owner) = update.owner_id {
        am.owner_id = Set(owner);
        changes.push(format!("owner={}", owner.map(|o| o.to_string()).unwrap_or_else(|| "none".into())));
    }
    if let Some(due) = update.due_date {
        am.due_date = Set(due);
        changes.push(format!("due={}", due.map(|d| d.to_string()).unwrap_or_else(|| "none".into())));
    }
    let updated = am.update(&txn).await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(row.organisation_id),
            action: "item.updated",
            subject: format!("item:{}", row.id),
            detail: Some(changes.join(", ")),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// The longest comment, in characters (the API document states it too).
pub const MAX_COMMENT_CHARS: usize = 10_000;

pub async fn add_comment(state: &AppState, actor: &Actor, item_id: i64, body: &str) -> AppResult<comment::Model> {
    let row = load_item(state, actor, item_id, Permission::Comment).await?;
    let body = body.trim();
    if body.is_empty() {
        return Err(AppError::invalid("body", "comment_required"));
    }
    if body.chars().count() > MAX_COMMENT_CHARS {
        return Err(AppError::invalid("body", "comment_too_long"));
    }
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let c = comment::ActiveModel {
        item_id: Set(row.id),
        author_id: Set(actor.user_id),
        body: Set(body.into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(row.organisation_id),
            action: "item.commented",
            subject: format!("item:{}", row.id),
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(c)
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueEntry {
    pub item_id: i64,
    pub organisation_id: i64,
    pub organisation: String,
    pub checklist_key: String,
    pub checklist: String,
    pub text: String,
    pub status: &'static str,
    pub waiting_since: DateTime<Utc>,
    pub waiting_days: i64,
    /// The advisor opened it since it was submitted: it may be accepted from the queue.
    pub opened: bool,
}

/// The items of one waiting status in this advisor's organisations, oldest first. The queue
/// reads one status at a time: each is one range of the `(status, status_changed_at)` index,
/// walked in order and cut, where both at once would sort every waiting item first.
fn waiting_for(actor: &Actor, status: ItemStatus) -> sea_orm::Select<item::Entity> {
    item::Entity::find()
        .filter(crate::db::scope::organisations(actor, item::Column::OrganisationId))
        .filter(item::Column::Status.eq(status.as_str()))
        .order_by_asc(item::Column::StatusChangedAt)
        .order_by_asc(item::Column::Id)
}

/// The item an advisor goes on to after deciding on `after`: the oldest other one waiting.
pub async fn next_in_queue(state: &AppState, actor: &Actor, after: i64) -> AppResult<Option<i64>> {
    actor.may_globally(crate::domain::policy::GlobalPermission::ViewReviewQueue)?;
    let mut next: Option<item::Model> = None;
    for status in ItemStatus::WAITING {
        let first = waiting_for(actor, status).filter(item::Column::Id.ne(after)).one(&state.db).await?;
        if let Some(r) =
            first.filter(|r| next.as_ref().is_none_or(|n| (r.status_changed_at, r.id) < (n.status_changed_at, n.id)))
        {
            next = Some(r);
        }
    }
    Ok(next.map(|r| r.id))
}

pub async fn review_queue(
    state: &AppState,
    actor: &Actor,
    lang: &str,
    page: &PageRequest,
) -> AppResult<Page<QueueEntry>> {
    actor.may_globally(crate::domain::policy::GlobalPermission::ViewReviewQueue)?;
    let oldest_first = Keyset::by(item::Column::StatusChangedAt, item::Column::Id, Order::Asc);
    // How many wait: the kept figures, not a count of the items.
    let total = progress::waiting_in_scope(&state.db, actor).await?;
    let parts = ItemStatus::WAITING.map(|s| waiting_for(actor, s)).to_vec();
    let rows = keyset::fetch_union(&state.db, parts, total, page, oldest_first, |r| {
        vec![r.status_changed_at.into(), r.id.into()]
    })
    .await?;
    let opened = openings(&state.db, actor.user_id, rows.rows.iter().map(|r| r.id)).await?;
    let orgs: HashMap<i64, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(rows.rows.iter().map(|r| r.organisation_id).collect::<HashSet<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let now = state.now();
    Ok(rows.map(|r| {
        let list = state.checklists.get(&r.checklist_key);
        QueueEntry {
            item_id: r.id,
            organisation_id: r.organisation_id,
            organisation: orgs.get(&r.organisation_id).cloned().unwrap_or_default(),
            checklist_key: r.checklist_key.clone(),
            checklist: list.map(|l| l.title.get(lang).to_string()).unwrap_or_default(),
            text: list
                .and_then(|l| l.item(&r.item_key))
                .map(|d| d.text.get(lang).to_string())
                .unwrap_or_else(|| r.item_key.clone()),
            status: status_of(&r).as_str(),
            waiting_since: r.status_changed_at,
            waiting_days: (now - r.status_changed_at).num_days(),
            opened: opened.get(&r.id).is_some_and(|at| *at >= r.status_changed_at),
        }
    }))
}

/// When this user last opened each of these items.
async fn openings(
    db: &impl ConnectionTrait,
    user_id: i64,
    items: impl Iterator<Item = i64>,
) -> AppResult<HashMap<i64, DateTime<Utc>>> {
    Ok(item_opening::Entity::find()
        .filter(item_opening::Column::UserId.eq(user_id))
        .filter(item_opening::Column::ItemId.is_in(items.collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.item_id, o.opened_at))
        .collect())
}

/// Notes that a reviewer opened a waiting item (the page with its evidence).
pub async fn mark_opened(state: &AppState, actor: &Actor, item_id: i64) -> AppResult<()> {
    let row = load_item(state, actor, item_id, Permission::ReviewItems).await?;
    if !status_of(&row).awaits_review() {
        return Ok(());
    }
    let now = state.now();
    item_opening::Entity::insert(item_opening::ActiveModel {
        item_id: Set(item_id),
        user_id: Set(actor.user_id),
        opened_at: Set(now),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::columns([item_opening::Column::ItemId, item_opening::Column::UserId])
            .update_column(item_opening::Column::OpenedAt)
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(())
}

/// Accepts several waiting items at once, each only if this reviewer opened it since it was
/// submitted; if one was not opened, none is accepted. Returns how many were accepted.
pub async fn accept_opened(state: &AppState, actor: &Actor, ids: &[i64]) -> AppResult<usize> {
    if ids.is_empty() {
        return Err(AppError::invalid("item", "choose_items"));
    }
    if ids.len() > 100 {
        return Err(AppError::invalid("item", "too_many_items"));
    }
    let mut rows = vec![];
    for id in ids {
        rows.push(load_item(state, actor, *id, Permission::ReviewItems).await?);
    }
    let opened = openings(&state.db, actor.user_id, ids.iter().copied()).await?;
    if rows.iter().any(|r| opened.get(&r.id).is_none_or(|at| *at < r.status_changed_at)) {
        return Err(AppError::invalid("item", "open_before_accepting"));
    }
    for r in &rows {
        transition(state, actor, r.id, Action::Accept, None, None).await?;
    }
    Ok(rows.len())
}
