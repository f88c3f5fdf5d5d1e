//! The work of each job: which periods are due, and what happens in each.
use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{Job, Report, claims};
use crate::db::connect::write_txn;
use crate::db::entities::{
    advisor_assignment, attention_moment, evidence, item, organisation, recognition_application, user,
};
use crate::domain::policy::Permission;
use crate::domain::role::Role;
use crate::domain::schedule::{self, REMINDER_HOUR, Rule, local_at, local_date, zone};
use crate::domain::workflow::ItemStatus;
use crate::error::AppResult;
use crate::services::assessment::{Step, apply_transition};
use crate::services::audit::{self, Entry};
use crate::services::notifications::{Kind, Notice, notify};
use crate::state::AppState;

/// Claims (job, period, scope); if this run got it, runs the body in a transaction that also
/// finishes the claim. The body evaluates to the number of reminders stored.
macro_rules! once {
    ($state:expr, $report:expr, $claims:expr, $period:expr, $scope:expr, |$txn:ident| $body:block) => {{
        if let Some(claim) = $claims.claim($state, &$period, &$scope).await? {
            let $txn = write_txn(&$state.db).await?;
            let result: AppResult<usize> = async { $body }.await;
            match result {
                Ok(n) => {
                    if claims::finish(&$txn, $state, &claim, &n.to_string()).await? {
                        $txn.commit().await?;
                        $report.done += 1;
                        $report.notices += n;
                    }
                }
                Err(e) => {
                    drop($txn);
                    tracing::warn!(job = $claims.job.name(), period = %$period, scope = %$scope, error = %e, "job period failed");
                    claims::fail($state, &claim, &e.to_string()).await?;
                    $report.failed += 1;
                }
            }
        }
    }};
}

async fn organisations(state: &AppState) -> AppResult<Vec<organisation::Model>> {
    Ok(organisation::Entity::find().order_by_asc(organisation::Column::Id).all(&state.db).await?)
}

async fn members(db: &impl ConnectionTrait, org: i64, roles: &[Role]) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::OrganisationId.eq(org))
        .filter(user::Column::Role.is_in(roles.iter().map(|r| r.as_str())))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?)
}

/// One reminder for several people; each gets it once (the key is made per person).
struct Reminder {
    kind: Kind,
    organisation_id: Option<i64>,
    params: minijinja::Value,
    link: Option<String>,
    key: String,
}

/// Sends the reminder to each of `to`, with a dedupe key per person.
async fn notify_all(db: &impl ConnectionTrait, state: &AppState, to: &[user::Model], r: Reminder) -> AppResult<usize> {
    let mut n = 0;
    for u in to {
        // A reminder's link leads into the organisation's pages; someone who may not open them
        // (a manager, a carer) is led to their own start page instead of a refusal.
        let actor = crate::services::accounts::actor_for(db, &state.assignments, u).await?;
        let may_open = r.organisation_id.is_none_or(|org| actor.may(Permission::ViewAssessment, org).is_ok());
        let link =
            if may_open { r.link.clone() } else { Some(format!("{}{}", state.public_url(), actor.home().path())) };
        let notice = Notice {
            to: u,
            kind: r.kind,
            organisation_id: r.organisation_id,
            params: r.params.clone(),
            link,
            dedupe_key: format!("{}:user{}", r.key, u.id),
        };
        if notify(db, state, notice).await? {
            n += 1;
        }
    }
    Ok(n)
}

fn org_scope(o: &organisation::Model) -> String {
    format!("org:{}", o.id)
}

/// The reminder day: today at 09:00 local has come, else yesterday (still to catch up).
fn reminder_day(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    let today = local_date(tz, now);
    if local_at(tz, today, REMINDER_HOUR, 0) <= now { today } else { today - Duration::days(1) }
}

pub async fn day_of_carers(state: &AppState, report: &mut Report) -> AppResult<()> {
    let job = Job::DayOfCarers;
    let mut claims = claims::Claims::new(job);
    let now = state.now();
    for o in organisations(state).await? {
        let tz = zone(&o.timezone);
        let year = local_date(tz, now).year();
        let day = schedule::day_of_carers(year);
        // The latest moment that has come this year; an earlier one it replaces is not sent late.
        let moments = [("4w", day - Duration::days(28), 28), ("1w", day - Duration::days(7), 7), ("day", day, 0)];
        let Some(&(stage, date, days)) =
            moments.iter().rev().find(|(_, d, _)| local_at(tz, *d, REMINDER_HOUR, 0) <= now)
        else {
            continue;
        };
        if local_at(tz, date, REMINDER_HOUR, 0) < o.created_at {
            continue;
        }
        let period = format!("{year}-{stage}");
        let scope = org_scope(&o);
        once!(state, report, claims, period, scope, |txn| {
            let hr = members(&txn, o.id, &[Role::HrLead]).await?;
            let mut link = Some(format!("{}/organisations/{}", state.public_url(), o.id));
            let mut item_text = None;
            let mut lapsed = false;
            if stage == "day" {
                // The yearly-attention item asks for this year's evidence.
                let row = item::Entity::find()
                    .filter(item::Column::OrganisationId.eq(o.id))
                    .filter(item::Column::ChecklistKey.eq("borgen"))
                    .filter(item::Column::ItemKey.eq("yearly-attention"))
                    .one(&txn)
                    .await?;
                if let Some(row) = row {
                    link = Some(format!("{}/items/{}", state.public_url(), row.id));
                    item_text =
                        state.checklists.get("borgen").and_then(|l| l.item("yearly-attention")).map(|i| i.text.clone());
                    // Evidence accepted since the four-week reminder already is this year's.
                    let season = local_at(tz, day - Duration::days(28), REMINDER_HOUR, 0);
                    if row.status == ItemStatus::Accepted.as_str() && row.status_changed_at < season {
                        let reason = format!("Dag van de Mantelzorg {year}: fresh evidence for this year");
                        lapse(&txn, state, &row, reason).await?;
                        lapsed = true;
                    }
                }
            }
            let params = minijinja::context! { organisation => o.name.clone(), stage => stage, days => days, lapsed => lapsed,
            date => day.to_string(), item_nl => item_text.as_ref().map(|t| t.nl.clone()),
            item_en => item_text.as_ref().map(|t| t.en.clone()) };
            notify_all(
                &txn,
                state,
                &hr,
                Reminder {
                    kind: Kind::DayOfCarers,
                    organisation_id: Some(o.id),
                    params,
                    link,
                    key: format!("carers-day:{}:{period}", o.id),
                },
            )
            .await
        });
    }
    Ok(())
}

/// Puts an accepted item back to due, with its history line and an audit entry.
async fn lapse(db: &impl ConnectionTrait, state: &AppState, row: &item::Model, reason: String) -> AppResult<()> {
    let now = state.now();
    let step = Step { from: ItemStatus::Accepted, to: ItemStatus::Due, actor_id: None, reason: Some(reason.clone()) };
    apply_transition(db, &state.checklists, row, step, now).await?;
    audit::record(
        db,
        now,
        Entry {
            actor_id: None,
            organisation_id: Some(row.organisation_id),
            action: "item.lapse",
            subject: format!("item:{}", row.id),
            detail: Some(reason),
        },
    )
    .await?;
    Ok(())
}

pub async fn appraisal_cycle(state: &AppState, report: &mut Report) -> AppResult<()> {
    let job = Job::AppraisalCycle;
    let mut claims = claims::Claims::new(job);
    let now = state.now();
    for o in organisations(state).await? {
        let Some(month) = o.appraisal_month.and_then(|m| u32::try_from(m).ok()) else { continue };
        let tz = zone(&o.timezone);
        let today = local_date(tz, now);
        let Some(first) = NaiveDate::from_ymd_opt(today.year(), month, 1) else { continue };
        // Only within the month itself: a missed month is not worth a late reminder.
        if today.month() != month || local_at(tz, first, REMINDER_HOUR, 0) > now {
            continue;
        }
        let period = format!("{}-{month:02}", today.year());
        let scope = org_scope(&o);
        once!(state, report, claims, period, scope, |txn| {
            let to = members(&txn, o.id, &[Role::HrLead, Role::Manager]).await?;
            let params = minijinja::context! { organisation => o.name.clone() };
            let link = Some(format!("{}/organisations/{}/checklists/borgen", state.public_url(), o.id));
            notify_all(
                &txn,
                state,
                &to,
                Reminder {
                    kind: Kind::AppraisalCycle,
                    organisation_id: Some(o.id),
                    params,
                    link,
                    key: format!("appraisal:{}:{period}", o.id),
                },
            )
            .await
        });
    }
    Ok(())
}

pub async fn manager_briefing(state: &AppState, report: &mut Report) -> AppResult<()> {
    let job = Job::ManagerBriefing;
    let mut claims = claims::Claims::new(job);
    let now = state.now();
    let orgs: HashMap<i64, organisation::Model> = organisations(state).await?.into_iter().map(|o| (o.id, o)).collect();
    let managers = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Manager.as_str()))
        .filter(user::Column::Active.eq(true))
        .all(&state.db)
        .await?;
    for m in managers {
        let Some(o) = m.organisation_id.and_then(|id| orgs.get(&id)) else { continue };
        let tz = zone(&o.timezone);
        let every = o.manager_briefing_years.max(1);
        let start = local_date(tz, m.created_at);
        // Cycle k falls on the k*N-th anniversary of becoming a manager here (k = 0: on joining).
        let Some(k) = (0..100)
            .take_while(|k| {
                local_at(tz, schedule::anniversary(start, start.year() + k * every), REMINDER_HOUR, 0) <= now
            })
            .last()
        else {
            continue;
        };
        let period = format!("cycle-{k}");
        let scope = format!("user:{}", m.id);
        once!(state, report, claims, period, scope, |txn| {
            let params = minijinja::context! { organisation => o.name.clone(), years => every };
            let link = Some(format!("{}/organisations/{}", state.public_url(), o.id));
            notify_all(
                &txn,
                state,
                std::slice::from_ref(&m),
                Reminder {
                    kind: Kind::ManagerBriefing,
                    organisation_id: Some(o.id),
                    params,
                    link,
                    key: format!("briefing:{scope}:{period}"),
                },
            )
            .await
        });
    }
    Ok(())
}

pub async fn handbook_check(state: &AppState, report: &mut Report) -> AppResult<()> {
    let job = Job::HandbookCheck;
    let mut claims = claims::Claims::new(job);
    let now = state.now();
    for o in organisations(state).await? {
        let tz = zone(&o.timezone);
        let start = local_date(tz, o.created_at);
        // Each anniversary of joining, from the first one on.
        let Some(year) = (1..100)
            .map(|k| start.year() + k)
            .take_while(|y| local_at(tz, schedule::anniversary(start, *y), REMINDER_HOUR, 0) <= now)
            .last()
        else {
            continue;
        };
        let period = year.to_string();
        let scope = org_scope(&o);
        once!(state, report, claims, period, scope, |txn| {
            let hr = members(&txn, o.id, &[Role::HrLead]).await?;
            let params = minijinja::context! { organisation => o.name.clone() };
            let link = Some(format!("{}/organisations/{}/checklists/borgen", state.public_url(), o.id));
            notify_all(
                &txn,
                state,
                &hr,
                Reminder {
                    kind: Kind::HandbookCheck,
                    organisation_id: Some(o.id),
                    params,
                    link,
                    key: format!("handbook:{}:{period}", o.id),
                },
            )
            .await
        });
    }
    Ok(())
}

/// The reminder step reached: the smallest of `steps` (days before) that `days_left` is within.
fn step(days_left: i64, steps: &[i64]) -> Option<i64> {
    steps.iter().copied().filter(|s| days_left <= *s).min()
}

pub async fn evidence_lapsing(state: &AppState, report: &mut Report) -> AppResult<()> {
    let job = Job::EvidenceLapsing;
    let mut claims = claims::Claims::new(job);
    let now = state.now();
    for o in organisations(state).await? {
        let tz = zone(&o.timezone);
        let day = reminder_day(tz, now);
        let period = day.to_string();
        let scope = org_scope(&o);
        once!(state, report, claims, period, scope, |txn| {
            let items: HashMap<i64, item::Model> = item::Entity::find()
                .filter(item::Column::OrganisationId.eq(o.id))
                .filter(item::Column::Status.eq(ItemStatus::Accepted.as_str()))
                .all(&txn)
                .await?
                .into_iter()
                .map(|i| (i.id, i))
                .collect();
            let soon = evidence::Entity::find()
                .filter(evidence::Column::ItemId.is_in(items.keys().copied().collect::<Vec<_>>()))
                .filter(evidence::Column::SupersededAt.is_null())
                .filter(evidence::Column::ValidUntil.lte(day + Duration::days(30)))
                .order_by_asc(evidence::Column::Id)
                .all(&txn)
                .await?;
            let hr = members(&txn, o.id, &[Role::HrLead]).await?;
            let owners: HashMap<i64, user::Model> = user::Entity::find()
                .filter(user::Column::OrganisationId.eq(o.id))
                .all(&txn)
                .await?
                .into_iter()
                .map(|u| (u.id, u))
                .collect();
            let mut n = 0;
            let mut lapsed = std::collections::HashSet::new();
            for e in soon {
                let (Some(until), Some(row)) = (e.valid_until, items.get(&e.item_id)) else { continue };
                let to: Vec<user::Model> = match row.owner_id.and_then(|id| owners.get(&id)).filter(|u| u.active) {
                    Some(owner) => vec![owner.clone()],
                    None => hr.clone(),
                };
                let text = state
                    .checklists
                    .get(&row.checklist_key)
                    .and_then(|l| l.item(&row.item_key))
                    .map(|i| i.text.clone());
                let params = minijinja::context! { organisation => o.name.clone(), evidence => e.title.clone(),
                item_nl => text.as_ref().map(|t| t.nl.clone()), item_en => text.as_ref().map(|t| t.en.clone()),
                until => until.to_string(), days => (until - day).num_days() };
                let link = Some(format!("{}/items/{}", state.public_url(), row.id));
                let days_left = (until - day).num_days();
                if days_left <= 0 {
                    if lapsed.insert(row.id) {
                        lapse(&txn, state, row, format!("evidence \"{}\" valid until {until} has lapsed", e.title))
                            .await?;
                    }
                    n += notify_all(
                        &txn,
                        state,
                        &to,
                        Reminder {
                            kind: Kind::ItemDue,
                            organisation_id: Some(o.id),
                            params,
                            link,
                            key: format!("due:ev{}", e.id),
                        },
                    )
                    .await?;
                } else if let Some(s) = step(days_left, &[30, 7, 1]) {
                    n += notify_all(
                        &txn,
                        state,
                        &to,
                        Reminder {
                            kind: Kind::EvidenceLapsing,
                            organisation_id: Some(o.id),
                            params,
                            link,
                            key: format!("lapsing:ev{}:{s}", e.id),
                        },
                    )
                    .await?;
                }
            }
            Ok(n)
        });
    }
    Ok(())
}

pub async fn recognition_expiry(state: &AppState, report: &mut Report) -> AppResult<()> {
    let job = Job::RecognitionExpiry;
    let mut claims = claims::Claims::new(job);
    let now = state.now();
    let orgs = organisations(state).await?;
    // Each organisation's newest recognition, in one query.
    let ids: Vec<i64> = orgs.iter().map(|o| o.id).collect();
    let mut latest = crate::services::recognition::latest_by_org(&state.db, &ids).await?;
    for o in orgs {
        let tz = zone(&o.timezone);
        let day = reminder_day(tz, now);
        let Some(r) = latest.remove(&o.id) else { continue };
        let days_left = (r.valid_until - day).num_days();
        if r.revoked_at.is_some() || r.renewed_by_id.is_some() || days_left < 0 {
            continue;
        }
        let Some(s) = step(days_left, &[90, 30, 7]) else { continue };
        let period = format!("{}-{s}", r.number);
        let scope = org_scope(&o);
        once!(state, report, claims, period, scope, |txn| {
            let mut to = members(&txn, o.id, &[Role::HrLead]).await?;
            to.extend(crate::services::organisations::advisors_of(&txn, o.id).await?.into_iter().filter(|u| u.active));
            let params = minijinja::context! { organisation => o.name.clone(), number => r.number.clone(), days => days_left,
            until => r.valid_until.to_string() };
            let link = Some(format!("{}/organisations/{}/recognition", state.public_url(), o.id));
            notify_all(
                &txn,
                state,
                &to,
                Reminder {
                    kind: Kind::RecognitionExpiry,
                    organisation_id: Some(o.id),
                    params,
                    link,
                    key: format!("recognition:{}:{s}", r.id),
                },
            )
            .await
        });
    }
    Ok(())
}

pub async fn advisor_digest(state: &AppState, report: &mut Report) -> AppResult<()> {
    let job = Job::AdvisorDigest;
    let mut claims = claims::Claims::new(job);
    let now = state.now();
    let tz = chrono_tz::Europe::Amsterdam;
    let monday = schedule::week_start(local_date(tz, now));
    if local_at(tz, monday, 8, 0) > now {
        return Ok(());
    }
    let period = schedule::iso_week(monday);
    let advisors = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Advisor.as_str()))
        .filter(user::Column::Active.eq(true))
        .all(&state.db)
        .await?;
    for a in advisors {
        let scope = format!("user:{}", a.id);
        once!(state, report, claims, period, scope, |txn| {
            let orgs: Vec<i64> = advisor_assignment::Entity::find()
                .filter(advisor_assignment::Column::AdvisorId.eq(a.id))
                .all(&txn)
                .await?
                .into_iter()
                .map(|x| x.organisation_id)
                .collect();
            let names: HashMap<i64, String> = organisation::Entity::find()
                .filter(organisation::Column::Id.is_in(orgs.clone()))
                .all(&txn)
                .await?
                .into_iter()
                .map(|o| (o.id, o.name))
                .collect();
            let waiting = item::Entity::find()
                .filter(item::Column::OrganisationId.is_in(orgs.clone()))
                .filter(item::Column::Status.is_in(ItemStatus::WAITING.map(ItemStatus::as_str)))
                .all(&txn)
                .await?;
            let applications = recognition_application::Entity::find()
                .filter(recognition_application::Column::OrganisationId.is_in(orgs))
                .filter(recognition_application::Column::Status.eq(crate::services::recognition::PENDING))
                .all(&txn)
                .await?;
            if waiting.is_empty() && applications.is_empty() {
                return Ok(0);
            }
            let mut per_org: Vec<(String, usize, i64)> = vec![];
            for (org, name) in &names {
                let mine: Vec<&item::Model> = waiting.iter().filter(|i| i.organisation_id == *org).collect();
                if let Some(oldest) = mine.iter().map(|i| i.status_changed_at).min() {
                    per_org.push((name.clone(), mine.len(), (now - oldest).num_days()));
                }
            }
            per_org.sort_by_key(|l| std::cmp::Reverse(l.2));
            let lines: Vec<minijinja::Value> = per_org
                .into_iter()
                .map(|(name, count, days)| minijinja::context! { organisation => name, count => count, days => days })
                .collect();
            let params = minijinja::context! { count => waiting.len(), applications => applications.len(), lines => lines,
            oldest => waiting.iter().map(|i| (now - i.status_changed_at).num_days()).max().unwrap_or(0) };
            let link = Some(format!("{}/review", state.public_url()));
            notify_all(
                &txn,
                state,
                std::slice::from_ref(&a),
                Reminder {
                    kind: Kind::AdvisorDigest,
                    organisation_id: None,
                    params,
                    link,
                    key: format!("digest:{period}"),
                },
            )
            .await
        });
    }
    Ok(())
}

pub async fn custom_moments(state: &AppState, report: &mut Report) -> AppResult<()> {
    let job = Job::CustomMoments;
    let mut claims = claims::Claims::new(job);
    let now = state.now();
    let orgs: HashMap<i64, organisation::Model> = organisations(state).await?.into_iter().map(|o| (o.id, o)).collect();
    let moments =
        attention_moment::Entity::find().filter(attention_moment::Column::Active.eq(true)).all(&state.db).await?;
    for m in moments {
        let Some(o) = orgs.get(&m.organisation_id) else { continue };
        let rule = match Rule::parse(&m.rule) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(moment = m.id, error = %e, "attention moment has an invalid rule");
                continue;
            }
        };
        let Some(at) = rule.latest_until(zone(&o.timezone), now).filter(|at| *at > m.created_at) else { continue };
        let period = at.format("%Y-%m-%dT%H:%MZ").to_string();
        let scope = format!("moment:{}", m.id);
        once!(state, report, claims, period, scope, |txn| {
            let roles: Vec<Role> = m.recipients.split(',').filter_map(|r| Role::parse(r.trim())).collect();
            let to = members(&txn, o.id, &roles).await?;
            let params = minijinja::context! { organisation => o.name.clone(), title => m.title.clone(), message => m.message.clone() };
            let link = Some(format!("{}/organisations/{}/attention", state.public_url(), o.id));
            notify_all(
                &txn,
                state,
                &to,
                Reminder {
                    kind: Kind::CustomMoment,
                    organisation_id: Some(o.id),
                    params,
                    link,
                    key: format!("moment:{}:{period}", m.id),
                },
            )
            .await
        });
    }
    Ok(())
}

/// Weeks before the Dag van de Mantelzorg when HR is asked to open this year's pulse.
const PULSE_WEEKS_AHEAD: i64 = 6;

pub async fn pulse(state: &AppState, report: &mut Report) -> AppResult<()> {
    // Rounds past their closing date close; HR hears of it. Closing twice is refused under the
    // round's lock, so two instances cannot both close (or both notify).
    for (r, o) in crate::services::pulse::due_to_close(state).await? {
        let hr = members(&state.db, o.id, &[Role::HrLead]).await?;
        let lang = hr.first().map(|u| crate::web::i18n::normalise(Some(&u.locale))).unwrap_or("nl");
        match crate::services::pulse::close(state, None, r.id, lang).await {
            Ok(closed) => {
                let frozen: Option<crate::services::pulse::Frozen> =
                    closed.result.as_deref().and_then(|s| serde_json::from_str(s).ok());
                // "fewer than 5" below five, as everywhere.
                let answers = frozen.as_ref().map(|f| f.figures.respondents).filter(|n| *n >= 5);
                let evidence = frozen.as_ref().is_some_and(|f| !f.evidence.is_empty());
                let txn = write_txn(&state.db).await?;
                let params =
                    minijinja::context! { organisation => o.name.clone(), answers => answers, evidence => evidence };
                let reminder = Reminder {
                    kind: Kind::PulseClosed,
                    organisation_id: Some(o.id),
                    params,
                    link: Some(format!("{}/pulse/rounds/{}", state.public_url(), r.id)),
                    key: format!("pulse-closed:{}", r.id),
                };
                report.notices += notify_all(&txn, state, &hr, reminder).await?;
                txn.commit().await?;
                report.done += 1;
            }
            // Closed meanwhile (by HR, or another instance): nothing left to do.
            Err(crate::error::AppError::Conflict(m)) if m == crate::services::pulse::ALREADY_CLOSED => {}
            Err(e) => {
                tracing::warn!(round = r.id, error = %e, "closing a pulse round failed");
                report.failed += 1;
            }
        }
    }
    let job = Job::Pulse;
    let mut claims = claims::Claims::new(job);
    let now = state.now();
    for o in organisations(state).await? {
        let tz = zone(&o.timezone);
        let year = local_date(tz, now).year();
        let day = schedule::day_of_carers(year);
        let ask = day - Duration::weeks(PULSE_WEEKS_AHEAD);
        let at = local_at(tz, ask, REMINDER_HOUR, 0);
        if at > now || at < o.created_at || now.date_naive() > day {
            continue;
        }
        // A round opened within the last ten months is this year's.
        let last = crate::services::pulse::last_opened(&state.db, o.id).await?;
        if last.is_some_and(|l| l > now - Duration::days(300)) {
            continue;
        }
        let period = format!("{year}-suggest");
        let scope = org_scope(&o);
        once!(state, report, claims, period, scope, |txn| {
            let hr = members(&txn, o.id, &[Role::HrLead]).await?;
            let params = minijinja::context! { organisation => o.name.clone(), date => day.to_string() };
            let reminder = Reminder {
                kind: Kind::PulseSuggested,
                organisation_id: Some(o.id),
                params,
                link: Some(format!("{}/organisations/{}/pulse", state.public_url(), o.id)),
                key: format!("pulse-suggest:{}:{year}", o.id),
            };
            notify_all(&txn, state, &hr, reminder).await
        });
    }
    Ok(())
}

/// Daily (Europe/Amsterdam): what has served its purpose is removed, in one transaction with the
/// claim. The outcome is the number of rows removed.
pub async fn housekeeping(state: &AppState, report: &mut Report) -> AppResult<()> {
    let now = state.now();
    let period = local_date(zone("Europe/Amsterdam"), now).to_string();
    // Rows removed are the claim's outcome, not reminders: keep them out of the count.
    let notices = report.notices;
    let mut claims = claims::Claims::new(Job::Housekeeping);
    once!(state, report, claims, period, "all", |txn| {
        crate::services::housekeeping::purge(&txn, &state.config, now).await
    });
    report.notices = notices;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::step;

    #[test]
    fn the_nearest_reminder_step_is_chosen_so_missed_steps_are_not_sent_late() {
        assert_eq!(step(45, &[30, 7, 1]), None);
        assert_eq!(step(30, &[30, 7, 1]), Some(30));
        assert_eq!(step(12, &[30, 7, 1]), Some(30));
        assert_eq!(step(3, &[30, 7, 1]), Some(7));
        assert_eq!(step(1, &[30, 7, 1]), Some(1));
    }
}
