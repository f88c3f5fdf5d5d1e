use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Attachment, AttachmentType, Json};
use poem_openapi::types::MaybeUndefined;
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, OpenApi, Tags};
use tokio::io::AsyncReadExt;

use super::auth::ApiAuth;
use super::dto::*;
use super::page::{self, Cursor, Limit, Page};
use crate::domain::revision::IfMatch;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::services::{accounts, assessment, evidence, members, organisations};
use crate::state::AppState;
use crate::web::i18n::normalise;

type Result<T> = poem::Result<Json<T>>;

#[derive(Tags)]
enum Tag {
    /// Who you are and your API tokens.
    Account,
    /// Organisations, their members and advisors.
    Organisations,
    /// Pillar worksheets and their items.
    Items,
    /// Evidence attached to items.
    Evidence,
    /// The advisor's review queue.
    Review,
}

pub struct Api;

#[derive(Multipart)]
#[oai(deny_unknown_fields)]
pub struct FileEvidence {
    pub title: String,
    /// PDF, image or office document, at most 10 MB; the type is judged by the content.
    pub file: Upload,
    /// YYYY-MM-DD
    pub valid_from: Option<String>,
    /// YYYY-MM-DD
    pub valid_until: Option<String>,
    pub replaces: Option<i64>,
}

/// New evidence as `GET /items/{id}` shows it: one representation of a resource, whatever
/// answered with it.
async fn evidence_as_read(
    state: &AppState,
    actor: &crate::domain::policy::Actor,
    item: i64,
    id: i64,
) -> poem::Result<Evidence> {
    let d = assessment::item_detail(state, actor, item, "en").await?;
    let found = d.evidence.into_iter().chain(d.previous_evidence).find(|e| e.id == id);
    Ok(found.ok_or(AppError::NotFound)?.into())
}

/// An item as `GET /items/{id}` answers it, with its entity tag.
async fn item_as_read(
    state: &AppState,
    actor: &crate::domain::policy::Actor,
    id: i64,
    lang: &str,
) -> poem::Result<ItemResponse> {
    let d = assessment::item_detail(state, actor, id, lang).await?;
    let etag = d.etag.clone();
    Ok(ItemResponse::Ok(Json(d.into()), etag))
}

/// A PATCH field: absent leaves the value, `null` clears it, a value sets it.
fn change<T: Clone>(field: &MaybeUndefined<T>) -> Option<Option<T>> {
    match field {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v.clone())),
    }
}

#[derive(ApiResponse)]
pub enum ItemResponse {
    /// The item; `ETag` names its state, for `If-Match` on a change.
    #[oai(status = 200)]
    Ok(Json<ItemDetail>, #[oai(header = "ETag")] String),
}

fn lang(q: &Option<String>) -> &'static str {
    normalise(q.as_deref())
}

fn date(field: &str, s: Option<&str>) -> poem::Result<Option<chrono::NaiveDate>> {
    crate::web::assessment::parse_date(s.unwrap_or_default()).map_err(|code| AppError::invalid(field, code).into())
}

#[OpenApi(tag = "Tag::Items")]
impl Api {
    /// The user behind the token.
    #[oai(path = "/me", method = "get", tag = "Tag::Account")]
    async fn me(&self, state: Data<&AppState>, auth: ApiAuth) -> Result<UserInfo> {
        let u = crate::db::entities::user::Entity::find_by_id_active(&state.db, auth.0.user_id).await?;
        Ok(Json(u.into()))
    }

    /// Your API tokens (without their secrets), newest first.
    #[oai(path = "/tokens", method = "get", tag = "Tag::Account")]
    async fn tokens(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> Result<Page<Token>> {
        let page = page::request("tokens", limit.0, cursor.0)?;
        Ok(Json(Page::of(accounts::list_api_tokens(&state, &auth.0, &page).await?, Into::into)))
    }

    /// Creates a token; the answer holds its secret, which is shown only this once.
    #[oai(path = "/tokens", method = "post", tag = "Tag::Account")]
    async fn create_token(&self, state: Data<&AppState>, auth: ApiAuth, body: Json<NewToken>) -> Result<Token> {
        let (row, secret) = accounts::create_api_token(&state, &auth.0, &body.name).await?;
        let mut t: Token = row.into();
        t.token = Some(secret);
        Ok(Json(t))
    }

    /// Revokes one of your tokens; answers with the token as it now is (`revoked_at` set).
    #[oai(path = "/tokens/:id", method = "delete", tag = "Tag::Account")]
    async fn revoke_token(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> Result<Token> {
        Ok(Json(accounts::revoke_api_token(&state, &auth.0, id.0).await?.into()))
    }

    /// The organisations you can see, by name.
    #[oai(path = "/organisations", method = "get", tag = "Tag::Organisations")]
    async fn organisations(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> Result<Page<Organisation>> {
        let page = page::request("organisations", limit.0, cursor.0)?;
        Ok(Json(Page::of(organisations::visible(&state, &auth.0, None, &page).await?, Into::into)))
    }

    /// Creates an organisation with all checklist items open (operators).
    #[oai(path = "/organisations", method = "post", tag = "Tag::Organisations")]
    async fn create_organisation(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        body: Json<NewOrganisation>,
    ) -> Result<Organisation> {
        Ok(Json(organisations::create(&state, &auth.0, &body.name).await?.into()))
    }

    /// Progress of every pillar and the Going-Ahead checklist.
    #[oai(path = "/organisations/:id", method = "get", tag = "Tag::Organisations")]
    async fn overview(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        lang: Query<Option<String>>,
    ) -> Result<Overview> {
        Ok(Json(assessment::overview(&state, &auth.0, id.0, self::lang(&lang)).await?.into()))
    }

    /// The organisation's members by name, with their status and last login.
    #[oai(path = "/organisations/:id/members", method = "get", tag = "Tag::Organisations")]
    async fn members(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> Result<Page<Member>> {
        let page = page::request("members", limit.0, cursor.0)?;
        Ok(Json(Page::of(members::list(&state, &auth.0, id.0, &page).await?, Into::into)))
    }

    /// Changes a member's role, or deactivates (`active: false`) or reactivates them. A
    /// deactivated member's sessions and tokens stop at once; the last active HR lead cannot be
    /// demoted or deactivated (422 `last_hr_lead`); a manager who still has carers gets 409 until
    /// their passports are handed over.
    #[oai(path = "/organisations/:id/members/:user_id", method = "patch", tag = "Tag::Organisations")]
    async fn change_member(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        user_id: Path<i64>,
        body: Json<MemberChange>,
    ) -> Result<Member> {
        let role = match body.role.as_deref() {
            None => None,
            Some(r) => Some(Role::parse(r).ok_or_else(|| AppError::invalid("role", "role_not_allowed"))?),
        };
        let change = members::Change { role, active: body.active };
        members::change(&state, &auth.0, id.0, user_id.0, change).await?;
        Ok(Json(members::member(&state, &auth.0, id.0, user_id.0).await?.into()))
    }

    /// Invitations not yet accepted or withdrawn, newest first (HR leads, operators).
    #[oai(path = "/organisations/:id/invitations", method = "get", tag = "Tag::Organisations")]
    async fn invitations(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> Result<Page<PendingInvitation>> {
        let page = page::request("invitations", limit.0, cursor.0)?;
        Ok(Json(Page::of(members::pending_invitations(&state, &auth.0, id.0, &page).await?, Into::into)))
    }

    /// Sends an invitation again with a new link; the old link stops working.
    #[oai(path = "/organisations/:id/invitations/:invitation_id/resend", method = "post", tag = "Tag::Organisations")]
    async fn resend_invitation(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        invitation_id: Path<i64>,
        lang: Query<Option<String>>,
    ) -> Result<PendingInvitation> {
        let new_id =
            members::resend_invitation(&state, &auth.0, Some(id.0), invitation_id.0, self::lang(&lang)).await?;
        Ok(Json(members::pending_invitation(&state, &auth.0, Some(id.0), new_id).await?.into()))
    }

    /// Withdraws an invitation: its link stops working.
    #[oai(path = "/organisations/:id/invitations/:invitation_id", method = "delete", tag = "Tag::Organisations")]
    async fn withdraw_invitation(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        invitation_id: Path<i64>,
    ) -> poem::Result<()> {
        members::withdraw_invitation(&state, &auth.0, Some(id.0), invitation_id.0).await?;
        Ok(())
    }

    /// Invites a colleague by e-mail (HR leads, operators).
    #[oai(path = "/organisations/:id/invitations", method = "post", tag = "Tag::Organisations")]
    async fn invite(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<NewInvitation>,
        lang: Query<Option<String>>,
    ) -> Result<Invitation> {
        let role = Role::parse(&body.role).ok_or_else(|| AppError::invalid("role", "role_not_allowed"))?;
        let inv = accounts::NewInvitation {
            email: body.email.to_string(),
            name: body.name.to_string(),
            role,
            organisation_id: Some(id.0),
            lang: self::lang(&lang).into(),
            assign_to: vec![],
        };
        let row = accounts::invite(&state, &auth.0, inv).await?;
        Ok(Json(Invitation {
            id: row.id,
            email: row.email,
            role: row.role,
            organisation_id: row.organisation_id,
            expires_at: row.expires_at,
        }))
    }

    /// Assigns an advisor to the organisation (operators): `advisor_id` for an advisor with an
    /// account, or `invitation_id` for one invited who has not signed up yet.
    #[oai(path = "/organisations/:id/advisors", method = "post", tag = "Tag::Organisations")]
    async fn assign(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<Assignment>,
    ) -> poem::Result<()> {
        let to = match (body.advisor_id, body.invitation_id) {
            (Some(a), None) => organisations::Assignee::Advisor(a),
            (None, Some(i)) => organisations::Assignee::Invited(i),
            _ => return Err(AppError::invalid("advisor_id", "advisor_or_invitation").into()),
        };
        Ok(organisations::assign(&state, &auth.0, id.0, to).await?)
    }

    /// Moves the organisation to exactly these advisors (operators): the others stop, the new
    /// ones start, in one step; waiting items follow to the new advisors' queues.
    #[oai(path = "/organisations/:id/advisors", method = "put", tag = "Tag::Organisations")]
    async fn set_advisors(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<AdvisorSet>,
    ) -> Result<Vec<UserInfo>> {
        organisations::set_advisors(&state, &auth.0, id.0, &body.advisor_ids).await?;
        Ok(Json(organisations::advisors_of(&state.db, id.0).await?.into_iter().map(Into::into).collect()))
    }

    /// Ends an advisor's assignment to the organisation (operators).
    #[oai(path = "/organisations/:id/advisors/:advisor_id", method = "delete", tag = "Tag::Organisations")]
    async fn unassign(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        advisor_id: Path<i64>,
    ) -> poem::Result<()> {
        Ok(organisations::unassign(&state, &auth.0, id.0, organisations::Assignee::Advisor(advisor_id.0)).await?)
    }

    /// Ends the planned assignment of an invited advisor to the organisation (operators).
    #[oai(
        path = "/organisations/:id/advisor-invitations/:invitation_id",
        method = "delete",
        tag = "Tag::Organisations"
    )]
    async fn unassign_invited(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        invitation_id: Path<i64>,
    ) -> poem::Result<()> {
        Ok(organisations::unassign(&state, &auth.0, id.0, organisations::Assignee::Invited(invitation_id.0)).await?)
    }

    /// Erases a member's personal data on request (GDPR art. 17; HR leads, operators): name and
    /// e-mail go from every table, a carer's passport goes entirely, history keeps "former
    /// member". Refused like deactivation for the last HR lead (422) and for a manager who still
    /// has carers (409). Cannot be undone.
    #[oai(path = "/organisations/:id/members/:user_id/erasure", method = "post", tag = "Tag::Organisations")]
    async fn erase_member(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        user_id: Path<i64>,
    ) -> poem::Result<()> {
        Ok(crate::services::erasure::erase_member(&state, &auth.0, id.0, user_id.0).await?)
    }

    /// Deactivates (`active: false`) or reactivates an advisor (operators).
    #[oai(path = "/advisors/:id", method = "patch", tag = "Tag::Organisations")]
    async fn change_advisor(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<AdvisorChange>,
    ) -> Result<UserInfo> {
        Ok(Json(members::change_advisor(&state, &auth.0, id.0, body.active).await?.into()))
    }

    /// Erases an advisor's personal data on request (operators); see the member erasure.
    #[oai(path = "/advisors/:id/erasure", method = "post", tag = "Tag::Organisations")]
    async fn erase_advisor(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> poem::Result<()> {
        Ok(crate::services::erasure::erase_advisor(&state, &auth.0, id.0).await?)
    }

    /// Advisors invited who have not signed up yet, with the organisations planned for them
    /// (operators).
    #[oai(path = "/advisors/invitations", method = "get", tag = "Tag::Organisations")]
    async fn advisor_invitations(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> Result<Page<AdvisorInvitation>> {
        let page = page::request("advisor-invitations", limit.0, cursor.0)?;
        let pending = members::pending_advisor_invitations(&state, &auth.0, &page).await?;
        let ids: Vec<i64> = pending.rows.iter().map(|i| i.id).collect();
        let planned = organisations::planned_assignments(&state, &auth.0, &ids).await?;
        Ok(Json(Page::of(pending, |i| AdvisorInvitation {
            organisation_ids: planned.iter().filter(|p| p.invitation_id == i.id).map(|p| p.organisation_id).collect(),
            id: i.id,
            email: i.email,
            name: i.name,
            created_at: i.created_at,
            expires_at: i.expires_at,
            expired: i.expired,
        })))
    }

    /// Sends an advisor's invitation again with a new link (operators); the old link stops working.
    #[oai(path = "/advisors/invitations/:invitation_id/resend", method = "post", tag = "Tag::Organisations")]
    async fn resend_advisor_invitation(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        invitation_id: Path<i64>,
        lang: Query<Option<String>>,
    ) -> Result<Invitation> {
        let new_id = members::resend_invitation(&state, &auth.0, None, invitation_id.0, self::lang(&lang)).await?;
        let inv = members::pending_invitation(&state, &auth.0, None, new_id).await?;
        Ok(Json(Invitation {
            id: inv.id,
            email: inv.email,
            role: inv.role,
            organisation_id: None,
            expires_at: inv.expires_at,
        }))
    }

    /// Withdraws an advisor's invitation (operators): its link stops working.
    #[oai(path = "/advisors/invitations/:invitation_id", method = "delete", tag = "Tag::Organisations")]
    async fn withdraw_advisor_invitation(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        invitation_id: Path<i64>,
    ) -> poem::Result<()> {
        Ok(members::withdraw_invitation(&state, &auth.0, None, invitation_id.0).await?)
    }

    /// All advisors, by name (operators).
    #[oai(path = "/advisors", method = "get", tag = "Tag::Organisations")]
    async fn advisors(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> Result<Page<UserInfo>> {
        let page = page::request("advisors", limit.0, cursor.0)?;
        Ok(Json(Page::of(organisations::advisors(&state, &auth.0, &page).await?, Into::into)))
    }

    /// Invites an advisor by e-mail (operators).
    #[oai(path = "/advisors", method = "post", tag = "Tag::Organisations")]
    async fn invite_advisor(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        body: Json<NewAdvisor>,
        lang: Query<Option<String>>,
    ) -> Result<Invitation> {
        let inv = accounts::NewInvitation {
            email: body.email.to_string(),
            name: body.name.to_string(),
            role: Role::Advisor,
            organisation_id: None,
            lang: self::lang(&lang).into(),
            assign_to: body.organisation_ids.clone().unwrap_or_default(),
        };
        let row = accounts::invite(&state, &auth.0, inv).await?;
        Ok(Json(Invitation {
            id: row.id,
            email: row.email,
            role: row.role,
            organisation_id: None,
            expires_at: row.expires_at,
        }))
    }

    /// One checklist (a pillar worksheet or Going-Ahead) with its items.
    #[oai(path = "/organisations/:id/checklists/:key", method = "get")]
    async fn worksheet(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        key: Path<String>,
        lang: Query<Option<String>>,
    ) -> Result<Worksheet> {
        Ok(Json(assessment::worksheet(&state, &auth.0, id.0, &key.0, self::lang(&lang)).await?.into()))
    }

    /// An item with its evidence, comments, history and the steps open to you. The `ETag`
    /// header names the item's state (status, owner, due date): send it back as `If-Match` on a
    /// change, and the change is refused with 412 if someone else changed the item meanwhile.
    #[oai(path = "/items/:id", method = "get")]
    async fn item(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        lang: Query<Option<String>>,
    ) -> poem::Result<ItemResponse> {
        item_as_read(&state, &auth.0, id.0, self::lang(&lang)).await
    }

    /// Sets the item's owner or due date: a field left out stays as it is, `null` clears it.
    /// Answers with the item as `GET /items/{id}` shows it.
    #[oai(path = "/items/:id", method = "patch")]
    async fn patch_item(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<ItemPatch>,
        /// The item's `ETag` as you read it: the change is made only if it still is.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        lang: Query<Option<String>>,
    ) -> poem::Result<ItemResponse> {
        let update = assessment::ItemUpdate { owner_id: change(&body.owner_id), due_date: change(&body.due_date) };
        let expect = if_match.0.as_deref().map(IfMatch::parse);
        assessment::update_item(&state, &auth.0, id.0, update, expect.as_ref()).await?;
        item_as_read(&state, &auth.0, id.0, self::lang(&lang)).await
    }

    /// Takes a workflow step: start, submit, withdraw, propose_not_applicable (HR lead);
    /// accept, request_changes (advisor); reopen (HR lead). Illegal steps answer 409. Answers
    /// with the item as `GET /items/{id}` shows it.
    #[oai(path = "/items/:id/transitions", method = "post")]
    async fn transition(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<TransitionRequest>,
        /// The item's `ETag` as you read it: the step is taken only if it still is.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        lang: Query<Option<String>>,
    ) -> poem::Result<ItemResponse> {
        let expect = if_match.0.as_deref().map(IfMatch::parse);
        let reason = body.reason.as_ref().map(|r| r.as_str());
        assessment::transition(&state, &auth.0, id.0, body.action.into(), reason, expect.as_ref()).await?;
        item_as_read(&state, &auth.0, id.0, self::lang(&lang)).await
    }

    /// Adds a comment.
    #[oai(path = "/items/:id/comments", method = "post")]
    async fn comment(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<NewComment>,
    ) -> Result<Comment> {
        let c = assessment::add_comment(&state, &auth.0, id.0, &body.body).await?;
        let d = assessment::item_detail(&state, &auth.0, id.0, "en").await?;
        Ok(Json(d.comments.into_iter().find(|x| x.id == c.id).ok_or(AppError::NotFound)?.into()))
    }

    /// Adds a note or a link as evidence (or replaces earlier evidence).
    #[oai(path = "/items/:id/evidence", method = "post", tag = "Tag::Evidence")]
    async fn add_text_evidence(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<NewTextEvidence>,
    ) -> Result<Evidence> {
        let b = body.0;
        let content = match b.kind {
            TextEvidenceKind::Note => evidence::Body::Note(b.note.map(String::from).unwrap_or_default()),
            TextEvidenceKind::Link => evidence::Body::Link(b.url.map(String::from).unwrap_or_default()),
        };
        let new = evidence::NewEvidence {
            title: b.title.into(),
            body: content,
            valid_from: b.valid_from,
            valid_until: b.valid_until,
            replaces: b.replaces,
        };
        let e = evidence::add(&state, &auth.0, id.0, new).await?;
        Ok(Json(evidence_as_read(&state, &auth.0, id.0, e.id).await?))
    }

    /// Uploads a file as evidence (multipart/form-data).
    #[oai(path = "/items/:id/evidence/file", method = "post", tag = "Tag::Evidence")]
    async fn add_file_evidence(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        form: FileEvidence,
    ) -> Result<Evidence> {
        let limit = state.config.max_upload_bytes;
        let filename = form.file.file_name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        form.file
            .into_async_read()
            .take(limit as u64 + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        if bytes.len() > limit {
            return Err(AppError::TooLarge(evidence::too_large_message(limit)).into());
        }
        let new = evidence::NewEvidence {
            title: form.title,
            body: evidence::Body::File { filename, bytes },
            valid_from: date("valid_from", form.valid_from.as_deref())?,
            valid_until: date("valid_until", form.valid_until.as_deref())?,
            replaces: form.replaces,
        };
        let e = evidence::add(&state, &auth.0, id.0, new).await?;
        Ok(Json(evidence_as_read(&state, &auth.0, id.0, e.id).await?))
    }

    /// Downloads an evidence file, as an attachment.
    #[oai(path = "/evidence/:id/download", method = "get", tag = "Tag::Evidence")]
    async fn download(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
    ) -> poem::Result<Attachment<Vec<u8>>> {
        let d = evidence::download(&state, &auth.0, id.0).await?;
        Ok(Attachment::new(d.bytes).attachment_type(AttachmentType::Attachment).filename(d.filename))
    }

    /// Items waiting for your review, oldest first (advisors).
    #[oai(path = "/review-queue", method = "get", tag = "Tag::Review")]
    async fn review_queue(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        lang: Query<Option<String>>,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> Result<Page<QueueEntry>> {
        let page = page::request("review-queue", limit.0, cursor.0)?;
        Ok(Json(Page::of(assessment::review_queue(&state, &auth.0, self::lang(&lang), &page).await?, Into::into)))
    }
}
