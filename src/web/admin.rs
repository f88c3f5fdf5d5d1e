//! Members and invitations, the operator's page, and the user's own account (API tokens).
use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::notice::{Done, redirect_done};
use super::session::{self, Viewer};
use super::{field_errors, render};
use crate::domain::page::{MAX_LIMIT, PageRequest};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::services::{accounts, members as people, organisations};
use crate::state::AppState;
use minijinja::value::Serde;

async fn members_page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    org: i64,
    status: StatusCode,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    use crate::domain::policy::Permission;
    let organisation = organisations::get(state, &v.actor, org).await?;
    let member_list = people::list(state, &v.actor, org, &super::pager::page_of(req, "members")).await?;
    let pager = super::pager::pager(req, &member_list);
    let may_invite = v.actor.may(Permission::InviteMembers, org).is_ok();
    let may_manage = v.actor.may(Permission::ManageMembers, org).is_ok();
    let invitations = if may_manage {
        people::pending_invitations(state, &v.actor, org, &PageRequest::first("invitations", MAX_LIMIT)).await?.rows
    } else {
        vec![]
    };
    let roles: Vec<&str> = Role::ALL.iter().filter(|r| v.actor.may_invite_role(**r)).map(|r| r.as_str()).collect();
    render(
        state,
        req,
        Some(v),
        status,
        "members.html",
        minijinja::context! {
            organisation => Serde(organisation), members => Serde(member_list.rows), pager => Serde(pager), may_invite => Serde(may_invite), may_manage => Serde(may_manage),
            invitations => Serde(invitations), roles => Serde(roles), ..extra
        },
    )
}

#[handler]
pub async fn members(req: &Request, state: Data<&AppState>, v: Viewer, Path(org): Path<i64>) -> poem::Result<Response> {
    members_page(&state, req, &v, org, StatusCode::OK, minijinja::context! {}).await
}

/// After a change, the members page again (post/redirect/get) with what was done.
fn members_done(org: i64, done: Done) -> Response {
    redirect_done(&format!("/organisations/{org}/members"), done)
}

/// A refused change as one message for the top of a page: invalid input (422) or a state that
/// does not allow it (409). Anything else is not a refusal and goes to the error page.
fn refusal(state: &AppState, lang: &str, err: &AppError) -> Option<(StatusCode, String)> {
    match err {
        AppError::Invalid(errors) => Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            errors
                .iter()
                .map(|e| state.translations.get(lang, &format!("error.{}", e.code)).to_string())
                .collect::<Vec<_>>()
                .join(" "),
        )),
        AppError::Conflict(_) => Some((StatusCode::CONFLICT, super::page_message(state, lang, err))),
        _ => None,
    }
}

/// A refused change on the members page: the page again with the reason.
async fn members_problem(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    org: i64,
    user: Option<i64>,
    err: AppError,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(v));
    // A manager with carers leaves only after their passports are handed over: the link leads
    // HR to the handover form with that manager chosen.
    let hand_over = user.filter(|_| matches!(&err, AppError::Conflict(c) if c == "hand_over_first"));
    let Some((status, problem)) = refusal(state, lang, &err) else { return Err(err.into()) };
    members_page(state, req, v, org, status, minijinja::context! { problem => problem, hand_over => hand_over }).await
}

#[derive(Deserialize)]
pub struct MemberForm {
    role: Option<String>,
    active: Option<String>,
}

#[handler]
pub async fn change_member(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path((org, user_id)): Path<(i64, i64)>,
    Form(f): Form<MemberForm>,
) -> poem::Result<Response> {
    let role = match f.role.as_deref() {
        None | Some("") => None,
        Some(r) => match Role::parse(r) {
            Some(role) => Some(role),
            None => {
                return members_problem(&state, req, &v, org, None, AppError::invalid("role", "role_not_allowed"))
                    .await;
            }
        },
    };
    let active = match f.active.as_deref() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    match people::change(&state, &v.actor, org, user_id, people::Change { role, active }).await {
        Ok(_) => Ok(members_done(
            org,
            match active {
                Some(false) => Done::Deactivated,
                Some(true) => Done::Reactivated,
                None => Done::RoleChanged,
            },
        )),
        Err(e) => members_problem(&state, req, &v, org, Some(user_id), e).await,
    }
}

#[handler]
pub async fn resend_invitation(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path((org, id)): Path<(i64, i64)>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    match people::resend_invitation(&state, &v.actor, Some(org), id, lang).await {
        Ok(_) => Ok(members_done(org, Done::InvitationResent)),
        Err(e) => members_problem(&state, req, &v, org, None, e).await,
    }
}

#[handler]
pub async fn withdraw_invitation(
    state: Data<&AppState>,
    v: Viewer,
    Path((org, id)): Path<(i64, i64)>,
) -> poem::Result<Response> {
    people::withdraw_invitation(&state, &v.actor, Some(org), id).await?;
    Ok(members_done(org, Done::InvitationWithdrawn))
}

#[derive(Deserialize, Serialize)]
pub struct InviteForm {
    email: String,
    name: String,
    role: String,
}

#[handler]
pub async fn invite_member(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
    Form(f): Form<InviteForm>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    let result = match Role::parse(&f.role) {
        Some(role) => {
            let inv = accounts::NewInvitation {
                email: f.email.clone(),
                name: f.name.clone(),
                role,
                organisation_id: Some(org),
                lang: lang.into(),
                assign_to: vec![],
            };
            accounts::invite(&state, &v.actor, inv).await.map(|_| ())
        }
        None => Err(AppError::invalid("role", "role_not_allowed")),
    };
    match result {
        Ok(()) => Ok(members_done(org, Done::MemberInvited)),
        Err(AppError::Invalid(errors)) => {
            let ctx = minijinja::context! { errors => Serde(field_errors(&state, lang, &errors)), form => Serde(f) };
            members_page(&state, req, &v, org, StatusCode::UNPROCESSABLE_ENTITY, ctx).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn operator_page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    status: StatusCode,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    let advisors = organisations::advisors(state, &v.actor, &PageRequest::whole("advisors")).await?.rows;
    // Organisations a page at a time, found by name: the assignments and the forms' choices are
    // those of the page, so the page stays the same size whatever the number of organisations.
    let q = super::pager::param(req, "q").unwrap_or_default();
    let page = organisations::visible(state, &v.actor, Some(&q), &super::pager::page_of(req, "organisations")).await?;
    let pager = super::pager::pager(req, &page);
    let orgs = page.rows;
    let ids: Vec<i64> = orgs.iter().map(|o| o.id).collect();
    let assignments = organisations::assignments(state, &ids).await?;
    let overview = crate::services::dashboard::operator(state, &v.actor).await?;
    let invited =
        people::pending_advisor_invitations(state, &v.actor, &PageRequest::first("invitations", MAX_LIMIT)).await?.rows;
    let ids: Vec<i64> = invited.iter().map(|i| i.id).collect();
    let planned = organisations::planned_assignments(state, &v.actor, &ids).await?;
    let planned_ids: Vec<i64> = planned.iter().map(|p| p.organisation_id).collect();
    let planned_names: std::collections::BTreeMap<String, String> =
        organisations::names(state, &planned_ids).await?.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    // Who looks after each organisation of the page, joined here once (the template's nested
    // loops over every assignment and advisor per row took most of the page's time).
    let mut looked_after: std::collections::BTreeMap<String, Vec<Keeper>> = std::collections::BTreeMap::new();
    for a in &assignments {
        if let Some(adv) = advisors.iter().find(|adv| adv.id == a.advisor_id) {
            looked_after.entry(a.organisation_id.to_string()).or_default().push(Keeper {
                value: adv.id.to_string(),
                name: adv.name.clone(),
                inactive: !adv.active,
                invited: false,
            });
        }
    }
    for pl in &planned {
        if let Some(i) = invited.iter().find(|i| i.id == pl.invitation_id) {
            looked_after.entry(pl.organisation_id.to_string()).or_default().push(Keeper {
                value: format!("invitation-{}", i.id),
                name: i.name.clone().unwrap_or_else(|| i.email.clone()),
                inactive: false,
                invited: true,
            });
        }
    }
    render(
        state,
        req,
        Some(v),
        status,
        "operator.html",
        minijinja::context! { organisations => Serde(orgs), advisors => Serde(advisors), looked_after => Serde(looked_after),
        overview => Serde(overview), invited => Serde(invited), planned => Serde(planned), planned_names => Serde(planned_names),
        pager => Serde(pager), q => Serde(q), ..extra },
    )
}

/// An advisor, or an invited one, looking after an organisation on the operator's page.
#[derive(Serialize)]
struct Keeper {
    /// The removal form's `advisor_id`: the id, or `invitation-<id>`.
    value: String,
    name: String,
    inactive: bool,
    invited: bool,
}

#[handler]
pub async fn operator(req: &Request, state: Data<&AppState>, v: Viewer) -> poem::Result<Response> {
    operator_page(&state, req, &v, StatusCode::OK, minijinja::context! {}).await
}

#[derive(Deserialize, Serialize)]
pub struct OrganisationForm {
    name: String,
    #[serde(default)]
    hr_name: String,
    #[serde(default)]
    hr_email: String,
}

/// Creates an organisation and, when given, invites its first HR lead.
#[handler]
pub async fn create_organisation(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Form(f): Form<OrganisationForm>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    let fail = |errors: Vec<crate::error::FieldError>| minijinja::context! { org_errors => Serde(field_errors(&state, lang, &errors)), org_form => Serde(&f) };
    if !f.hr_email.trim().is_empty() && crate::domain::email::EmailAddress::parse(&f.hr_email).is_none() {
        let ctx = fail(vec![crate::error::FieldError::new("hr_email", "email_invalid")]);
        return operator_page(&state, req, &v, StatusCode::UNPROCESSABLE_ENTITY, ctx).await;
    }
    let org = match organisations::create(&state, &v.actor, &f.name).await {
        Ok(o) => o,
        Err(AppError::Invalid(errors)) => {
            return operator_page(&state, req, &v, StatusCode::UNPROCESSABLE_ENTITY, fail(errors)).await;
        }
        Err(e) => return Err(e.into()),
    };
    if !f.hr_email.trim().is_empty() {
        let inv = accounts::NewInvitation {
            email: f.hr_email.clone(),
            name: if f.hr_name.trim().is_empty() { f.hr_email.clone() } else { f.hr_name.clone() },
            role: Role::HrLead,
            organisation_id: Some(org.id),
            lang: lang.into(),
            assign_to: vec![],
        };
        if let Err(AppError::Invalid(errors)) = accounts::invite(&state, &v.actor, inv).await {
            // The organisation exists; say why the invitation did not go out.
            let ctx = minijinja::context! { org_errors => Serde(field_errors(&state, lang, &errors)), org_form => Serde(&f), created => Serde(org.name) };
            return operator_page(&state, req, &v, StatusCode::UNPROCESSABLE_ENTITY, ctx).await;
        }
    }
    Ok(redirect_done("/operator", Done::OrganisationCreated))
}

#[derive(Serialize, Default)]
pub struct AdvisorForm {
    name: String,
    email: String,
    organisation_ids: Vec<i64>,
}

impl AdvisorForm {
    /// The form's fields; `organisation_id` may repeat (one checkbox per organisation).
    fn from_fields(fields: Vec<(String, String)>) -> Result<AdvisorForm, AppError> {
        let mut f = AdvisorForm::default();
        for (k, v) in fields {
            match k.as_str() {
                "name" => f.name = v,
                "email" => f.email = v,
                "organisation_id" => f
                    .organisation_ids
                    .push(v.parse().map_err(|_| AppError::invalid("organisation_ids", "organisation_unknown"))?),
                _ => {}
            }
        }
        Ok(f)
    }
}

#[handler]
pub async fn invite_advisor(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Form(fields): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    let result = match AdvisorForm::from_fields(fields) {
        Ok(f) => {
            let inv = accounts::NewInvitation {
                email: f.email.clone(),
                name: f.name.clone(),
                role: Role::Advisor,
                organisation_id: None,
                lang: lang.into(),
                assign_to: f.organisation_ids.clone(),
            };
            accounts::invite(&state, &v.actor, inv).await.map(|_| ()).map_err(|e| (e, f))
        }
        Err(e) => Err((e, AdvisorForm::default())),
    };
    match result {
        Ok(()) => Ok(redirect_done("/operator", Done::AdvisorInvited)),
        Err((AppError::Invalid(errors), f)) => {
            let ctx = minijinja::context! { advisor_errors => Serde(field_errors(&state, lang, &errors)), advisor_form => Serde(f) };
            operator_page(&state, req, &v, StatusCode::UNPROCESSABLE_ENTITY, ctx).await
        }
        Err((e, _)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    organisation_id: i64,
    /// An advisor's id, or `invitation-<id>` for an advisor who has not accepted yet.
    advisor_id: String,
    /// "true": the organisation moves, its current advisors stop.
    replace: Option<String>,
}

fn assignee(value: &str) -> Result<organisations::Assignee, AppError> {
    let unknown = || AppError::invalid("advisor_id", "advisor_unknown");
    match value.strip_prefix("invitation-") {
        Some(id) => Ok(organisations::Assignee::Invited(id.parse().map_err(|_| unknown())?)),
        None => Ok(organisations::Assignee::Advisor(value.parse().map_err(|_| unknown())?)),
    }
}

/// A refused change on the operator's page: the page again with the reason.
async fn operator_problem(state: &AppState, req: &Request, v: &Viewer, err: AppError) -> poem::Result<Response> {
    let lang = session::lang(req, Some(v));
    let Some((status, problem)) = refusal(state, lang, &err) else { return Err(err.into()) };
    operator_page(state, req, v, status, minijinja::context! { problem => problem }).await
}

#[handler]
pub async fn assign_advisor(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Form(f): Form<AssignForm>,
) -> poem::Result<Response> {
    let org = f.organisation_id;
    let moving = f.replace.as_deref() == Some("true");
    let result = async {
        let to = assignee(&f.advisor_id)?;
        if moving {
            // Moving: the chosen advisor (or invitee) only; the queue goes with the organisation.
            let keep: Vec<i64> = match to {
                organisations::Assignee::Advisor(id) => vec![id],
                organisations::Assignee::Invited(_) => vec![],
            };
            organisations::set_advisors(&state, &v.actor, org, &keep).await?;
        }
        organisations::assign(&state, &v.actor, org, to).await
    }
    .await;
    match result {
        Ok(()) => Ok(redirect_done("/operator", if moving { Done::AdvisorMoved } else { Done::AdvisorAssigned })),
        Err(e) => operator_problem(&state, req, &v, e).await,
    }
}

#[derive(Deserialize)]
pub struct UnassignForm {
    organisation_id: i64,
    advisor_id: String,
}

#[handler]
pub async fn unassign_advisor(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Form(f): Form<UnassignForm>,
) -> poem::Result<Response> {
    let result = match assignee(&f.advisor_id) {
        Ok(from) => organisations::unassign(&state, &v.actor, f.organisation_id, from).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(redirect_done("/operator", Done::AdvisorUnassigned)),
        Err(e) => operator_problem(&state, req, &v, e).await,
    }
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

#[handler]
pub async fn change_advisor(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<ActiveForm>,
) -> poem::Result<Response> {
    // Only the two values the page sends; anything else changes nothing and says why.
    let result = match f.active.as_str() {
        "true" => people::change_advisor(&state, &v.actor, id, true).await.map(|_| true),
        "false" => people::change_advisor(&state, &v.actor, id, false).await.map(|_| false),
        _ => Err(AppError::invalid("active", "nothing_to_change")),
    };
    match result {
        Ok(active) => Ok(redirect_done("/operator", if active { Done::Reactivated } else { Done::Deactivated })),
        Err(e) => operator_problem(&state, req, &v, e).await,
    }
}

#[handler]
pub async fn resend_advisor_invitation(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    match people::resend_invitation(&state, &v.actor, None, id, lang).await {
        Ok(_) => Ok(redirect_done("/operator", Done::InvitationResent)),
        Err(e) => operator_problem(&state, req, &v, e).await,
    }
}

#[handler]
pub async fn withdraw_advisor_invitation(
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> poem::Result<Response> {
    people::withdraw_invitation(&state, &v.actor, None, id).await?;
    Ok(redirect_done("/operator", Done::InvitationWithdrawn))
}

/// Erasure cannot be undone, so it has its own page that says what goes and what stays.
async fn erase_page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    person: &minijinja::Value,
    action: String,
    back: String,
) -> poem::Result<Response> {
    render(
        state,
        req,
        Some(v),
        StatusCode::OK,
        "erase.html",
        minijinja::context! { person => person, action => action, back => back },
    )
}

#[handler]
pub async fn erase_member_form(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path((org, user_id)): Path<(i64, i64)>,
) -> poem::Result<Response> {
    use crate::domain::membership::MemberStatus;
    let member = Some(people::member(&state, &v.actor, org, user_id).await?)
        .filter(|m| m.status != MemberStatus::Erased)
        .ok_or(AppError::NotFound)?;
    v.actor.may(crate::domain::policy::Permission::ManageMembers, org).map_err(AppError::from)?;
    let back = format!("/organisations/{org}/members");
    erase_page(&state, req, &v, &minijinja::Value::from(Serde(&member)), format!("{back}/{user_id}/erase"), back).await
}

#[handler]
pub async fn erase_member(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path((org, user_id)): Path<(i64, i64)>,
) -> poem::Result<Response> {
    match crate::services::erasure::erase_member(&state, &v.actor, org, user_id).await {
        Ok(()) => Ok(members_done(org, Done::MemberErased)),
        Err(e) => members_problem(&state, req, &v, org, Some(user_id), e).await,
    }
}

#[handler]
pub async fn erase_advisor_form(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> poem::Result<Response> {
    let advisor = organisations::advisor_account(&state, &v.actor, id).await?;
    let person = minijinja::context! { name => advisor.name, email => advisor.email, role => advisor.role };
    erase_page(&state, req, &v, &person, format!("/operator/advisors/{id}/erase"), "/operator".into()).await
}

#[handler]
pub async fn erase_advisor(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> poem::Result<Response> {
    match crate::services::erasure::erase_advisor(&state, &v.actor, id).await {
        Ok(()) => Ok(redirect_done("/operator", Done::MemberErased)),
        Err(e) => operator_problem(&state, req, &v, e).await,
    }
}

async fn account_page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    status: StatusCode,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    let tokens = accounts::list_api_tokens(state, &v.actor, &super::pager::page_of(req, "tokens")).await?;
    let pager = super::pager::pager(req, &tokens);
    let ctx = minijinja::context! { tokens => Serde(tokens.rows), pager => Serde(pager), ..extra };
    render(state, req, Some(v), status, "account.html", ctx)
}

#[handler]
pub async fn account(req: &Request, state: Data<&AppState>, v: Viewer) -> poem::Result<Response> {
    account_page(&state, req, &v, StatusCode::OK, minijinja::context! {}).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
}

#[handler]
pub async fn create_token(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Form(f): Form<TokenForm>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    match accounts::create_api_token(&state, &v.actor, &f.name).await {
        // The token is shown once, on this page; only its hash is kept.
        Ok((_, token)) => {
            account_page(&state, req, &v, StatusCode::OK, minijinja::context! { new_token => token }).await
        }
        Err(AppError::Invalid(errors)) => {
            let ctx = minijinja::context! { errors => field_errors(&state, lang, &errors), name => f.name };
            account_page(&state, req, &v, StatusCode::UNPROCESSABLE_ENTITY, ctx).await
        }
        Err(e) => Err(e.into()),
    }
}

#[handler]
pub async fn revoke_token(state: Data<&AppState>, v: Viewer, Path(id): Path<i64>) -> poem::Result<Response> {
    accounts::revoke_api_token(&state, &v.actor, id).await?;
    Ok(redirect_done("/account", Done::TokenRevoked))
}
