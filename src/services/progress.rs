//! Progress kept, not recounted on every page: per organisation and checklist the items by status
//! (`checklist_progress`), per organisation what the portfolio sorts and filters by
//! (`organisation_figures`), and per advisor the sums their queue and portfolio show
//! (`advisor_figures`). Every write they depend on (an item's status, new items, an application,
//! a recognition granted or revoked) calls `refresh` for its organisation inside its own
//! transaction, and every change of assignments calls `reassigned`, so the kept figures change
//! exactly when the change becomes visible. `drift` recounts everything and names any difference.
//!
//! Locks (PostgreSQL; SQLite's writers are one at a time): a transaction takes the organisations'
//! progress locks first, in id order, then the advisors' figure locks, in id order, and no
//! organisation lock after an advisor lock; so no two transactions wait for each other. An
//! advisor's sums change by the difference each organisation's figures made, which is exact
//! because the organisation's lock is held while it is computed; a full recount (at start) holds
//! the advisor's lock, so a difference is applied either wholly before it or after it.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityName, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Set,
};

use crate::db::entities::{
    advisor_assignment, advisor_figures, checklist_progress, item, organisation, organisation_figures, recognition,
    recognition_application,
};
use crate::domain::checklist::{Checklists, Kind};
use crate::domain::progress::Progress;
use crate::domain::role::Role;
use crate::domain::workflow::ItemStatus;
use crate::error::AppResult;

/// `waiting_since` when nothing waits: later than any real time, so sorts need no nulls.
pub fn nothing_waiting() -> DateTime<Utc> {
    no_recognition().and_time(NaiveTime::MIN).and_utc()
}

/// `valid_until` when there is no recognition.
pub fn no_recognition() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// Organisations per query: keeps the `IN (...)` lists and inserts well under the databases' limits.
const CHUNK: usize = 200;

/// The kept rows of some organisations, as stored or as recounted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counted {
    pub lists: Vec<checklist_progress::Model>,
    pub figures: Vec<organisation_figures::Model>,
}

impl From<&checklist_progress::Model> for Progress {
    fn from(r: &checklist_progress::Model) -> Progress {
        let n = |v: i32| usize::try_from(v).unwrap_or(0);
        Progress {
            total: n(r.total),
            done: n(r.done),
            awaiting_review: n(r.awaiting_review),
            changes_requested: n(r.changes_requested),
            in_progress: n(r.in_progress),
            open: n(r.open),
            due: n(r.due),
        }
    }
}

fn int(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Items per (organisation, checklist, status), counting only items in the current checklists.
async fn status_counts(
    db: &impl ConnectionTrait,
    lists: &Checklists,
    orgs: &[i64],
) -> AppResult<Vec<(i64, String, String, i64)>> {
    let mut current = Condition::any();
    for l in lists.all() {
        current = current.add(
            Condition::all()
                .add(item::Column::ChecklistKey.eq(l.key.clone()))
                .add(item::Column::ItemKey.is_in(l.items.iter().map(|i| i.key.clone()).collect::<Vec<_>>())),
        );
    }
    Ok(item::Entity::find()
        .select_only()
        .columns([item::Column::OrganisationId, item::Column::ChecklistKey, item::Column::Status])
        .column_as(item::Column::Id.count(), "n")
        .filter(item::Column::OrganisationId.is_in(orgs.to_vec()))
        .filter(current)
        .group_by(item::Column::OrganisationId)
        .group_by(item::Column::ChecklistKey)
        .group_by(item::Column::Status)
        .into_tuple()
        .all(db)
        .await?)
}

/// Items waiting for review per organisation: (count, oldest).
async fn waiting_by_org(db: &impl ConnectionTrait, orgs: &[i64]) -> AppResult<HashMap<i64, (i64, DateTime<Utc>)>> {
    let rows: Vec<(i64, i64, DateTime<Utc>)> = item::Entity::find()
        .select_only()
        .column(item::Column::OrganisationId)
        .column_as(item::Column::Id.count(), "n")
        .column_as(item::Column::StatusChangedAt.min(), "oldest")
        .filter(item::Column::OrganisationId.is_in(orgs.to_vec()))
        .filter(item::Column::Status.is_in(ItemStatus::WAITING.map(ItemStatus::as_str)))
        .group_by(item::Column::OrganisationId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(o, n, t)| (o, (n, t))).collect())
}

/// Recounts some organisations (at most `CHUNK`) from their items and recognitions.
async fn count(db: &impl ConnectionTrait, lists: &Checklists, orgs: &[i64]) -> AppResult<Counted> {
    let mut by_list: HashMap<(i64, String), Progress> = HashMap::new();
    for (org, list, status, n) in status_counts(db, lists, orgs).await? {
        let p = by_list.entry((org, list)).or_default();
        for _ in 0..n {
            p.add(ItemStatus::parse(&status).unwrap_or(ItemStatus::Open));
        }
    }
    let waiting = waiting_by_org(db, orgs).await?;
    let mut latest: HashMap<i64, recognition::Model> = HashMap::new();
    for r in recognition::Entity::find()
        .filter(recognition::Column::OrganisationId.is_in(orgs.to_vec()))
        .order_by_asc(recognition::Column::Id)
        .all(db)
        .await?
    {
        latest.insert(r.organisation_id, r);
    }
    let advisors: HashMap<i64, i64> = advisor_assignment::Entity::find()
        .select_only()
        .column(advisor_assignment::Column::OrganisationId)
        .column_as(advisor_assignment::Column::AdvisorId.count(), "n")
        .filter(advisor_assignment::Column::OrganisationId.is_in(orgs.to_vec()))
        .group_by(advisor_assignment::Column::OrganisationId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let pending: HashSet<i64> = recognition_application::Entity::find()
        .select_only()
        .column(recognition_application::Column::OrganisationId)
        .filter(recognition_application::Column::OrganisationId.is_in(orgs.to_vec()))
        .filter(recognition_application::Column::Status.eq(super::recognition::PENDING))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let names: HashMap<i64, String> = organisation::Entity::find()
        .select_only()
        .columns([organisation::Column::Id, organisation::Column::Name])
        .filter(organisation::Column::Id.is_in(orgs.to_vec()))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut out = Counted::default();
    for &org in orgs {
        let mut pillars = Progress::default();
        for l in lists.all() {
            let p = by_list.remove(&(org, l.key.clone())).unwrap_or_default();
            if l.kind == Kind::Pillar {
                pillars.total += p.total;
                pillars.done += p.done;
            }
            out.lists.push(checklist_progress::Model {
                organisation_id: org,
                checklist_key: l.key.clone(),
                checklist_version: l.version.clone(),
                total: int(p.total),
                done: int(p.done),
                awaiting_review: int(p.awaiting_review),
                changes_requested: int(p.changes_requested),
                in_progress: int(p.in_progress),
                open: int(p.open),
                due: int(p.due),
            });
        }
        let w = waiting.get(&org);
        let rec = latest.get(&org);
        out.figures.push(organisation_figures::Model {
            organisation_id: org,
            name: names.get(&org).cloned().unwrap_or_default(),
            percent: pillars.percent() as i32,
            waiting: w.map(|w| i32::try_from(w.0).unwrap_or(i32::MAX)).unwrap_or(0),
            waiting_since: w.map(|w| w.1).unwrap_or_else(nothing_waiting),
            valid_until: rec.map(|r| r.valid_until).unwrap_or_else(no_recognition),
            live: rec.is_some_and(|r| r.revoked_at.is_none() && r.renewed_by_id.is_none()),
            advisors: advisors.get(&org).map_or(0, |n| i32::try_from(*n).unwrap_or(i32::MAX)),
            application_pending: pending.contains(&org),
        });
    }
    Ok(out)
}

/// What one organisation adds to each of its advisors' sums.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Share {
    organisations: i32,
    waiting: i32,
    organisations_waiting: i32,
}

impl Share {
    fn of(f: &organisation_figures::Model) -> Share {
        Share {
            organisations: 1,
            waiting: f.waiting,
            organisations_waiting: i32::from(f.waiting > 0 || f.application_pending),
        }
    }

    fn add(&mut self, other: Share, sign: i32) {
        self.organisations += sign * other.organisations;
        self.waiting += sign * other.waiting;
        self.organisations_waiting += sign * other.organisations_waiting;
    }
}

const ORGANISATION_LOCK: &str = "progress";
const ADVISOR_LOCK: &str = "advisor_figures";

/// The locks of these ids of one kind, in id order (see the module's note on locks).
async fn lock_all(db: &impl ConnectionTrait, what: &str, ids: &[i64]) -> AppResult<Vec<i64>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for &id in &ids {
        crate::db::connect::serialise(db, what, id).await?;
    }
    Ok(ids)
}

/// Brings the kept figures of these organisations up to date, inside the caller's transaction,
/// and their advisors' sums by the difference.
pub async fn refresh(db: &impl ConnectionTrait, lists: &Checklists, orgs: &[i64]) -> AppResult<()> {
    // Two transactions changing one organisation's items count one after the other, the
    // second seeing the first's change.
    let orgs = lock_all(db, ORGANISATION_LOCK, orgs).await?;
    let mut moved: Vec<(i64, Share)> = vec![];
    for chunk in orgs.chunks(CHUNK) {
        let before: HashMap<i64, Share> = organisation_figures::Entity::find()
            .filter(organisation_figures::Column::OrganisationId.is_in(chunk.to_vec()))
            .all(db)
            .await?
            .iter()
            .map(|f| (f.organisation_id, Share::of(f)))
            .collect();
        let c = count(db, lists, chunk).await?;
        checklist_progress::Entity::delete_many()
            .filter(checklist_progress::Column::OrganisationId.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
        organisation_figures::Entity::delete_many()
            .filter(organisation_figures::Column::OrganisationId.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
        for rows in c.lists.chunks(500) {
            let rows = rows.iter().cloned().map(checklist_progress::ActiveModel::from);
            checklist_progress::Entity::insert_many(rows).exec_without_returning(db).await?;
        }
        for f in &c.figures {
            let mut d = Share::of(f);
            d.add(before.get(&f.organisation_id).copied().unwrap_or_default(), -1);
            // The count of organisations moves only with assignments (`reassigned`).
            d.organisations = 0;
            if d != Share::default() {
                moved.push((f.organisation_id, d));
            }
        }
        if !c.figures.is_empty() {
            let rows = c.figures.into_iter().map(organisation_figures::ActiveModel::from);
            organisation_figures::Entity::insert_many(rows).exec_without_returning(db).await?;
        }
    }
    if moved.is_empty() {
        return Ok(());
    }
    let advisors: Vec<i64> = advisor_assignment::Entity::find()
        .select_only()
        .column(advisor_assignment::Column::AdvisorId)
        .distinct()
        .filter(advisor_assignment::Column::OrganisationId.is_in(moved.iter().map(|m| m.0).collect::<Vec<_>>()))
        .into_tuple()
        .all(db)
        .await?;
    lock_all(db, ADVISOR_LOCK, &advisors).await?;
    for (org, d) in moved {
        // The advisors as committed now, under their locks: one whose assignment ended meanwhile
        // was recounted without this organisation.
        let assigned = Query::select()
            .column(advisor_assignment::Column::AdvisorId)
            .from(advisor_assignment::Entity.table_ref())
            .and_where(advisor_assignment::Column::OrganisationId.eq(org))
            .to_owned();
        add_to_advisors(db, advisor_figures::Column::AdvisorId.in_subquery(assigned), d).await?;
    }
    Ok(())
}

/// Adds `d` to the sums of the advisors `which` selects; how many rows it changed.
async fn add_to_advisors(db: &impl ConnectionTrait, which: impl Into<Condition>, d: Share) -> AppResult<u64> {
    use advisor_figures::Column as A;
    Ok(advisor_figures::Entity::update_many()
        .col_expr(A::Organisations, Expr::col(A::Organisations).add(d.organisations))
        .col_expr(A::Waiting, Expr::col(A::Waiting).add(d.waiting))
        .col_expr(A::OrganisationsWaiting, Expr::col(A::OrganisationsWaiting).add(d.organisations_waiting))
        .filter(which.into())
        .exec(db)
        .await?
        .rows_affected)
}

/// The locks `reassigned` takes, taken up front and in order, for a transaction that calls it
/// more than once: each call keeps the order, but a second call could take a lower advisor's lock
/// after a higher one's from the first.
pub async fn lock_for_reassignment(db: &impl ConnectionTrait, orgs: &[i64], advisors: &[i64]) -> AppResult<()> {
    lock_all(db, ORGANISATION_LOCK, orgs).await?;
    lock_all(db, ADVISOR_LOCK, advisors).await?;
    Ok(())
}

/// After advisors started (`true`) or stopped (`false`) looking after organisations, inside the
/// caller's transaction, once the assignment rows have changed: each organisation's number of
/// advisors, and each advisor's sums by that organisation's figures.
pub async fn reassigned(db: &impl ConnectionTrait, moves: &[(i64, i64, bool)]) -> AppResult<()> {
    if moves.is_empty() {
        return Ok(());
    }
    let orgs = lock_all(db, ORGANISATION_LOCK, &moves.iter().map(|m| m.1).collect::<Vec<_>>()).await?;
    lock_all(db, ADVISOR_LOCK, &moves.iter().map(|m| m.0).collect::<Vec<_>>()).await?;
    let mut figures: HashMap<i64, Share> = HashMap::new();
    for chunk in orgs.chunks(CHUNK) {
        for f in organisation_figures::Entity::find()
            .filter(organisation_figures::Column::OrganisationId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            figures.insert(f.organisation_id, Share::of(&f));
        }
    }
    let mut by_org: BTreeMap<i64, i32> = BTreeMap::new();
    let mut by_advisor: BTreeMap<i64, Share> = BTreeMap::new();
    for &(advisor, org, added) in moves {
        let sign = if added { 1 } else { -1 };
        *by_org.entry(org).or_default() += sign;
        // An organisation without figures yet (being created) has only itself to count.
        let share = figures.get(&org).copied().unwrap_or(Share { organisations: 1, ..Share::default() });
        by_advisor.entry(advisor).or_default().add(share, sign);
    }
    for (org, n) in by_org.into_iter().filter(|(_, n)| *n != 0) {
        organisation_figures::Entity::update_many()
            .col_expr(organisation_figures::Column::Advisors, Expr::col(organisation_figures::Column::Advisors).add(n))
            .filter(organisation_figures::Column::OrganisationId.eq(org))
            .exec(db)
            .await?;
    }
    for (advisor, d) in by_advisor {
        if add_to_advisors(db, advisor_figures::Column::AdvisorId.eq(advisor), d).await? == 0 {
            // The advisor's first organisation (their lock is held: nobody else inserts it).
            advisor_figures::ActiveModel {
                advisor_id: Set(advisor),
                organisations: Set(d.organisations),
                waiting: Set(d.waiting),
                organisations_waiting: Set(d.organisations_waiting),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Advisors' sums recounted from their assignments and the organisations' figures.
async fn advisor_sums(db: &impl ConnectionTrait, advisors: &[i64]) -> AppResult<Vec<advisor_figures::Model>> {
    use organisation_figures::Column as F;
    let busy = Expr::case(Condition::any().add(F::Waiting.gt(0)).add(F::ApplicationPending.eq(true)), Expr::val(1))
        .finally(Expr::val(0));
    let rows: Vec<(i64, i64, Option<i64>, Option<i64>)> = advisor_assignment::Entity::find()
        .select_only()
        .column(advisor_assignment::Column::AdvisorId)
        .column_as(advisor_assignment::Column::OrganisationId.count(), "n")
        .column_as(F::Waiting.sum(), "waiting")
        .column_as(Expr::expr(busy).sum(), "busy")
        .join(JoinType::InnerJoin, advisor_assignment::Relation::Figures.def())
        .filter(advisor_assignment::Column::AdvisorId.is_in(advisors.to_vec()))
        .group_by(advisor_assignment::Column::AdvisorId)
        .into_tuple()
        .all(db)
        .await?;
    let n = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    Ok(rows
        .into_iter()
        .map(|(advisor_id, orgs, waiting, busy)| advisor_figures::Model {
            advisor_id,
            organisations: n(orgs),
            waiting: n(waiting.unwrap_or(0)),
            organisations_waiting: n(busy.unwrap_or(0)),
        })
        .collect())
}

/// Every advisor's sums recounted (at start, after the organisations' figures), one advisor per
/// transaction under their lock.
pub async fn recount_advisors(db: &DatabaseConnection) -> AppResult<usize> {
    let advisors = advisor_ids(db).await?;
    for &advisor in &advisors {
        let txn = crate::db::write_txn(db).await?;
        lock_all(&txn, ADVISOR_LOCK, &[advisor]).await?;
        let sums = advisor_sums(&txn, &[advisor]).await?;
        advisor_figures::Entity::delete_by_id(advisor).exec(&txn).await?;
        if let Some(row) = sums.into_iter().next() {
            advisor_figures::ActiveModel::from(row).insert(&txn).await?;
        }
        txn.commit().await?;
    }
    Ok(advisors.len())
}

async fn advisor_ids(db: &impl ConnectionTrait) -> AppResult<Vec<i64>> {
    Ok(crate::db::entities::user::Entity::find()
        .select_only()
        .column(crate::db::entities::user::Column::Id)
        .filter(crate::db::entities::user::Column::Role.eq(Role::Advisor.as_str()))
        .order_by_asc(crate::db::entities::user::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

/// The organisations whose kept figures are missing or were counted against other checklists
/// (a new database, or checklists changed since), and `also` (those that just got items),
/// refreshed at start: a write transaction per chunk, so instances starting together take the
/// organisations' progress locks in turn instead of deleting and inserting the same rows at once.
pub async fn refresh_stale(db: &DatabaseConnection, lists: &Checklists, also: &[i64]) -> AppResult<usize> {
    let orgs: Vec<i64> =
        organisation::Entity::find().select_only().column(organisation::Column::Id).into_tuple().all(db).await?;
    let with_figures: HashSet<i64> = organisation_figures::Entity::find()
        .select_only()
        .column(organisation_figures::Column::OrganisationId)
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let current: HashSet<(String, String)> = lists.all().iter().map(|l| (l.key.clone(), l.version.clone())).collect();
    let mut counted: HashMap<i64, usize> = HashMap::new();
    let mut stale: HashSet<i64> = HashSet::new();
    let rows: Vec<(i64, String, String)> = checklist_progress::Entity::find()
        .select_only()
        .columns([
            checklist_progress::Column::OrganisationId,
            checklist_progress::Column::ChecklistKey,
            checklist_progress::Column::ChecklistVersion,
        ])
        .into_tuple()
        .all(db)
        .await?;
    for (org, key, version) in rows {
        *counted.entry(org).or_default() += 1;
        if !current.contains(&(key, version)) {
            stale.insert(org);
        }
    }
    let stale: Vec<i64> = orgs
        .into_iter()
        .filter(|o| {
            also.contains(o)
                || stale.contains(o)
                || !with_figures.contains(o)
                || counted.get(o).copied().unwrap_or(0) != current.len()
        })
        .collect();
    for chunk in stale.chunks(CHUNK) {
        let txn = crate::db::write_txn(db).await?;
        refresh(&txn, lists, chunk).await?;
        txn.commit().await?;
    }
    Ok(stale.len())
}

/// The kept rows of these organisations as stored.
pub async fn stored(db: &impl ConnectionTrait, orgs: &[i64]) -> AppResult<Counted> {
    let mut out = Counted::default();
    for chunk in orgs.chunks(CHUNK) {
        out.lists.extend(
            checklist_progress::Entity::find()
                .filter(checklist_progress::Column::OrganisationId.is_in(chunk.to_vec()))
                .all(db)
                .await?,
        );
        out.figures.extend(
            organisation_figures::Entity::find()
                .filter(organisation_figures::Column::OrganisationId.is_in(chunk.to_vec()))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// Where the kept figures differ from a recount of every organisation (empty when exact).
pub async fn drift(db: &impl ConnectionTrait, lists: &Checklists) -> AppResult<Vec<String>> {
    let orgs: Vec<i64> = organisation::Entity::find()
        .select_only()
        .column(organisation::Column::Id)
        .order_by_asc(organisation::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut out = vec![];
    for chunk in orgs.chunks(CHUNK) {
        let mut want = count(db, lists, chunk).await?;
        let mut have = stored(db, chunk).await?;
        for c in [&mut want, &mut have] {
            c.lists.sort_by(|a, b| (a.organisation_id, &a.checklist_key).cmp(&(b.organisation_id, &b.checklist_key)));
            c.figures.sort_by_key(|f| f.organisation_id);
        }
        let missing = |what: &str, org: i64| format!("organisation {org}: {what} not kept");
        for w in &want.lists {
            match have
                .lists
                .iter()
                .find(|h| h.organisation_id == w.organisation_id && h.checklist_key == w.checklist_key)
            {
                Some(h) if h == w => {}
                Some(h) => out.push(format!("kept {h:?}, counted {w:?}")),
                None => out.push(missing(&w.checklist_key, w.organisation_id)),
            }
        }
        if have.lists.len() != want.lists.len() {
            out.push(format!("{} checklist rows kept, {} counted", have.lists.len(), want.lists.len()));
        }
        for w in &want.figures {
            match have.figures.iter().find(|h| h.organisation_id == w.organisation_id) {
                Some(h) if h == w => {}
                Some(h) => out.push(format!("kept {h:?}, counted {w:?}")),
                None => out.push(missing("figures", w.organisation_id)),
            }
        }
    }
    let advisors = advisor_ids(db).await?;
    for chunk in advisors.chunks(CHUNK) {
        let want = advisor_sums(db, chunk).await?;
        let have = advisor_figures::Entity::find()
            .filter(advisor_figures::Column::AdvisorId.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        for &a in chunk {
            let zero = advisor_figures::Model::nothing(a);
            let w = want.iter().find(|w| w.advisor_id == a).unwrap_or(&zero);
            let h = have.iter().find(|h| h.advisor_id == a).unwrap_or(&zero);
            if w != h {
                out.push(format!("advisor {a}: kept {h:?}, counted {w:?}"));
            }
        }
    }
    Ok(out)
}

/// An advisor's kept sums (zeros when nothing is assigned).
pub async fn advisor(db: &impl ConnectionTrait, advisor_id: i64) -> AppResult<advisor_figures::Model> {
    Ok(advisor_figures::Entity::find_by_id(advisor_id)
        .one(db)
        .await?
        .unwrap_or_else(|| advisor_figures::Model::nothing(advisor_id)))
}

/// Items waiting for review in the actor's organisations: an advisor's kept sum, otherwise the
/// sum of the organisations' figures.
pub async fn waiting_in_scope(db: &impl ConnectionTrait, actor: &crate::domain::policy::Actor) -> AppResult<u64> {
    let n = if actor.role == Role::Advisor {
        i64::from(advisor(db, actor.user_id).await?.waiting)
    } else {
        let sum = organisation_figures::Entity::find()
            .select_only()
            .column_as(organisation_figures::Column::Waiting.sum(), "n");
        crate::db::scope::within(sum, actor, organisation_figures::Column::OrganisationId)
            .count
            .into_tuple::<Option<i64>>()
            .one(db)
            .await?
            .flatten()
            .unwrap_or(0)
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Done and total items per (organisation, pillar) as kept: what a portfolio row shows per pillar.
pub async fn pillar_counts(
    db: &impl ConnectionTrait,
    lists: &Checklists,
    orgs: &[i64],
) -> AppResult<HashMap<(i64, String), Progress>> {
    use checklist_progress::Column as C;
    let pillars: Vec<String> = lists.pillars().map(|l| l.key.clone()).collect();
    let rows: Vec<(i64, String, i32, i32)> = checklist_progress::Entity::find()
        .select_only()
        .columns([C::OrganisationId, C::ChecklistKey, C::Total, C::Done])
        .filter(C::OrganisationId.is_in(orgs.to_vec()))
        .filter(C::ChecklistKey.is_in(pillars))
        .into_tuple()
        .all(db)
        .await?;
    let n = |v: i32| usize::try_from(v).unwrap_or(0);
    Ok(rows
        .into_iter()
        .map(|(org, key, total, done)| ((org, key), Progress { total: n(total), done: n(done), ..Progress::default() }))
        .collect())
}
