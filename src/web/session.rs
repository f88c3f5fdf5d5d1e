//! Who is asking: the session cookie (a random token whose hash is in the database), the
//! language, and CSRF tokens for forms (an HMAC of the session, or of a pre-login cookie),
//! which `http::csrf` checks on every state-changing request.
use poem::http::header;
use poem::{FromRequest, Request, RequestBody};

use crate::db::entities::user;
use crate::domain::policy::Actor;
use crate::error::{AppError, AppResult};
use crate::http::csrf;
use crate::services::{accounts, crypto};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "cf_session";
pub const ANON_COOKIE: &str = "cf_anon";
pub const LANG_COOKIE: &str = "cf_lang";

pub struct Viewer {
    pub user: user::Model,
    pub actor: Actor,
    pub session_token: String,
    /// Unread messages in the inbox, for the count in the page header.
    pub unread: u64,
    /// What was typed in a failed form before a language switch, for that form's page.
    pub kept_form: Option<accounts::KeptForm>,
}

pub fn cookie(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure when configured (behind https).
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

pub async fn viewer(req: &Request, state: &AppState) -> AppResult<Option<Viewer>> {
    let Some(token) = cookie(req, SESSION_COOKIE).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let Some((session, user)) = accounts::session_and_user(state, &token).await? else {
        return Ok(None);
    };
    let actor = accounts::actor_for(&state.db, &state.assignments, &user).await?;
    let unread = crate::services::notifications::unread_count(&state.db, user.id).await?;
    let kept_form = session.kept_form.as_deref().and_then(|k| serde_json::from_str(k).ok());
    Ok(Some(Viewer { user, actor, session_token: token, unread, kept_form }))
}

pub async fn require(req: &Request, state: &AppState) -> AppResult<Viewer> {
    viewer(req, state).await?.ok_or(AppError::Unauthenticated)
}

/// The language of the page: the user's choice, else the language cookie, else Dutch.
pub fn lang(req: &Request, viewer: Option<&Viewer>) -> &'static str {
    match viewer {
        Some(v) => super::i18n::normalise(Some(&v.user.locale)),
        None => super::i18n::normalise(cookie(req, LANG_COOKIE).as_deref()),
    }
}

fn csrf_subject(req: &Request, viewer: Option<&Viewer>) -> Option<String> {
    match viewer {
        Some(v) => Some(csrf::session_subject(&v.session_token)),
        None => cookie(req, ANON_COOKIE).filter(|c| c.len() >= 20).map(|c| csrf::anon_subject(&c)),
    }
}

/// The token for forms on this page (checked by `http::csrf` before any handler runs). Before
/// login a fresh pre-login cookie value may be needed: then it is returned too, for the response
/// to set.
pub fn csrf_token(state: &AppState, req: &Request, viewer: Option<&Viewer>) -> (String, Option<String>) {
    match csrf_subject(req, viewer) {
        Some(subject) => (crypto::sign(&state.secret, &subject), None),
        None => {
            let anon = crypto::random_token();
            (crypto::sign(&state.secret, &csrf::anon_subject(&anon)), Some(anon))
        }
    }
}

/// The logged-in user as a handler parameter: a page that takes a `Viewer` cannot be reached
/// without logging in (the error pages lead to the login page and back).
impl<'a> FromRequest<'a> for Viewer {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = req.data::<AppState>().ok_or_else(|| AppError::internal("no state"))?;
        Ok(require(req, state).await?)
    }
}

/// The user when logged in, for the few pages that anyone may see.
pub struct MaybeViewer(pub Option<Viewer>);

impl<'a> FromRequest<'a> for MaybeViewer {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = req.data::<AppState>().ok_or_else(|| AppError::internal("no state"))?;
        Ok(MaybeViewer(viewer(req, state).await?))
    }
}
