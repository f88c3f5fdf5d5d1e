//! Accounts: the first operator, invitations, login sessions, password resets and API tokens.
//! Sessions live in the database (only a hash of the cookie's token), so any instance can serve
//! any request.
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};

use super::audit::{self, Entry};
use super::crypto::{dummy_password_hash, hash_token, random_token};
use crate::db::entities::{
    advisor_assignment, api_token, invitation_assignment, one_time_token, organisation, session, user,
};
use crate::db::page::{self as keyset, Keyset};
use crate::db::write_txn;
use crate::domain::email::EmailAddress;
use crate::domain::page::{Order, Page, PageRequest};
use crate::domain::policy::{Actor, GlobalPermission, Permission};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult, FieldError, OnUnique};
use crate::mail;
use crate::state::AppState;

pub const SESSION_DAYS: i64 = 14;
pub const INVITATION_DAYS: i64 = 7;
pub const RESET_HOURS: i64 = 2;
pub const MIN_PASSWORD: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Setup,
    Invitation,
    Reset,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Setup => "setup",
            Purpose::Invitation => "invitation",
            Purpose::Reset => "reset",
        }
    }
}

/// Advisors' assigned organisations by advisor, with the `assignments_version` they were read
/// at. An advisor may look after thousands of organisations; reading them on every request cost
/// more than the page. The version is on the user row every request reads anyway, bumped in the
/// transaction that changes the assignments, so each instance reads them again on its first
/// request after a change.
#[derive(Default)]
pub struct AssignmentCache(std::sync::Mutex<HashMap<i64, Cached>>);

/// An advisor's organisations as read at one version of their assignments.
struct Cached {
    version: i64,
    organisations: Arc<Vec<i64>>,
}

/// Advisors kept at most; beyond, the cache starts over (each is read again once).
const CACHED_ADVISORS: usize = 10_000;

impl AssignmentCache {
    fn get(&self, advisor: i64, version: i64) -> Option<Arc<Vec<i64>>> {
        let map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&advisor).filter(|c| c.version == version).map(|c| c.organisations.clone())
    }

    fn put(&self, advisor: i64, version: i64, ids: Arc<Vec<i64>>) {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= CACHED_ADVISORS {
            map.clear();
        }
        map.insert(advisor, Cached { version, organisations: ids });
    }
}

/// Marks these advisors' assignments as changed, inside the transaction that changes them.
pub async fn assignments_changed(db: &impl ConnectionTrait, advisors: &[i64]) -> AppResult<()> {
    if !advisors.is_empty() {
        user::Entity::update_many()
            .col_expr(user::Column::AssignmentsVersion, Expr::col(user::Column::AssignmentsVersion).add(1))
            .filter(user::Column::Id.is_in(advisors.to_vec()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// What the policy needs about a user (an advisor's assignments from `cache` when unchanged).
pub async fn actor_for(db: &impl ConnectionTrait, cache: &AssignmentCache, u: &user::Model) -> AppResult<Actor> {
    let role = Role::parse(&u.role).ok_or_else(|| AppError::internal(format!("unknown role {}", u.role)))?;
    let assigned = if role != Role::Advisor {
        Arc::default()
    } else if let Some(ids) = cache.get(u.id, u.assignments_version) {
        ids
    } else {
        let ids: Arc<Vec<i64>> = Arc::new(
            advisor_assignment::Entity::find()
                .select_only()
                .column(advisor_assignment::Column::OrganisationId)
                .filter(advisor_assignment::Column::AdvisorId.eq(u.id))
                .into_tuple()
                .all(db)
                .await?,
        );
        cache.put(u.id, u.assignments_version, ids.clone());
        ids
    };
    Ok(Actor { user_id: u.id, role, organisation_id: u.organisation_id, assigned })
}

pub fn check_password(password: &str) -> Result<(), FieldError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(FieldError::new("password", "password_too_short"));
    }
    Ok(())
}

/// On an installation without an operator, a fresh one-time link to create one.
pub async fn setup_link_if_needed(state: &AppState) -> AppResult<Option<String>> {
    let operators =
        user::Entity::find().filter(user::Column::Role.eq(Role::Operator.as_str())).count(&state.db).await?;
    if operators > 0 {
        return Ok(None);
    }
    let token = random_token();
    let now = state.now();
    // One working link at a time: a new one ends the ones printed before (also by another
    // instance starting at the same moment, hence the lock).
    let txn = write_txn(&state.db).await?;
    crate::db::connect::serialise(&txn, "setup-link", 0).await?;
    one_time_token::Entity::update_many()
        .col_expr(one_time_token::Column::ExpiresAt, sea_orm::sea_query::Expr::value(now))
        .filter(one_time_token::Column::Purpose.eq(Purpose::Setup.as_str()))
        .filter(one_time_token::Column::UsedAt.is_null())
        .filter(one_time_token::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    one_time_token::ActiveModel {
        token_hash: Set(hash_token(&token)),
        purpose: Set(Purpose::Setup.as_str().into()),
        email: Set(String::new()),
        role: Set(Some(Role::Operator.as_str().into())),
        created_at: Set(now),
        expires_at: Set(now + Duration::hours(24)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Some(format!("{}/welcome/{token}", state.public_url())))
}

pub struct NewInvitation {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisation_id: Option<i64>,
    pub lang: String,
    /// For an advisor: the organisations they will look after once they accept.
    pub assign_to: Vec<i64>,
}

/// Invites someone: checks who may invite whom where, stores a one-time link and queues the mail
/// in the same transaction.
pub async fn invite(state: &AppState, actor: &Actor, inv: NewInvitation) -> AppResult<one_time_token::Model> {
    match inv.organisation_id {
        Some(org) => {
            actor.may(Permission::InviteMembers, org)?;
            if !actor.may_invite_role(inv.role) {
                return Err(AppError::invalid("role", "role_not_allowed"));
            }
        }
        None => {
            actor.may_globally(GlobalPermission::ManageAdvisors)?;
            if inv.role != Role::Advisor && inv.role != Role::Operator {
                return Err(AppError::invalid("organisation_id", "organisation_required"));
            }
        }
    }
    let mut errors = vec![];
    let email = EmailAddress::parse(&inv.email);
    if email.is_none() {
        errors.push(FieldError::new("email", "email_invalid"));
    }
    let name = crate::domain::text::single_line(&inv.name, 200).unwrap_or_default();
    if name.is_empty() {
        errors.push(FieldError::new("name", "name_required"));
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    super::throttle::check_invitation(&state.db, email.as_str(), state.now()).await?;
    // An address that already has an account is answered like any other, so an inviter cannot
    // find out who has an account elsewhere; the mail tells its owner to log in instead.
    let existing_account =
        user::Entity::find().filter(user::Column::Email.eq(email.as_str())).count(&state.db).await? > 0;
    let org_name = match inv.organisation_id {
        Some(id) => organisation::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)?.name,
        None => String::new(),
    };
    if !inv.assign_to.is_empty() && inv.role != Role::Advisor {
        return Err(AppError::invalid("organisation_ids", "only_advisors_assigned"));
    }
    let known = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(inv.assign_to.clone()))
        .count(&state.db)
        .await?;
    let mut assign_to = inv.assign_to.clone();
    assign_to.sort_unstable();
    assign_to.dedup();
    if known != assign_to.len() as u64 {
        return Err(AppError::invalid("organisation_ids", "organisation_unknown"));
    }
    let token = random_token();
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let row = one_time_token::ActiveModel {
        token_hash: Set(hash_token(&token)),
        purpose: Set(Purpose::Invitation.as_str().into()),
        email: Set(email.as_str().into()),
        name: Set(Some(name.clone())),
        role: Set(Some(inv.role.as_str().into())),
        organisation_id: Set(inv.organisation_id),
        created_by: Set(Some(actor.user_id)),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(INVITATION_DAYS)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for org in assign_to {
        invitation_assignment::ActiveModel {
            invitation_id: Set(row.id),
            organisation_id: Set(org),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    let link = format!("{}/welcome/{token}", state.public_url());
    let role_label = state.translations.get(&inv.lang, &format!("role.{}", inv.role.as_str())).to_string();
    mail::enqueue(
        &txn,
        state,
        mail::Message {
            template: "invitation",
            to: email.as_str(),
            lang: &inv.lang,
            context: minijinja::context! { name => name, link => link, role => role_label,
            organisation => org_name, days => INVITATION_DAYS, existing_account => existing_account,
            login_link => format!("{}/login", state.public_url()) },
            dedupe_key: None,
        },
    )
    .await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: inv.organisation_id,
            action: "invitation.created",
            subject: format!("invitation:{}", row.id),
            // The fact, not the person: the address is on the invitation while it lives.
            detail: Some(inv.role.as_str().into()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// A one-time link that is still usable, or a clear reason why not.
pub async fn usable_token(state: &AppState, token: &str) -> AppResult<one_time_token::Model> {
    let row = one_time_token::Entity::find()
        .filter(one_time_token::Column::TokenHash.eq(hash_token(token)))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.used_at.is_some() {
        return Err(AppError::Conflict("this link has already been used".into()));
    }
    if row.expires_at <= state.now() {
        return Err(AppError::Conflict("this link has expired; ask for a new one".into()));
    }
    Ok(row)
}

/// Accepts an invitation or the setup link: creates the account with the chosen password.
pub async fn accept_invitation(
    state: &AppState,
    token: &str,
    name: &str,
    email: &str,
    password: &str,
) -> AppResult<user::Model> {
    let row = usable_token(state, token).await?;
    let purpose = row.purpose.as_str();
    if purpose != Purpose::Invitation.as_str() && purpose != Purpose::Setup.as_str() {
        return Err(AppError::NotFound);
    }
    let mut errors = vec![];
    let typed = if name.trim().is_empty() { row.name.clone().unwrap_or_default() } else { name.to_string() };
    let name = crate::domain::text::single_line(&typed, 200).unwrap_or_default();
    if name.is_empty() {
        errors.push(FieldError::new("name", "name_required"));
    }
    // The setup link asks for the operator's address; an invitation already carries it.
    let email = if row.email.is_empty() { email.to_string() } else { row.email.clone() };
    let parsed = EmailAddress::parse(&email);
    if parsed.is_none() {
        errors.push(FieldError::new("email", "email_invalid"));
    }
    if let Err(e) = check_password(password) {
        errors.push(e);
    }
    let Some(email) = parsed.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    // Checked here for a quick answer; the unique key on the address decides (below).
    if user::Entity::find().filter(user::Column::Email.eq(email.as_str())).count(&state.db).await? > 0 {
        return Err(AppError::invalid("email", "email_taken"));
    }
    let hash = super::crypto::hash_password_off_runtime(password).await.map_err(AppError::internal)?;
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    // Claim the link first: a second use in parallel updates nothing and stops here.
    let claimed = one_time_token::Entity::update_many()
        .col_expr(one_time_token::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(one_time_token::Column::Id.eq(row.id))
        .filter(one_time_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict("this link has already been used".into()));
    }
    let role = row.role.clone().unwrap_or_else(|| Role::Employee.as_str().into());
    let u = user::ActiveModel {
        email: Set(email.as_str().into()),
        name: Set(name),
        role: Set(role.clone()),
        organisation_id: Set(row.organisation_id),
        password_hash: Set(Some(hash)),
        locale: Set("nl".into()),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    // Someone took the address between the check above and now: the same answer, not a 500.
    .on_unique(|| AppError::invalid("email", "email_taken"))?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(u.id),
            organisation_id: u.organisation_id,
            action: "account.created",
            subject: format!("user:{}", u.id),
            detail: Some(role.clone()),
        },
    )
    .await?;
    // An advisor assigned while still invited looks after those organisations from now on.
    let planned = invitation_assignment::Entity::find()
        .filter(invitation_assignment::Column::InvitationId.eq(row.id))
        .all(&txn)
        .await?;
    for a in planned {
        assign_advisor_in(&txn, u.id, a.organisation_id, now).await?;
    }
    txn.commit().await?;
    Ok(u)
}

pub(crate) async fn assign_advisor_in(
    db: &impl ConnectionTrait,
    advisor_id: i64,
    org: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let exists = advisor_assignment::Entity::find()
        .filter(advisor_assignment::Column::AdvisorId.eq(advisor_id))
        .filter(advisor_assignment::Column::OrganisationId.eq(org))
        .count(db)
        .await?;
    if exists == 0 {
        advisor_assignment::ActiveModel {
            advisor_id: Set(advisor_id),
            organisation_id: Set(org),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        assignments_changed(db, &[advisor_id]).await?;
        super::progress::reassigned(db, &[(advisor_id, org, true)]).await?;
    }
    Ok(())
}

/// Checks e-mail and password; a wrong one of either gives the same answer.
pub async fn login(state: &AppState, email: &str, password: &str) -> AppResult<(user::Model, String)> {
    let email = email.trim().to_lowercase();
    super::throttle::count_login_attempt(&state.db, &email, state.now()).await?;
    let found = user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(&state.db).await?;
    let hash = found.as_ref().and_then(|u| u.password_hash.clone());
    let ok =
        super::crypto::verify_password_off_runtime(password, hash.as_deref().unwrap_or(dummy_password_hash())).await;
    let Some(u) = found.filter(|u| ok && hash.is_some() && u.active) else {
        return Err(AppError::Invalid(vec![FieldError::new("password", "login_failed")]));
    };
    super::throttle::clear_login_attempts(&state.db, &email).await?;
    let token = random_token();
    let now = state.now();
    user::Entity::update_many()
        .col_expr(user::Column::LastLoginAt, sea_orm::sea_query::Expr::value(Some(now)))
        .filter(user::Column::Id.eq(u.id))
        .exec(&state.db)
        .await?;
    session::ActiveModel {
        token_hash: Set(hash_token(&token)),
        user_id: Set(u.id),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(SESSION_DAYS)),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    Ok((u, token))
}

pub async fn session_user(state: &AppState, token: &str) -> AppResult<Option<user::Model>> {
    Ok(session_and_user(state, token).await?.map(|(_, u)| u))
}

/// The live session of this token and its (active) user, in one query (every page asks).
pub async fn session_and_user(state: &AppState, token: &str) -> AppResult<Option<(session::Model, user::Model)>> {
    let found = session::Entity::find()
        .find_also_related(user::Entity)
        .filter(session::Column::TokenHash.eq(hash_token(token)))
        .one(&state.db)
        .await?;
    Ok(match found {
        Some((s, Some(u))) if s.expires_at > state.now() && u.active => Some((s, u)),
        _ => None,
    })
}

/// What was typed in a failed form, kept on the session for the page at `path` (one form at a
/// time; bounded, and never a password).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct KeptForm {
    pub path: String,
    pub fields: std::collections::BTreeMap<String, String>,
}

pub const KEPT_FORM_MAX_BYTES: usize = 64 * 1024;

pub async fn keep_form(state: &AppState, token: &str, kept: Option<&KeptForm>) -> AppResult<()> {
    let json = match kept {
        Some(k) => {
            let json = serde_json::to_string(k).map_err(AppError::internal)?;
            if json.len() > KEPT_FORM_MAX_BYTES {
                return Ok(());
            }
            Some(json)
        }
        None => None,
    };
    session::Entity::update_many()
        .col_expr(session::Column::KeptForm, sea_orm::sea_query::Expr::value(json))
        .filter(session::Column::TokenHash.eq(hash_token(token)))
        .exec(&state.db)
        .await?;
    Ok(())
}

pub async fn logout(state: &AppState, token: &str) -> AppResult<()> {
    session::Entity::delete_many().filter(session::Column::TokenHash.eq(hash_token(token))).exec(&state.db).await?;
    Ok(())
}

/// Always answers the same, whether or not the address has an account.
pub async fn request_password_reset(state: &AppState, email: &str, lang: &str) -> AppResult<()> {
    let Some(email) = EmailAddress::parse(email) else {
        return Err(AppError::invalid("email", "email_invalid"));
    };
    let Some(u) =
        user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(&state.db).await?.filter(|u| u.active)
    else {
        return Ok(());
    };
    let now = state.now();
    if !super::throttle::reset_mail_allowed(&state.db, u.id, now).await? {
        return Ok(());
    }
    let token = random_token();
    let txn = write_txn(&state.db).await?;
    // Only the newest link works: an older one in a mailbox is dead.
    one_time_token::Entity::update_many()
        .col_expr(one_time_token::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(one_time_token::Column::Purpose.eq(Purpose::Reset.as_str()))
        .filter(one_time_token::Column::UserId.eq(u.id))
        .filter(one_time_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    one_time_token::ActiveModel {
        token_hash: Set(hash_token(&token)),
        purpose: Set(Purpose::Reset.as_str().into()),
        email: Set(u.email.clone()),
        user_id: Set(Some(u.id)),
        created_at: Set(now),
        expires_at: Set(now + Duration::hours(RESET_HOURS)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let link = format!("{}/password-reset/{token}", state.public_url());
    mail::enqueue(
        &txn,
        state,
        mail::Message {
            template: "password_reset",
            to: &u.email,
            lang,
            context: minijinja::context! { name => u.name, link => link, hours => RESET_HOURS },
            dedupe_key: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn reset_password(state: &AppState, token: &str, password: &str) -> AppResult<user::Model> {
    let row = usable_token(state, token).await?;
    if row.purpose != Purpose::Reset.as_str() {
        return Err(AppError::NotFound);
    }
    check_password(password).map_err(|e| AppError::Invalid(vec![e]))?;
    let hash = super::crypto::hash_password_off_runtime(password).await.map_err(AppError::internal)?;
    let now = state.now();
    let user_id = row.user_id.ok_or(AppError::NotFound)?;
    let txn = write_txn(&state.db).await?;
    let claimed = one_time_token::Entity::update_many()
        .col_expr(one_time_token::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(one_time_token::Column::Id.eq(row.id))
        .filter(one_time_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict("this link has already been used".into()));
    }
    let u = user::Entity::find_by_id(user_id).one(&txn).await?.ok_or(AppError::NotFound)?;
    let mut am: user::ActiveModel = u.into();
    am.password_hash = Set(Some(hash));
    let u = am.update(&txn).await?;
    // A reset ends every session and API token: whoever knew the old password is shut out.
    session::Entity::delete_many().filter(session::Column::UserId.eq(u.id)).exec(&txn).await?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
        .filter(api_token::Column::UserId.eq(u.id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    super::throttle::clear_login_attempts(&txn, &u.email).await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(u.id),
            organisation_id: u.organisation_id,
            action: "account.password_reset",
            subject: format!("user:{}", u.id),
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(u)
}

pub async fn set_locale(state: &AppState, user_id: i64, lang: &str) -> AppResult<()> {
    if let Some(u) = user::Entity::find_by_id(user_id).one(&state.db).await? {
        let mut am: user::ActiveModel = u.into();
        am.locale = Set(crate::web::i18n::normalise(Some(lang)).into());
        am.update(&state.db).await?;
    }
    Ok(())
}

// --- API tokens -------------------------------------------------------------------------------

pub async fn create_api_token(state: &AppState, actor: &Actor, name: &str) -> AppResult<(api_token::Model, String)> {
    let Some(name) = crate::domain::text::single_line(name, 100) else {
        return Err(AppError::invalid("name", "name_required"));
    };
    let name = name.as_str();
    let token = format!("cf_{}", random_token());
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let row = api_token::ActiveModel {
        user_id: Set(actor.user_id),
        name: Set(name.into()),
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
            organisation_id: actor.organisation_id,
            action: "api_token.created",
            subject: format!("api_token:{}", row.id),
            detail: Some(name.into()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok((row, token))
}

/// The user's tokens, newest first.
pub async fn list_api_tokens(state: &AppState, actor: &Actor, page: &PageRequest) -> AppResult<Page<api_token::Model>> {
    let q = api_token::Entity::find().filter(api_token::Column::UserId.eq(actor.user_id));
    keyset::fetch(&state.db, q, page, Keyset::by_id(api_token::Column::Id, Order::Desc), |t| vec![t.id.into()]).await
}

/// Only one's own tokens can be revoked; someone else's id is "not found".
/// Revokes one of the user's tokens (again is no error) and answers with it as it now is.
pub async fn revoke_api_token(state: &AppState, actor: &Actor, id: i64) -> AppResult<api_token::Model> {
    let row = api_token::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|t| t.user_id == actor.user_id)
        .ok_or(AppError::NotFound)?;
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let mut am: api_token::ActiveModel = row.into();
    am.revoked_at = Set(Some(now));
    let revoked = am.update(&txn).await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: actor.organisation_id,
            action: "api_token.revoked",
            subject: format!("api_token:{id}"),
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(revoked)
}

pub async fn bearer_user(state: &AppState, token: &str) -> AppResult<Option<user::Model>> {
    let Some(t) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash_token(token)))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    Ok(user::Entity::find_by_id(t.user_id).one(&state.db).await?.filter(|u| u.active))
}
