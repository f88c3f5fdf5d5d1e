//! iCalendar feeds for Outlook and Google Calendar: one per organisation and one per user, each
//! behind a secret URL. Only the SHA-256 of the secret is stored; a new secret replaces the old,
//! whose URL then answers 404.
use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};
use icalendar::{Calendar, Component, Event, EventLike};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::audit::{self, Entry};
use super::crypto::{hash_token, random_token};
use crate::db::connect::write_txn;
use crate::db::entities::{
    advisor_assignment, attention_moment, calendar_feed, evidence, item, organisation, recognition, user,
};
use crate::domain::policy::{Actor, Permission};
use crate::domain::role::Role;
use crate::domain::schedule::{self, Rule, zone};
use crate::domain::workflow::ItemStatus;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Organisation(i64),
    /// The user making the request.
    Me,
}

/// Makes a new secret URL for the feed (the old one stops working) and returns it.
pub async fn regenerate(state: &AppState, actor: &Actor, owner: Owner) -> AppResult<String> {
    let (org, user) = match owner {
        Owner::Organisation(id) => {
            actor.may(Permission::ManageAttention, id)?;
            (Some(id), None)
        }
        Owner::Me => (None, Some(actor.user_id)),
    };
    let token = random_token();
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let mut old = calendar_feed::Entity::delete_many();
    old = match owner {
        Owner::Organisation(id) => old.filter(calendar_feed::Column::OrganisationId.eq(id)),
        Owner::Me => old.filter(calendar_feed::Column::UserId.eq(actor.user_id)),
    };
    old.exec(&txn).await?;
    calendar_feed::ActiveModel {
        organisation_id: Set(org),
        user_id: Set(user),
        token_hash: Set(hash_token(&token)),
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
            organisation_id: org.or(actor.organisation_id),
            action: "calendar.regenerated",
            subject: match owner {
                Owner::Organisation(id) => format!("organisation:{id}"),
                Owner::Me => format!("user:{}", actor.user_id),
            },
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(format!("{}/calendar/{token}.ics", state.public_url()))
}

pub async fn has_feed(state: &AppState, user_id: i64) -> AppResult<bool> {
    Ok(calendar_feed::Entity::find().filter(calendar_feed::Column::UserId.eq(user_id)).one(&state.db).await?.is_some())
}

fn all_day(uid: String, date: NaiveDate, summary: String, description: String, url: Option<String>) -> Event {
    let mut e = Event::new();
    // All-day: DTEND is the next day (exclusive), as calendar clients expect.
    e.uid(&uid).summary(&summary).description(&description).starts(date).ends(date.succ_opt().unwrap_or(date));
    if let Some(u) = url {
        e.url(&u);
    }
    e.done()
}

/// What goes into a feed: which organisations, and whose items.
struct Scope {
    organisations: Vec<organisation::Model>,
    /// Only items this user owns (for a personal feed of someone who is not HR).
    owner: Option<i64>,
    role: Option<Role>,
    lang: String,
}

/// The feed behind a secret, as iCalendar text; an unknown secret is not found.
pub async fn feed(state: &AppState, token: &str) -> AppResult<String> {
    let token = token.strip_suffix(".ics").unwrap_or(token);
    let f = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::TokenHash.eq(hash_token(token)))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let scope = match (f.organisation_id, f.user_id) {
        (Some(org), _) => Scope {
            organisations: organisation::Entity::find_by_id(org).all(&state.db).await?,
            owner: None,
            role: None,
            lang: "nl".into(),
        },
        (None, Some(uid)) => {
            let u =
                user::Entity::find_by_id(uid).one(&state.db).await?.filter(|u| u.active).ok_or(AppError::NotFound)?;
            let role = Role::parse(&u.role);
            let org_ids: Vec<i64> = match role {
                Some(Role::Advisor) => advisor_assignment::Entity::find()
                    .filter(advisor_assignment::Column::AdvisorId.eq(u.id))
                    .all(&state.db)
                    .await?
                    .into_iter()
                    .map(|a| a.organisation_id)
                    .collect(),
                _ => u.organisation_id.into_iter().collect(),
            };
            Scope {
                organisations: organisation::Entity::find()
                    .filter(organisation::Column::Id.is_in(org_ids))
                    .all(&state.db)
                    .await?,
                owner: (role != Some(Role::HrLead)).then_some(u.id),
                role,
                lang: u.locale.clone(),
            }
        }
        _ => return Err(AppError::NotFound),
    };
    build(state, &scope).await
}

async fn build(state: &AppState, s: &Scope) -> AppResult<String> {
    let t = |k: &str| state.translations.get(&s.lang, k).to_string();
    let base = state.public_url();
    let host = url::Url::parse(&base)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "localhost".into());
    let now = state.now();
    let mut cal = Calendar::new();
    cal.name(&t("calendar.name"));
    let ids: Vec<i64> = s.organisations.iter().map(|o| o.id).collect();
    let whole_org = s.owner.is_none();
    let advisor = s.role == Some(Role::Advisor);
    // Everything per organisation in one query each, whatever the number of organisations.
    let mut moments_of: HashMap<i64, Vec<attention_moment::Model>> = HashMap::new();
    if !advisor {
        for m in attention_moment::Entity::find()
            .filter(attention_moment::Column::OrganisationId.is_in(ids.clone()))
            .filter(attention_moment::Column::Active.eq(true))
            .order_by_asc(attention_moment::Column::Id)
            .all(&state.db)
            .await?
        {
            moments_of.entry(m.organisation_id).or_default().push(m);
        }
    }
    let mut recognition_of: HashMap<i64, recognition::Model> = HashMap::new();
    for r in recognition::Entity::find()
        .filter(recognition::Column::OrganisationId.is_in(ids.clone()))
        .filter(recognition::Column::RevokedAt.is_null())
        .filter(recognition::Column::RenewedById.is_null())
        .order_by_asc(recognition::Column::ValidUntil)
        .all(&state.db)
        .await?
    {
        recognition_of.insert(r.organisation_id, r); // the one valid longest
    }
    for o in &s.organisations {
        let tz = zone(&o.timezone);
        let today = schedule::local_date(tz, now);
        if !advisor {
            for year in [today.year(), today.year() + 1] {
                let day = schedule::day_of_carers(year);
                cal.push(all_day(
                    format!("carers-day-{year}-org{}@{host}", o.id),
                    day,
                    format!("{} · {}", t("calendar.day_of_carers"), o.name),
                    t("calendar.day_of_carers_description"),
                    None,
                ));
            }
            if let Some(m) = o.appraisal_month.and_then(|m| u32::try_from(m).ok())
                && (whole_org || matches!(s.role, Some(Role::Manager)))
            {
                for year in [today.year(), today.year() + 1] {
                    if let Some(d) = NaiveDate::from_ymd_opt(year, m, 1) {
                        cal.push(all_day(
                            format!("appraisal-{year}-org{}@{host}", o.id),
                            d,
                            format!("{} · {}", t("calendar.appraisal"), o.name),
                            t("calendar.appraisal_description"),
                            None,
                        ));
                    }
                }
            }
            for m in moments_of.remove(&o.id).unwrap_or_default() {
                let for_me = whole_org || s.role.is_some_and(|r| m.recipients.split(',').any(|x| x == r.as_str()));
                let Ok(rule) = Rule::parse(&m.rule) else { continue };
                if !for_me {
                    continue;
                }
                for at in rule.next_after(tz, now, 12).into_iter().filter(|at| *at < now + Duration::days(400)) {
                    let mut e = Event::new();
                    e.uid(&format!("moment-{}-{}@{host}", m.id, at.timestamp()))
                        .summary(&m.title)
                        .description(&m.message)
                        .starts(at)
                        .ends(at + Duration::minutes(30));
                    cal.push(e.done());
                }
            }
        }
        if let Some(r) = recognition_of.get(&o.id)
            && (whole_org || advisor)
        {
            let link = Some(format!("{base}/organisations/{}/recognition", o.id));
            cal.push(all_day(
                format!("recognition-end-{}@{host}", r.id),
                r.valid_until,
                format!("{} · {}", t("calendar.recognition_ends"), o.name),
                r.number.clone(),
                link.clone(),
            ));
            cal.push(all_day(
                format!("recognition-renewal-{}@{host}", r.id),
                crate::domain::recognition::renewal_opens(r.valid_until),
                format!("{} · {}", t("calendar.renewal_opens"), o.name),
                r.number.clone(),
                link,
            ));
        }
    }
    if !advisor {
        // Items: due dates of open work and the end of accepted evidence.
        let mut q = item::Entity::find().filter(item::Column::OrganisationId.is_in(ids));
        if let Some(owner) = s.owner {
            q = q.filter(item::Column::OwnerId.eq(owner));
        }
        let items = q.all(&state.db).await?;
        let text = |row: &item::Model| {
            state
                .checklists
                .get(&row.checklist_key)
                .and_then(|l| l.item(&row.item_key))
                .map(|i| i.text.get(&s.lang).to_string())
                .unwrap_or_else(|| row.item_key.clone())
        };
        for row in items.iter().filter(|r| r.due_date.is_some()) {
            let done = ItemStatus::parse(&row.status).is_some_and(|st| st.is_done());
            if let (Some(d), false) = (row.due_date, done) {
                cal.push(all_day(
                    format!("item-due-{}@{host}", row.id),
                    d,
                    format!("{}: {}", t("calendar.item_due"), text(row)),
                    String::new(),
                    Some(format!("{base}/items/{}", row.id)),
                ));
            }
        }
        let accepted: HashMap<i64, &item::Model> =
            items.iter().filter(|r| r.status == ItemStatus::Accepted.as_str()).map(|r| (r.id, r)).collect();
        let ev = evidence::Entity::find()
            .filter(evidence::Column::ItemId.is_in(accepted.keys().copied().collect::<Vec<_>>()))
            .filter(evidence::Column::SupersededAt.is_null())
            .filter(evidence::Column::ValidUntil.is_not_null())
            .all(&state.db)
            .await?;
        for e in ev {
            let (Some(until), Some(row)) = (e.valid_until, accepted.get(&e.item_id)) else {
                continue;
            };
            cal.push(all_day(
                format!("evidence-until-{}@{host}", e.id),
                until,
                format!("{}: {}", t("calendar.evidence_until"), text(row)),
                e.title.clone(),
                Some(format!("{base}/items/{}", row.id)),
            ));
        }
    }
    Ok(cal.done().to_string())
}
