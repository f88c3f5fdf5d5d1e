//! Working Carers Passports: consent, the passport with its versions and confirmations, who may
//! read it (the policy decides), the access log, reviews and their reminders, handovers between
//! managers, portability (PDF, a file sealed with the carer's passphrase, one-time transfer codes)
//! and the aggregate figures that directors, advisors and HR see instead of people.
//!
//! Every read of a passport's content is logged; every change is recorded in the audit log under
//! the subject `passport:<id>` or `carer:<user id>`, which the carer's withdrawal erases.
use std::collections::{BTreeMap, HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;

use super::assessment::users_by_id;
use super::audit::{self, Entry};
use super::crypto;
use super::notifications::{self, Kind, Notice};
use super::passport_crypto::{SEAL_KDF, Sealed, open_with_passphrase, seal_with_passphrase};
use crate::db::entities::{
    audit_log, carer_consent, carer_statistic, notification, organisation, outbox, passport, passport_access,
    passport_confirmation, passport_file_import, passport_handover, passport_review_reminder, passport_transfer_code,
    passport_version, reporting_line, user,
};
use crate::db::page::{self as keyset, Keyset};
use crate::db::write_txn;
use crate::domain::page::{Order, Page, PageRequest};
use crate::domain::passport::{self as rules, Content, Count, Side, State};
use crate::domain::policy::{Actor, PassportFacts};
use crate::domain::revision::{self, IfMatch};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::mail;
use crate::state::AppState;

/// How long a transfer code works.
pub const TRANSFER_CODE_DAYS: i64 = 7;
/// The format name of the passport as it travels (inside a sealed file or a transfer code).
pub const EXPORT_FORMAT: &str = "carer-friendly-passport/1";
/// The format name of an exported file: the passport sealed with the carer's passphrase.
pub const SEALED_FORMAT: &str = "carer-friendly-passport/2";

/// How a passport was reached, for the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Page,
    Api,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Page => "page",
            Channel::Api => "api",
        }
    }
}

fn subject(passport_id: i64) -> String {
    format!("passport:{passport_id}")
}

fn carer_subject(user_id: i64) -> String {
    format!("carer:{user_id}")
}

fn version_context(passport_id: i64, version: i32) -> String {
    format!("passport_version:{passport_id}:{version}")
}

fn mail_key(passport_id: i64, what: &str) -> String {
    format!("passport:{passport_id}:{what}")
}

// ---------------------------------------------------------------------------------------------
// Consent

#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct ConsentChoice {
    /// HR may read a copy of the passport.
    pub hr_copy: bool,
    /// Counted anonymously in the organisation's figures (also after withdrawing).
    pub statistics: bool,
}

pub async fn consent_of(state: &AppState, actor: &Actor) -> AppResult<Option<carer_consent::Model>> {
    actor.may_be_carer()?;
    Ok(carer_consent::Entity::find().filter(carer_consent::Column::UserId.eq(actor.user_id)).one(&state.db).await?)
}

/// Records (or changes) the user's consent to being recorded as a carer.
pub async fn give_consent(state: &AppState, actor: &Actor, choice: ConsentChoice) -> AppResult<carer_consent::Model> {
    let org = actor.may_be_carer()?;
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let existing =
        carer_consent::Entity::find().filter(carer_consent::Column::UserId.eq(actor.user_id)).one(&txn).await?;
    let row = match existing {
        Some(c) => {
            let mut a: carer_consent::ActiveModel = c.into();
            a.hr_copy = Set(choice.hr_copy);
            a.statistics = Set(choice.statistics);
            a.updated_at = Set(now);
            a.update(&txn).await?
        }
        None => {
            carer_consent::ActiveModel {
                user_id: Set(actor.user_id),
                organisation_id: Set(org),
                hr_copy: Set(choice.hr_copy),
                statistics: Set(choice.statistics),
                consented_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action: "carer.consent",
            subject: carer_subject(actor.user_id),
            detail: Some(format!("hr_copy={} statistics={}", choice.hr_copy, choice.statistics)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Withdraws consent: erases the passport with every version, confirmation, access-log entry,
/// handover, transfer code, reminder, queued mail and audit entry about it. Only the anonymous
/// count of former carers goes up, if the carer agreed to be counted.
pub async fn withdraw_consent(state: &AppState, actor: &Actor) -> AppResult<()> {
    let org = actor.may_be_carer()?;
    let txn = write_txn(&state.db).await?;
    let Some(consent) =
        carer_consent::Entity::find().filter(carer_consent::Column::UserId.eq(actor.user_id)).one(&txn).await?
    else {
        return Err(AppError::NotFound);
    };
    erase_carer(&txn, actor.user_id, org, Some(consent)).await?;
    txn.commit().await?;
    Ok(())
}

/// Everything about a carer's passport goes: the passport with every version, confirmation,
/// access-log entry, handover, transfer code, reminder, queued mail and audit entry about it, and
/// their consent. Only the anonymous count of former carers goes up, if they agreed to be counted.
/// Used when a carer withdraws consent and when their personal data is erased on request.
pub(crate) async fn erase_carer(
    db: &impl ConnectionTrait,
    carer_id: i64,
    org: i64,
    consent: Option<carer_consent::Model>,
) -> AppResult<()> {
    let consent = match consent {
        Some(c) => Some(c),
        None => carer_consent::Entity::find().filter(carer_consent::Column::UserId.eq(carer_id)).one(db).await?,
    };
    if let Some(p) = passport::Entity::find().filter(passport::Column::CarerId.eq(carer_id)).one(db).await? {
        erase_passport(db, p.id).await?;
    }
    audit_log::Entity::delete_many().filter(audit_log::Column::Subject.eq(carer_subject(carer_id))).exec(db).await?;
    if let Some(consent) = consent {
        carer_consent::Entity::delete_by_id(consent.id).exec(db).await?;
        if consent.statistics {
            count_former_carer(db, org).await?;
        }
    }
    Ok(())
}

async fn erase_passport(db: &impl ConnectionTrait, id: i64) -> AppResult<()> {
    passport_access::Entity::delete_many().filter(passport_access::Column::PassportId.eq(id)).exec(db).await?;
    passport_confirmation::Entity::delete_many()
        .filter(passport_confirmation::Column::PassportId.eq(id))
        .exec(db)
        .await?;
    passport_version::Entity::delete_many().filter(passport_version::Column::PassportId.eq(id)).exec(db).await?;
    passport_handover::Entity::delete_many().filter(passport_handover::Column::PassportId.eq(id)).exec(db).await?;
    passport_transfer_code::Entity::delete_many()
        .filter(passport_transfer_code::Column::PassportId.eq(id))
        .exec(db)
        .await?;
    passport_review_reminder::Entity::delete_many()
        .filter(passport_review_reminder::Column::PassportId.eq(id))
        .exec(db)
        .await?;
    outbox::Entity::delete_many().filter(outbox::Column::DedupeKey.starts_with(mail_key(id, ""))).exec(db).await?;
    notification::Entity::delete_many()
        .filter(notification::Column::DedupeKey.starts_with(mail_key(id, "")))
        .exec(db)
        .await?;
    audit_log::Entity::delete_many().filter(audit_log::Column::Subject.eq(subject(id))).exec(db).await?;
    passport::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

async fn count_former_carer(db: &impl ConnectionTrait, org: i64) -> AppResult<()> {
    let updated = carer_statistic::Entity::update_many()
        .col_expr(carer_statistic::Column::FormerCarers, Expr::col(carer_statistic::Column::FormerCarers).add(1))
        .filter(carer_statistic::Column::OrganisationId.eq(org))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        carer_statistic::ActiveModel { organisation_id: Set(org), former_carers: Set(1), ..Default::default() }
            .insert(db)
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Loading and the policy

async fn facts_of(db: &impl ConnectionTrait, p: &passport::Model) -> AppResult<PassportFacts> {
    let line = reporting_line::Entity::find().filter(reporting_line::Column::UserId.eq(p.carer_id)).one(db).await?;
    let consent = carer_consent::Entity::find().filter(carer_consent::Column::UserId.eq(p.carer_id)).one(db).await?;
    Ok(PassportFacts {
        organisation_id: p.organisation_id,
        carer_id: p.carer_id,
        manager_id: line.and_then(|l| l.manager_id),
        hr_copy: consent.is_some_and(|c| c.hr_copy),
    })
}

/// The passport if `decide` lets this user at it, with their side; else `NotFound`.
async fn load_for(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    decide: fn(&Actor, &PassportFacts) -> Result<Side, crate::domain::policy::Denied>,
) -> AppResult<(passport::Model, PassportFacts, Side)> {
    let p = passport::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    let facts = facts_of(db, &p).await?;
    let side = decide(actor, &facts)?;
    Ok((p, facts, side))
}

/// For reading: the carer, their manager, HR with consent.
async fn readable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<(passport::Model, PassportFacts, Side)> {
    load_for(db, actor, id, Actor::may_read_passport).await
}

/// For changing: the carer and their manager.
async fn editable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<(passport::Model, PassportFacts, Side)> {
    load_for(db, actor, id, Actor::may_edit_passport).await
}

async fn log_access(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    passport_id: i64,
    actor: &Actor,
    side: Side,
    action: &str,
    channel: Channel,
) -> AppResult<()> {
    passport_access::ActiveModel {
        passport_id: Set(passport_id),
        reader_id: Set(actor.user_id),
        reader_side: Set(side.as_str().into()),
        action: Set(action.into()),
        channel: Set(channel.as_str().into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn decrypt_content(state: &AppState, v: &passport_version::Model) -> AppResult<Content> {
    let plain = state
        .passport_keys
        .decrypt(&v.content, &version_context(v.passport_id, v.version))
        .map_err(AppError::internal)?;
    serde_json::from_slice(&plain).map_err(AppError::internal)
}

fn encrypt_content(state: &AppState, passport_id: i64, version: i32, c: &Content) -> AppResult<String> {
    let json = serde_json::to_vec(c).map_err(AppError::internal)?;
    Ok(state.passport_keys.encrypt(&json, &version_context(passport_id, version)))
}

async fn version_row(db: &impl ConnectionTrait, passport_id: i64, version: i32) -> AppResult<passport_version::Model> {
    passport_version::Entity::find()
        .filter(passport_version::Column::PassportId.eq(passport_id))
        .filter(passport_version::Column::Version.eq(version))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

fn name_of(users: &HashMap<i64, user::Model>, id: Option<i64>) -> Option<String> {
    id.and_then(|i| users.get(&i)).map(|u| u.name.clone())
}

// ---------------------------------------------------------------------------------------------
// Views

#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Confirmation {
    pub side: String,
    pub name: Option<String>,
    pub confirmed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionRef {
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub review_date: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct Handover {
    pub from_manager: Option<String>,
    pub to_manager: Option<String>,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PassportView {
    pub id: i64,
    pub carer: Person,
    pub manager: Option<Person>,
    pub organisation: String,
    pub origin: String,
    pub version: i32,
    pub current_version: i32,
    pub content: Content,
    pub review_date: NaiveDate,
    pub review_due: bool,
    pub state: State,
    pub confirmations: Vec<Confirmation>,
    pub versions: Vec<VersionRef>,
    pub handovers: Vec<Handover>,
    /// The side the reader reads from: carer, manager or hr.
    pub side: Side,
    /// Whether the reader still has to confirm the current version.
    pub may_confirm: bool,
    pub may_edit: bool,
    /// The passport's entity tag (`If-Match` on a change).
    pub etag: String,
}

/// One passport as shown, at its current version or an older one. Logs the read.
pub async fn view(
    state: &AppState,
    actor: &Actor,
    id: i64,
    version: Option<i32>,
    channel: Channel,
) -> AppResult<PassportView> {
    let (p, facts, side) = readable(&state.db, actor, id).await?;
    let shown = version.unwrap_or(p.current_version);
    let v = version_row(&state.db, p.id, shown).await?;
    let content = decrypt_content(state, &v)?;
    let action = if version.is_some_and(|n| n != p.current_version) { "read_version" } else { "read" };
    // The log tells the carer who else read their passport; their own reading is not news to them.
    if side != Side::Carer {
        log_access(&state.db, state.now(), p.id, actor, side, action, channel).await?;
        state.metrics.passport_read(action);
    }
    build_view(state, p, facts, side, v, content).await
}

async fn build_view(
    state: &AppState,
    p: passport::Model,
    facts: PassportFacts,
    side: Side,
    v: passport_version::Model,
    content: Content,
) -> AppResult<PassportView> {
    let db = &state.db;
    let versions = passport_version::Entity::find()
        .filter(passport_version::Column::PassportId.eq(p.id))
        .order_by_desc(passport_version::Column::Version)
        .all(db)
        .await?;
    let confirmations = passport_confirmation::Entity::find()
        .filter(passport_confirmation::Column::PassportId.eq(p.id))
        .filter(passport_confirmation::Column::Version.eq(v.version))
        .order_by_asc(passport_confirmation::Column::ConfirmedAt)
        .all(db)
        .await?;
    let handovers = passport_handover::Entity::find()
        .filter(passport_handover::Column::PassportId.eq(p.id))
        .order_by_desc(passport_handover::Column::CreatedAt)
        .all(db)
        .await?;
    let mut ids: Vec<i64> = vec![p.carer_id];
    ids.extend(facts.manager_id);
    ids.extend(versions.iter().filter_map(|v| v.created_by));
    ids.extend(confirmations.iter().map(|c| c.user_id));
    for h in &handovers {
        ids.extend(h.from_manager_id);
        ids.extend(h.to_manager_id);
    }
    let users = users_by_id(db, ids).await?;
    let org = organisation::Entity::find_by_id(p.organisation_id).one(db).await?.ok_or(AppError::NotFound)?;
    let carer_confirmed = confirmations.iter().any(|c| c.side == Side::Carer.as_str());
    let manager_confirmed = confirmations.iter().any(|c| c.side == Side::Manager.as_str());
    let is_current = v.version == p.current_version;
    let already = match side {
        Side::Carer => carer_confirmed,
        Side::Manager => manager_confirmed,
        Side::Hr => true,
    };
    Ok(PassportView {
        etag: passport_etag(&p),
        id: p.id,
        carer: Person { id: p.carer_id, name: name_of(&users, Some(p.carer_id)).unwrap_or_default() },
        manager: facts.manager_id.map(|m| Person { id: m, name: name_of(&users, Some(m)).unwrap_or_default() }),
        organisation: org.name,
        origin: p.origin.clone(),
        version: v.version,
        current_version: p.current_version,
        content,
        review_date: v.review_date,
        review_due: is_current && rules::review_due(v.review_date, state.now().date_naive()),
        state: rules::state(carer_confirmed, manager_confirmed),
        confirmations: confirmations
            .iter()
            .map(|c| Confirmation {
                side: c.side.clone(),
                name: name_of(&users, Some(c.user_id)),
                confirmed_at: c.confirmed_at,
            })
            .collect(),
        versions: versions
            .iter()
            .map(|v| VersionRef {
                version: v.version,
                created_at: v.created_at,
                created_by: name_of(&users, v.created_by),
                review_date: v.review_date,
            })
            .collect(),
        handovers: handovers
            .iter()
            .map(|h| Handover {
                from_manager: name_of(&users, h.from_manager_id),
                to_manager: name_of(&users, h.to_manager_id),
                reason: h.reason.clone(),
                at: h.created_at,
            })
            .collect(),
        side,
        may_confirm: is_current && side.is_party() && !already,
        may_edit: side.is_party(),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct PassportSummary {
    pub id: i64,
    pub carer: Person,
    pub side: Side,
    pub version: i32,
    pub state: State,
    pub review_date: NaiveDate,
    pub review_due: bool,
}

/// The passports this user may read (their own, their team's, HR copies), without content.
pub async fn list_readable(state: &AppState, actor: &Actor, page: &PageRequest) -> AppResult<Page<PassportSummary>> {
    let Some(org) = actor.organisation_id else {
        return Ok(crate::domain::page::slice(vec![], page, Order::Asc, |_: &PassportSummary| vec![]));
    };
    let db = &state.db;
    let passports = passport::Entity::find().filter(passport::Column::OrganisationId.eq(org)).all(db).await?;
    let mut out = vec![];
    for p in passports {
        let facts = facts_of(db, &p).await?;
        let Ok(side) = actor.may_read_passport(&facts) else { continue };
        let confirmations = passport_confirmation::Entity::find()
            .filter(passport_confirmation::Column::PassportId.eq(p.id))
            .filter(passport_confirmation::Column::Version.eq(p.current_version))
            .all(db)
            .await?;
        let carer = user::Entity::find_by_id(p.carer_id).one(db).await?.ok_or(AppError::NotFound)?;
        out.push(PassportSummary {
            id: p.id,
            carer: Person { id: carer.id, name: carer.name },
            side,
            version: p.current_version,
            state: rules::state(
                confirmations.iter().any(|c| c.side == "carer"),
                confirmations.iter().any(|c| c.side == "manager"),
            ),
            review_date: p.review_date,
            review_due: rules::review_due(p.review_date, state.now().date_naive()),
        });
    }
    // Who may read which passport is the policy's call, made per passport, so the list is cut
    // into pages after it.
    Ok(crate::domain::page::slice(out, page, Order::Asc, |s| vec![s.carer.name.as_str().into(), s.id.into()]))
}

/// The carer's own passport id, if any.
pub async fn own_passport_id(state: &AppState, actor: &Actor) -> AppResult<Option<i64>> {
    Ok(passport::Entity::find().filter(passport::Column::CarerId.eq(actor.user_id)).one(&state.db).await?.map(|p| p.id))
}

#[derive(Debug, Clone, Serialize)]
pub struct AccessEntry {
    pub reader: Option<String>,
    pub side: String,
    pub action: String,
    pub channel: String,
    pub at: DateTime<Utc>,
}

/// Whether this user may take the passport away (sealed file, transfer code, access log): the
/// carer alone; anyone else gets `NotFound`.
pub async fn may_carry(state: &AppState, actor: &Actor, id: i64) -> AppResult<()> {
    let p = passport::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    actor.may_carry_passport(&facts_of(&state.db, &p).await?)?;
    Ok(())
}

/// Who read the passport when: for the carer only.
/// Who read the passport when, newest first: for the carer only.
pub async fn access_log(state: &AppState, actor: &Actor, id: i64, page: &PageRequest) -> AppResult<Page<AccessEntry>> {
    may_carry(state, actor, id).await?;
    let q = passport_access::Entity::find().filter(passport_access::Column::PassportId.eq(id));
    let newest_first = Keyset::by(passport_access::Column::CreatedAt, passport_access::Column::Id, Order::Desc);
    let rows = keyset::fetch(&state.db, q, page, newest_first, |r| vec![r.created_at.into(), r.id.into()]).await?;
    let users = users_by_id(&state.db, rows.rows.iter().map(|r| r.reader_id)).await?;
    Ok(rows.map(|r| AccessEntry {
        reader: name_of(&users, Some(r.reader_id)),
        side: r.reader_side,
        action: r.action,
        channel: r.channel,
        at: r.created_at,
    }))
}

// ---------------------------------------------------------------------------------------------
// Drafting, changing, confirming, reviewing

pub struct Draft {
    pub content: Content,
    pub review_date: Option<NaiveDate>,
}

fn check_draft(d: Draft, today: NaiveDate) -> AppResult<(Content, NaiveDate)> {
    let mut errors = vec![];
    let content = match d.content.parse() {
        Ok(c) => Some(c),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let review = match d.review_date.map(|r| rules::check_review_date(r, today)) {
        None => Some(rules::next_review(today)),
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
    };
    match (content, review) {
        (Some(c), Some(r)) if errors.is_empty() => Ok((c, r)),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// Starts a passport: the carer for themselves, or a manager for a carer in their team who has
/// consented. It starts as a draft (version 1) until both have confirmed.
pub async fn create(state: &AppState, actor: &Actor, carer_id: Option<i64>, draft: Draft) -> AppResult<i64> {
    let org = actor.may_be_carer()?;
    let carer_id = carer_id.unwrap_or(actor.user_id);
    let now = state.now();
    let (content, review_date) = check_draft(draft, now.date_naive())?;
    let txn = write_txn(&state.db).await?;
    let carer = user::Entity::find_by_id(carer_id)
        .one(&txn)
        .await?
        .filter(|u| u.active && u.organisation_id == Some(org))
        .ok_or(AppError::NotFound)?;
    if carer.id != actor.user_id {
        let line = reporting_line::Entity::find().filter(reporting_line::Column::UserId.eq(carer.id)).one(&txn).await?;
        actor.may_start_passport_for(line.and_then(|l| l.manager_id))?;
    }
    let consent = carer_consent::Entity::find().filter(carer_consent::Column::UserId.eq(carer.id)).one(&txn).await?;
    if consent.is_none() {
        return Err(AppError::invalid("carer_id", "carer_consent_required"));
    }
    if passport::Entity::find().filter(passport::Column::CarerId.eq(carer.id)).one(&txn).await?.is_some() {
        return Err(AppError::Conflict("there already is a passport for this carer".into()));
    }
    let id = insert_passport(state, &txn, carer.id, org, "created", Some(actor.user_id), &content, review_date).await?;
    txn.commit().await?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
async fn insert_passport(
    state: &AppState,
    db: &impl ConnectionTrait,
    carer_id: i64,
    org: i64,
    origin: &str,
    by: Option<i64>,
    content: &Content,
    review_date: NaiveDate,
) -> AppResult<i64> {
    let now = state.now();
    let p = passport::ActiveModel {
        carer_id: Set(carer_id),
        organisation_id: Set(org),
        current_version: Set(1),
        review_date: Set(review_date),
        origin: Set(origin.into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    insert_version(state, db, p.id, 1, by, content, review_date).await?;
    audit::record(
        db,
        now,
        Entry {
            actor_id: by,
            organisation_id: Some(org),
            action: if origin == "created" { "passport.created" } else { "passport.imported" },
            subject: subject(p.id),
            detail: None,
        },
    )
    .await?;
    Ok(p.id)
}

async fn insert_version(
    state: &AppState,
    db: &impl ConnectionTrait,
    passport_id: i64,
    version: i32,
    by: Option<i64>,
    content: &Content,
    review_date: NaiveDate,
) -> AppResult<()> {
    passport_version::ActiveModel {
        passport_id: Set(passport_id),
        version: Set(version),
        content: Set(encrypt_content(state, passport_id, version, content)?),
        review_date: Set(review_date),
        created_by: Set(by),
        created_at: Set(state.now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A change by carer or manager: a new version, which both confirm again.
/// Changes the passport: a new version both confirm again. With `expect`, only while the
/// passport is still as the writer read it (`PassportView::etag`).
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: i64,
    draft: Draft,
    expect: Option<&IfMatch>,
) -> AppResult<i32> {
    let now = state.now();
    let (content, review_date) = check_draft(draft, now.date_naive())?;
    new_version(state, actor, id, content, review_date, "passport.changed", expect).await
}

/// The passport's entity tag: its version and when it last changed.
fn passport_etag(p: &passport::Model) -> String {
    revision::etag(&[&p.id.to_string(), &p.current_version.to_string(), &p.updated_at.to_rfc3339()])
}

/// The passport at its current version for the person who just changed it: not logged as a
/// read, since it shows them what they wrote.
pub async fn as_written(state: &AppState, actor: &Actor, id: i64) -> AppResult<PassportView> {
    let (p, facts, side) = readable(&state.db, actor, id).await?;
    let v = version_row(&state.db, p.id, p.current_version).await?;
    let content = decrypt_content(state, &v)?;
    build_view(state, p, facts, side, v, content).await
}

/// A review (yearly, or when circumstances change): the agreement as it stands, with the next
/// review date, as a new version that both confirm again.
pub async fn review(state: &AppState, actor: &Actor, id: i64, next: Option<NaiveDate>) -> AppResult<i32> {
    let (p, _, _) = editable(&state.db, actor, id).await?;
    let today = state.now().date_naive();
    let next = match next {
        Some(d) => rules::check_review_date(d, today).map_err(|e| AppError::Invalid(vec![e]))?,
        None => rules::next_review(today),
    };
    let current = decrypt_content(state, &version_row(&state.db, p.id, p.current_version).await?)?;
    new_version(state, actor, id, current, next, "passport.reviewed", None).await
}

async fn new_version(
    state: &AppState,
    actor: &Actor,
    id: i64,
    content: Content,
    review_date: NaiveDate,
    action: &'static str,
    expect: Option<&IfMatch>,
) -> AppResult<i32> {
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    // Two writers of one passport take turns, so the second sees the first one's version.
    crate::db::connect::serialise(&txn, "passport", id).await?;
    let (p, _, side) = editable(&txn, actor, id).await?;
    if !revision::holds(expect, &passport_etag(&p)) {
        return Err(AppError::PreconditionFailed);
    }
    // A passport started from the carer's page begins as an empty first version; its first real
    // content takes that place, so the history starts at version 1 with what was agreed.
    let placeholder = p.current_version == 1
        && passport_confirmation::Entity::find()
            .filter(passport_confirmation::Column::PassportId.eq(p.id))
            .one(&txn)
            .await?
            .is_none()
        && decrypt_content(state, &version_row(&txn, p.id, 1).await?)? == Content::default();
    let version = if placeholder {
        passport_version::Entity::delete_many()
            .filter(passport_version::Column::PassportId.eq(p.id))
            .filter(passport_version::Column::Version.eq(1))
            .exec(&txn)
            .await?;
        1
    } else {
        p.current_version + 1
    };
    insert_version(state, &txn, p.id, version, Some(actor.user_id), &content, review_date).await?;
    let organisation_id = p.organisation_id;
    let mut a: passport::ActiveModel = p.into();
    a.current_version = Set(version);
    a.review_date = Set(review_date);
    a.updated_at = Set(now);
    a.update(&txn).await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(organisation_id),
            action,
            subject: subject(id),
            detail: Some(format!("version {version} by the {}", side.as_str())),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(version)
}

/// Confirms the current version as carer or manager. `version` is the one the person read: a
/// version changed in between is not confirmed unseen.
pub async fn confirm(state: &AppState, actor: &Actor, id: i64, version: i32) -> AppResult<State> {
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let (p, _, side) = editable(&txn, actor, id).await?;
    if version != p.current_version {
        return Err(AppError::Conflict("the passport changed since you read it; read it again".into()));
    }
    let row = passport_confirmation::ActiveModel {
        passport_id: Set(p.id),
        version: Set(version),
        side: Set(side.as_str().into()),
        user_id: Set(actor.user_id),
        confirmed_at: Set(now),
        ..Default::default()
    };
    match row.insert(&txn).await {
        Ok(_) => {}
        Err(e) if mail::is_unique_violation(&e) => {
            return Err(AppError::Conflict("you already confirmed this version".into()));
        }
        Err(e) => return Err(e.into()),
    }
    let sides = passport_confirmation::Entity::find()
        .filter(passport_confirmation::Column::PassportId.eq(p.id))
        .filter(passport_confirmation::Column::Version.eq(version))
        .all(&txn)
        .await?;
    let st = rules::state(sides.iter().any(|c| c.side == "carer"), sides.iter().any(|c| c.side == "manager"));
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(p.organisation_id),
            action: "passport.confirmed",
            subject: subject(p.id),
            detail: Some(format!("version {version} by the {}", side.as_str())),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(st)
}

// ---------------------------------------------------------------------------------------------
// Reporting lines and handovers

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub user: Person,
    pub role: String,
    pub manager: Option<Person>,
    pub department: Option<String>,
}

/// Everyone in the organisation with their manager and department (HR).
/// Everyone active in the organisation, by name, with their manager and department.
pub async fn reporting_lines(state: &AppState, actor: &Actor, org: i64, page: &PageRequest) -> AppResult<Page<Line>> {
    actor.may_manage_reporting_lines(org)?;
    let q = user::Entity::find().filter(user::Column::OrganisationId.eq(org)).filter(user::Column::Active.eq(true));
    let by_name = Keyset::by(user::Column::Name, user::Column::Id, Order::Asc);
    let people = keyset::fetch(&state.db, q, page, by_name, |u| vec![u.name.as_str().into(), u.id.into()]).await?;
    let rows = lines_of(state, org, &people.rows).await?;
    Ok(Page { rows, next: people.next, total: people.total })
}

/// One person's line, as the list shows it.
pub async fn reporting_line(state: &AppState, actor: &Actor, org: i64, user_id: i64) -> AppResult<Line> {
    actor.may_manage_reporting_lines(org)?;
    let person = user::Entity::find_by_id(user_id)
        .filter(user::Column::OrganisationId.eq(org))
        .filter(user::Column::Active.eq(true))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    lines_of(state, org, &[person]).await?.pop().ok_or(AppError::NotFound)
}

/// The lines of these people of the organisation, in their order.
async fn lines_of(state: &AppState, org: i64, people: &[user::Model]) -> AppResult<Vec<Line>> {
    let lines: HashMap<i64, reporting_line::Model> = reporting_line::Entity::find()
        .filter(reporting_line::Column::OrganisationId.eq(org))
        .filter(reporting_line::Column::UserId.is_in(people.iter().map(|u| u.id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|l| (l.user_id, l))
        .collect();
    // Managers of this page's people (only active members of the organisation count).
    let managers = users_by_id(&state.db, lines.values().filter_map(|l| l.manager_id)).await?;
    Ok(people
        .iter()
        .map(|u| {
            let line = lines.get(&u.id);
            let manager = line
                .and_then(|l| l.manager_id)
                .and_then(|m| managers.get(&m))
                .filter(|m| m.active && m.organisation_id == Some(org));
            Line {
                user: Person { id: u.id, name: u.name.clone() },
                role: u.role.clone(),
                manager: manager.map(|m| Person { id: m.id, name: m.name.clone() }),
                department: line.and_then(|l| l.department.clone()),
            }
        })
        .collect())
}

/// Sets someone's manager and department (HR). A carer with a passport who gets a new manager is
/// handed over: the new manager reads it from now on, the old one no longer; recorded and mailed.
pub async fn set_reporting_line(
    state: &AppState,
    actor: &Actor,
    org: i64,
    user_id: i64,
    manager_id: Option<i64>,
    department: Option<String>,
) -> AppResult<()> {
    actor.may_manage_reporting_lines(org)?;
    let department = department.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
    if department.as_ref().is_some_and(|d| crate::domain::text::single_line(d, 100).is_none()) {
        return Err(AppError::invalid("department", "department_invalid"));
    }
    let txn = write_txn(&state.db).await?;
    let person = member(&txn, org, user_id).await?.ok_or(AppError::NotFound)?;
    if let Some(m) = manager_id {
        check_manager(&txn, org, person.id, m, "manager_id").await?;
    }
    move_line(state, &txn, actor, org, person.id, manager_id, department, "manager_changed").await?;
    txn.commit().await?;
    Ok(())
}

/// The manager rule (domain) applied to a stored user; `not_id` is the one person who cannot be
/// chosen (the carer, or the leaving manager in a handover).
async fn check_manager(
    db: &impl ConnectionTrait,
    org: i64,
    not_id: i64,
    manager_id: i64,
    field: &str,
) -> AppResult<()> {
    let candidate = user::Entity::find_by_id(manager_id).one(db).await?.map(|u| rules::ManagerCandidate {
        user_id: u.id,
        role: Role::parse(&u.role),
        active: u.active,
        organisation_id: u.organisation_id,
    });
    rules::check_manager(not_id, org, candidate.as_ref(), field).map_err(|e| AppError::Invalid(vec![e]))
}

async fn member(db: &impl ConnectionTrait, org: i64, id: i64) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(db).await?.filter(|u| u.active && u.organisation_id == Some(org)))
}

/// Updates one reporting line; with a passport and a new manager, records the handover.
#[allow(clippy::too_many_arguments)]
async fn move_line(
    state: &AppState,
    db: &impl ConnectionTrait,
    actor: &Actor,
    org: i64,
    user_id: i64,
    manager_id: Option<i64>,
    department: Option<String>,
    reason: &str,
) -> AppResult<bool> {
    let now = state.now();
    let existing = reporting_line::Entity::find().filter(reporting_line::Column::UserId.eq(user_id)).one(db).await?;
    let old_manager = existing.as_ref().and_then(|l| l.manager_id);
    match existing {
        Some(l) => {
            let mut a: reporting_line::ActiveModel = l.into();
            a.manager_id = Set(manager_id);
            a.department = Set(department);
            a.updated_at = Set(now);
            a.update(db).await?;
        }
        None => {
            reporting_line::ActiveModel {
                user_id: Set(user_id),
                organisation_id: Set(org),
                manager_id: Set(manager_id),
                department: Set(department),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    if old_manager == manager_id {
        return Ok(false);
    }
    let Some(p) = passport::Entity::find().filter(passport::Column::CarerId.eq(user_id)).one(db).await? else {
        return Ok(false);
    };
    let h = passport_handover::ActiveModel {
        passport_id: Set(p.id),
        from_manager_id: Set(old_manager),
        to_manager_id: Set(manager_id),
        by_id: Set(actor.user_id),
        reason: Set(reason.into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action: "passport.handed_over",
            subject: subject(p.id),
            detail: Some(format!("manager {old_manager:?} -> {manager_id:?} ({reason})")),
        },
    )
    .await?;
    // The carer is told in the same transaction that hands the passport over, so the message
    // (inbox and e-mail, in the carer's language) exists before the new manager can read.
    let users = users_by_id(db, [user_id].into_iter().chain(old_manager).chain(manager_id)).await?;
    if let Some(carer) = users.get(&user_id) {
        notifications::notify(
            db,
            state,
            Notice {
                to: carer,
                kind: Kind::PassportHandover,
                organisation_id: Some(org),
                params: minijinja::context! {
                    from_manager => name_of(&users, old_manager),
                    to_manager => name_of(&users, manager_id),
                },
                link: Some(format!("{}/passports/{}", state.public_url(), p.id)),
                dedupe_key: mail_key(p.id, &format!("handover:{}", h.id)),
            },
        )
        .await?;
    }
    Ok(true)
}

/// A manager leaves: everyone they managed moves to the successor at once, passports included.
/// Returns how many passports were handed over.
pub async fn hand_over_all(state: &AppState, actor: &Actor, org: i64, from: i64, to: i64) -> AppResult<usize> {
    actor.may_manage_reporting_lines(org)?;
    let txn = write_txn(&state.db).await?;
    if member(&txn, org, from).await?.is_none() && !is_former_member(&txn, org, from).await? {
        return Err(AppError::invalid("from_manager_id", "manager_unknown"));
    }
    check_manager(&txn, org, from, to, "to_manager_id").await?;
    let lines = reporting_line::Entity::find()
        .filter(reporting_line::Column::OrganisationId.eq(org))
        .filter(reporting_line::Column::ManagerId.eq(from))
        .all(&txn)
        .await?;
    let mut moved = 0;
    for l in lines {
        // The successor does not become their own manager.
        let target = if l.user_id == to { None } else { Some(to) };
        if move_line(state, &txn, actor, org, l.user_id, target, l.department.clone(), "manager_left").await? {
            moved += 1;
        }
    }
    txn.commit().await?;
    Ok(moved)
}

async fn is_former_member(db: &impl ConnectionTrait, org: i64, id: i64) -> AppResult<bool> {
    Ok(user::Entity::find_by_id(id).one(db).await?.is_some_and(|u| u.organisation_id == Some(org)))
}

// ---------------------------------------------------------------------------------------------
// Figures

#[derive(Debug, Clone, Serialize)]
pub struct DepartmentFigure {
    /// `None`: departments too small to show on their own, pooled.
    pub department: Option<String>,
    pub count: Count,
}

#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub organisation_id: i64,
    /// Carers known (consented to be counted), plus former carers who agreed to stay counted.
    pub carers: Count,
    pub active_passports: Count,
    pub draft_passports: Count,
    pub reviews_due: Count,
    pub active_by_department: Vec<DepartmentFigure>,
    pub reviews_due_by_department: Vec<DepartmentFigure>,
}

/// Aggregate counts only, each suppressed below five. Only carers who agreed to be counted are
/// counted.
pub async fn figures(state: &AppState, actor: &Actor, org: i64) -> AppResult<Figures> {
    actor.may_see_passport_figures(org)?;
    let db = &state.db;
    let counted: HashSet<i64> = carer_consent::Entity::find()
        .filter(carer_consent::Column::OrganisationId.eq(org))
        .filter(carer_consent::Column::Statistics.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.user_id)
        .collect();
    let former = carer_statistic::Entity::find()
        .filter(carer_statistic::Column::OrganisationId.eq(org))
        .one(db)
        .await?
        .map(|s| u64::try_from(s.former_carers).unwrap_or(0))
        .unwrap_or(0);
    let passports: Vec<passport::Model> = passport::Entity::find()
        .filter(passport::Column::OrganisationId.eq(org))
        .all(db)
        .await?
        .into_iter()
        .filter(|p| counted.contains(&p.carer_id))
        .collect();
    let confirmations = passport_confirmation::Entity::find()
        .filter(passport_confirmation::Column::PassportId.is_in(passports.iter().map(|p| p.id)))
        .all(db)
        .await?;
    let departments: HashMap<i64, String> = reporting_line::Entity::find()
        .filter(reporting_line::Column::OrganisationId.eq(org))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|l| l.department.map(|d| (l.user_id, d)))
        .collect();
    let today = state.now().date_naive();
    let (mut active, mut drafts, mut due) = (0u64, 0u64, 0u64);
    let mut active_by: BTreeMap<String, u64> = BTreeMap::new();
    let mut due_by: BTreeMap<String, u64> = BTreeMap::new();
    for p in &passports {
        let confirmed = |side: &str| {
            confirmations.iter().any(|c| c.passport_id == p.id && c.version == p.current_version && c.side == side)
        };
        let dept = departments.get(&p.carer_id).cloned().unwrap_or_default();
        if rules::state(confirmed("carer"), confirmed("manager")) == State::Confirmed {
            active += 1;
            *active_by.entry(dept.clone()).or_default() += 1;
        } else {
            drafts += 1;
        }
        if rules::review_due(p.review_date, today) {
            due += 1;
            *due_by.entry(dept).or_default() += 1;
        }
    }
    let by = |m: BTreeMap<String, u64>| {
        rules::by_department(m.into_iter().filter(|(d, _)| !d.is_empty()).collect())
            .into_iter()
            .map(|(department, count)| DepartmentFigure { department, count })
            .collect()
    };
    Ok(Figures {
        organisation_id: org,
        carers: rules::suppress(counted.len() as u64 + former),
        active_passports: rules::suppress(active),
        draft_passports: rules::suppress(drafts),
        reviews_due: rules::suppress(due),
        active_by_department: by(active_by),
        reviews_due_by_department: by(due_by),
    })
}

/// The Going-Ahead items about confidentiality, consent and counting carers, which show the
/// organisation's live figures as supporting information.
pub const GOING_AHEAD_ITEMS: [&str; 3] = ["confidential-completion", "not-everyone-identifies", "count-carers"];

/// The figures for an item page, when the item is one of those and the reader may see them.
pub async fn figures_for_item(
    state: &AppState,
    actor: &Actor,
    org: i64,
    checklist_key: &str,
    item_key: &str,
) -> AppResult<Option<Figures>> {
    if checklist_key != "going-ahead" || !GOING_AHEAD_ITEMS.contains(&item_key) {
        return Ok(None);
    }
    if actor.may_see_passport_figures(org).is_err() {
        return Ok(None);
    }
    figures(state, actor, org).await.map(Some)
}

// ---------------------------------------------------------------------------------------------
// Review reminders

/// Sends the review reminder to carer and manager of every passport whose review is due. Each
/// (passport, review date) is claimed once with a unique row, so it never sends twice, also with
/// several instances or when run again. Returns the number of passports reminded.
pub async fn send_review_reminders(state: &AppState) -> AppResult<usize> {
    use crate::jobs::claims;
    use sea_orm::sea_query::Query;
    let today = state.now().date_naive();
    let horizon = today + Duration::days(rules::REMINDER_DAYS_AHEAD);
    // Only passports not yet reminded of their current review date: a heartbeat reads nothing
    // for passports past their date that were reminded long ago.
    let reminded = Query::select()
        .expr(Expr::val(1))
        .from(passport_review_reminder::Entity)
        .and_where(
            Expr::col((passport_review_reminder::Entity, passport_review_reminder::Column::PassportId))
                .equals((passport::Entity, passport::Column::Id)),
        )
        .and_where(
            Expr::col((passport_review_reminder::Entity, passport_review_reminder::Column::ReviewDate))
                .equals((passport::Entity, passport::Column::ReviewDate)),
        )
        .to_owned();
    let due = passport::Entity::find()
        .filter(passport::Column::ReviewDate.lte(horizon))
        .filter(Expr::exists(reminded).not())
        .all(&state.db)
        .await?;
    let mut sent = 0;
    for p in due {
        // The job claims decide who reminds (several instances, a crash half-way); the reminder
        // row is written with the claim's finish, in one transaction.
        let job = crate::jobs::Job::PassportReviews.name();
        let Some(claim) = claims::claim(state, job, &p.review_date.to_string(), &format!("passport:{}", p.id)).await?
        else {
            continue;
        };
        match remind_of_review(state, &p, &claim).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::error!(passport = p.id, error = %e, "passport review reminder failed; retried next run");
                claims::fail(state, &claim, &e.to_string()).await?;
            }
        }
    }
    Ok(sent)
}

/// One passport's review reminder; false if the claim was lost meanwhile.
async fn remind_of_review(
    state: &AppState,
    p: &passport::Model,
    claim: &crate::jobs::claims::Claim,
) -> AppResult<bool> {
    let txn = write_txn(&state.db).await?;
    let row = passport_review_reminder::ActiveModel {
        passport_id: Set(p.id),
        review_date: Set(p.review_date),
        sent_at: Set(state.now()),
        ..Default::default()
    };
    passport_review_reminder::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                passport_review_reminder::Column::PassportId,
                passport_review_reminder::Column::ReviewDate,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    let facts = facts_of(&txn, p).await?;
    let users = users_by_id(&txn, [p.carer_id].into_iter().chain(facts.manager_id)).await?;
    let carer_name = name_of(&users, Some(p.carer_id)).unwrap_or_default();
    let link = format!("{}/passports/{}", state.public_url(), p.id);
    let mut n = 0;
    for (who, side) in [(Some(p.carer_id), Side::Carer), (facts.manager_id, Side::Manager)] {
        // Only a manager by role is the manager side (as in the policy; same rule as on main).
        let is_side = |u: &&user::Model| side == Side::Carer || u.role == crate::domain::role::Role::Manager.as_str();
        let Some(u) = who.and_then(|id| users.get(&id)).filter(|u| u.active).filter(is_side) else { continue };
        mail::enqueue(
            &txn,
            state,
            mail::Message {
                template: "passport_review",
                to: &u.email,
                lang: &u.locale,
                context: minijinja::context! {
                    name => u.name.clone(), carer => carer_name.clone(), side => side.as_str(),
                    review_date => p.review_date.to_string(), link => link.clone(),
                },
                dedupe_key: Some(mail_key(p.id, &format!("review:{}:{}", p.review_date, u.id))),
            },
        )
        .await?;
        n += 1;
    }
    if !crate::jobs::claims::finish(&txn, state, claim, &n.to_string()).await? {
        txn.rollback().await?;
        return Ok(false);
    }
    txn.commit().await?;
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// Portability: PDF, signed file, transfer codes, import

/// The passport as it travels (inside a sealed file or a transfer code): `passport` with the
/// text, `signature` an HMAC-SHA256 (with this installation's secret) of its canonical JSON.
async fn export_document(state: &AppState, p: &passport::Model) -> AppResult<serde_json::Value> {
    let v = version_row(&state.db, p.id, p.current_version).await?;
    let content = decrypt_content(state, &v)?;
    let carer = user::Entity::find_by_id(p.carer_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let org = organisation::Entity::find_by_id(p.organisation_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let confirmations = passport_confirmation::Entity::find()
        .filter(passport_confirmation::Column::PassportId.eq(p.id))
        .filter(passport_confirmation::Column::Version.eq(p.current_version))
        .all(&state.db)
        .await?;
    let body = serde_json::json!({
        "format": EXPORT_FORMAT,
        "issuer": state.public_url(),
        "exported_at": state.now().to_rfc3339(),
        "carer": carer.name,
        "organisation": org.name,
        "version": p.current_version,
        "review_date": v.review_date.to_string(),
        "situation": content.situation,
        "arrangements": content.arrangements,
        "support": content.support,
        "confirmed": confirmations.iter().map(|c| serde_json::json!({ "side": c.side, "at": c.confirmed_at.to_rfc3339() })).collect::<Vec<_>>(),
    });
    let signature = crypto::sign(&state.secret, &canonical_json(&body));
    Ok(serde_json::json!({ "passport": body, "signature": signature }))
}

/// The file a carer takes to another organisation (another account, on this service). The
/// passport is sealed with a passphrase the carer chooses here: whoever imports the file must
/// know it, so a copy of the file in someone else's hands is useless to them. The carer's
/// identity across accounts is that knowledge, not an e-mail address. A random `id` lets each
/// file import once; `signature` (HMAC with this installation's secret) shows it was made here
/// and not changed.
pub async fn export_json(
    state: &AppState,
    actor: &Actor,
    id: i64,
    passphrase: &str,
    channel: Channel,
) -> AppResult<serde_json::Value> {
    let (p, facts, side) = readable(&state.db, actor, id).await?;
    actor.may_carry_passport(&facts)?;
    rules::check_passphrase(passphrase).map_err(|e| AppError::Invalid(vec![e]))?;
    let doc = export_document(state, &p).await?;
    let file_id = crypto::random_token();
    let (phrase, context) = (passphrase.to_string(), sealed_context(&file_id));
    let sealed = blocking(move || seal_with_passphrase(&phrase, doc.to_string().as_bytes(), &context))
        .await?
        .map_err(AppError::internal)?;
    let mut file = serde_json::json!({
        "format": SEALED_FORMAT,
        "id": file_id,
        "kdf": SEAL_KDF,
        "salt": B64.encode(&sealed.salt),
        "nonce": B64.encode(&sealed.nonce),
        "sealed": B64.encode(&sealed.ciphertext),
    });
    file["signature"] = serde_json::Value::String(crypto::sign(&state.secret, &canonical_json(&file)));
    log_access(&state.db, state.now(), p.id, actor, side, "export_json", channel).await?;
    state.metrics.passport_read("export_json");
    Ok(file)
}

/// Associated data of a sealed file: its parts cannot be moved into another file.
fn sealed_context(file_id: &str) -> String {
    format!("{SEALED_FORMAT}:{file_id}")
}

/// Key derivation is slow on purpose; it runs beside the request handlers, not on them.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(work).await.map_err(AppError::internal)
}

/// What a sealed file holds once opened with its passphrase.
struct OpenedFile {
    id: String,
    content: Content,
    review: Option<NaiveDate>,
}

/// Checks the signature and opens the file with the passphrase. A wrong passphrase is told
/// apart from a file that is not ours, so the carer knows what to try again.
async fn open_file(state: &AppState, file: &serde_json::Value, passphrase: &str) -> AppResult<OpenedFile> {
    let bad = || AppError::invalid("file", "passport_file_invalid");
    let mut unsigned = file.as_object().cloned().ok_or_else(bad)?;
    let signature = unsigned.remove("signature").and_then(|s| s.as_str().map(String::from)).ok_or_else(bad)?;
    let unsigned = serde_json::Value::Object(unsigned);
    if !crypto::verify_signature(&state.secret, &canonical_json(&unsigned), &signature) {
        return Err(bad());
    }
    let text = |key: &str| unsigned.get(key).and_then(|v| v.as_str()).map(String::from).ok_or_else(bad);
    if text("format")? != SEALED_FORMAT || text("kdf")? != SEAL_KDF {
        return Err(bad());
    }
    let bytes = |key: &str| text(key).and_then(|t| B64.decode(t).map_err(|_| bad()));
    let sealed = Sealed { salt: bytes("salt")?, nonce: bytes("nonce")?, ciphertext: bytes("sealed")? };
    let id = text("id")?;
    let (phrase, context) = (passphrase.to_string(), sealed_context(&id));
    let plain = blocking(move || open_with_passphrase(&phrase, &sealed, &context))
        .await?
        .map_err(|_| AppError::invalid("passphrase", "passphrase_wrong"))?;
    let doc: serde_json::Value = serde_json::from_slice(&plain).map_err(|_| bad())?;
    let (content, review) = verify_document(state, &doc)?;
    Ok(OpenedFile { id, content, review })
}

/// JSON with object keys sorted and no whitespace, so the signature does not depend on how the
/// file was written or read.
pub fn canonical_json(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> =
                keys.into_iter().map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&map[k]))).collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical_json).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// The content and review date of a signed file, if the signature holds.
fn verify_document(state: &AppState, doc: &serde_json::Value) -> AppResult<(Content, Option<NaiveDate>)> {
    let bad = || AppError::invalid("file", "passport_file_invalid");
    let body = doc.get("passport").ok_or_else(bad)?;
    let signature = doc.get("signature").and_then(|s| s.as_str()).ok_or_else(bad)?;
    if !crypto::verify_signature(&state.secret, &canonical_json(body), signature) {
        return Err(bad());
    }
    if body.get("format").and_then(|f| f.as_str()) != Some(EXPORT_FORMAT) {
        return Err(bad());
    }
    let content: Content = serde_json::from_value(serde_json::json!({
        "situation": body.get("situation"),
        "arrangements": body.get("arrangements"),
        "support": body.get("support"),
    }))
    .map_err(|_| bad())?;
    let review = body.get("review_date").and_then(|d| d.as_str()).and_then(|d| d.parse::<NaiveDate>().ok());
    Ok((content, review))
}

/// A one-time code for moving the passport to another organisation on this service. Only its
/// hash is stored, beside the encrypted passport as it is now.
pub async fn create_transfer_code(
    state: &AppState,
    actor: &Actor,
    id: i64,
    channel: Channel,
) -> AppResult<(String, DateTime<Utc>)> {
    let (p, facts, side) = readable(&state.db, actor, id).await?;
    actor.may_carry_passport(&facts)?;
    let doc = export_document(state, &p).await?;
    let code = transfer_code();
    let code_hash = crypto::hash_token(&normalise_code(&code));
    let now = state.now();
    let expires_at = now + Duration::days(TRANSFER_CODE_DAYS);
    let txn = write_txn(&state.db).await?;
    passport_transfer_code::ActiveModel {
        passport_id: Set(p.id),
        payload: Set(state.passport_keys.encrypt(doc.to_string().as_bytes(), &format!("transfer:{code_hash}"))),
        code_hash: Set(code_hash),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    log_access(&txn, now, p.id, actor, side, "transfer_code", channel).await?;
    state.metrics.passport_read("transfer_code");
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(p.organisation_id),
            action: "passport.transfer_code",
            subject: subject(p.id),
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok((code, expires_at))
}

/// Twelve letters and digits without look-alikes, in groups of four.
fn transfer_code() -> String {
    use rand::RngExt;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rand_core::UnwrapErr(rand::rngs::SysRng);
    let chars: Vec<char> = (0..12).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

fn normalise_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

pub enum ImportSource {
    /// The sealed file, as exported, with the passphrase the carer chose for it.
    File { file: serde_json::Value, passphrase: String },
    /// A one-time transfer code: holding it is the proof.
    Code(String),
}

enum Opened {
    File(OpenedFile),
    Code(String),
}

/// Imports a passport at the carer's (new) organisation: a draft for the new manager to confirm.
/// A file imports only with its passphrase, a code only while unused, and each only once.
pub async fn import(state: &AppState, actor: &Actor, source: ImportSource) -> AppResult<i64> {
    let org = actor.may_be_carer()?;
    // The file is opened before the write transaction: its key derivation takes a moment, and a
    // file that does not open writes nothing.
    let opened = match source {
        ImportSource::File { file, passphrase } => Opened::File(open_file(state, &file, &passphrase).await?),
        ImportSource::Code(code) => Opened::Code(code),
    };
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    // Checked before the file or code is used up, so that a refusal leaves it usable.
    if carer_consent::Entity::find().filter(carer_consent::Column::UserId.eq(actor.user_id)).one(&txn).await?.is_none()
    {
        return Err(AppError::invalid("consent", "carer_consent_required"));
    }
    if passport::Entity::find().filter(passport::Column::CarerId.eq(actor.user_id)).one(&txn).await?.is_some() {
        return Err(AppError::Conflict("you already have a passport here".into()));
    }
    let (content, review) = match opened {
        Opened::File(f) => {
            // The unique key makes "once" hold also for two imports at the same moment.
            let recorded = passport_file_import::Entity::insert(passport_file_import::ActiveModel {
                file_hash: Set(crypto::hash_token(&f.id)),
                imported_at: Set(now),
                ..Default::default()
            })
            .on_conflict(OnConflict::column(passport_file_import::Column::FileHash).do_nothing().to_owned())
            .exec_without_returning(&txn)
            .await?;
            if recorded == 0 {
                return Err(AppError::invalid("file", "passport_file_used"));
            }
            (f.content, f.review)
        }
        Opened::Code(code) => {
            let invalid = || AppError::invalid("code", "transfer_code_invalid");
            let code_hash = crypto::hash_token(&normalise_code(&code));
            let row = passport_transfer_code::Entity::find()
                .filter(passport_transfer_code::Column::CodeHash.eq(code_hash.clone()))
                .one(&txn)
                .await?
                .filter(|r| r.used_at.is_none() && r.expires_at > now)
                .ok_or_else(invalid)?;
            // Used up only if still unused at this moment: two imports racing get one passport.
            let used = passport_transfer_code::Entity::update_many()
                .col_expr(passport_transfer_code::Column::UsedAt, Expr::value(now))
                .filter(passport_transfer_code::Column::Id.eq(row.id))
                .filter(passport_transfer_code::Column::UsedAt.is_null())
                .exec(&txn)
                .await?;
            if used.rows_affected != 1 {
                return Err(invalid());
            }
            let plain = state
                .passport_keys
                .decrypt(&row.payload, &format!("transfer:{code_hash}"))
                .map_err(AppError::internal)?;
            let doc: serde_json::Value = serde_json::from_slice(&plain).map_err(AppError::internal)?;
            verify_document(state, &doc)?
        }
    };
    let content = content.parse().map_err(AppError::Invalid)?;
    let today = now.date_naive();
    let review = review.filter(|d| rules::check_review_date(*d, today).is_ok()).unwrap_or(rules::next_review(today));
    let id =
        insert_passport(state, &txn, actor.user_id, org, "imported", Some(actor.user_id), &content, review).await?;
    txn.commit().await?;
    Ok(id)
}

/// The passport as a PDF to read and keep (logged like any read).
pub async fn export_pdf(state: &AppState, actor: &Actor, id: i64, channel: Channel, lang: &str) -> AppResult<Vec<u8>> {
    let (p, facts, side) = readable(&state.db, actor, id).await?;
    let v = version_row(&state.db, p.id, p.current_version).await?;
    let content = decrypt_content(state, &v)?;
    log_access(&state.db, state.now(), p.id, actor, side, "export_pdf", channel).await?;
    state.metrics.passport_read("export_pdf");
    let view = build_view(state, p, facts, side, v, content).await?;
    // Laying out a PDF is CPU work: off the async workers.
    let (state, lang) = (state.clone(), lang.to_string());
    tokio::task::spawn_blocking(move || super::passport_pdf::render(&state, &view, &lang))
        .await
        .map_err(AppError::internal)?
}

// ---------------------------------------------------------------------------------------------
// Key rotation

/// Re-encrypts every stored value that is not under the current key (after PASSPORT_KEY was
/// changed and the old key put in PASSPORT_OLD_KEYS). Returns how many values were re-encrypted.
pub async fn rotate_key(state: &AppState) -> AppResult<usize> {
    let keys = &state.passport_keys;
    let mut done = 0;
    let versions = passport_version::Entity::find().all(&state.db).await?;
    for v in versions.into_iter().filter(|v| !keys.is_current(&v.content)) {
        let ctx = version_context(v.passport_id, v.version);
        let plain = keys.decrypt(&v.content, &ctx).map_err(AppError::internal)?;
        let mut a: passport_version::ActiveModel = v.into();
        a.content = Set(keys.encrypt(&plain, &ctx));
        a.update(&state.db).await?;
        done += 1;
    }
    let codes = passport_transfer_code::Entity::find().all(&state.db).await?;
    for c in codes.into_iter().filter(|c| !keys.is_current(&c.payload)) {
        let ctx = format!("transfer:{}", c.code_hash);
        let plain = keys.decrypt(&c.payload, &ctx).map_err(AppError::internal)?;
        let mut a: passport_transfer_code::ActiveModel = c.into();
        a.payload = Set(keys.encrypt(&plain, &ctx));
        a.update(&state.db).await?;
        done += 1;
    }
    Ok(done)
}
