//! Progress kept, not recounted on every page: per organisation and checklist the items by status
//! (`checklist_progress`), and per organisation what the portfolio sorts and filters by
//! (`organisation_figures`). Every write they depend on (an item's status, new items, a
//! recognition granted or revoked) calls `refresh` for its organisation inside its own
//! transaction, after taking the organisation's progress lock, so the kept figures change exactly
//! when the change becomes visible. `drift` recounts from the items and names any difference.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db::entities::{checklist_progress, item, organisation, organisation_figures, recognition};
use crate::domain::checklist::{Checklists, Kind};
use crate::domain::progress::Progress;
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
        });
    }
    Ok(out)
}

/// Brings the kept figures of these organisations up to date, inside the caller's transaction.
pub async fn refresh(db: &impl ConnectionTrait, lists: &Checklists, orgs: &[i64]) -> AppResult<()> {
    for chunk in orgs.chunks(CHUNK) {
        // Two transactions changing one organisation's items count one after the other, the
        // second seeing the first's change (PostgreSQL; SQLite's writers are one at a time).
        for &org in chunk {
            crate::db::connect::serialise(db, "progress", org).await?;
        }
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
        if !c.figures.is_empty() {
            let rows = c.figures.into_iter().map(organisation_figures::ActiveModel::from);
            organisation_figures::Entity::insert_many(rows).exec_without_returning(db).await?;
        }
    }
    Ok(())
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
    Ok(out)
}
