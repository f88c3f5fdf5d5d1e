use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::domain::policy::Actor;
use crate::error::AppError;
use crate::services::accounts;
use crate::state::AppState;

/// An API token, created on the account page or with POST /tokens.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_token")]
pub struct ApiAuth(pub Actor);

async fn check_token(req: &Request, bearer: Bearer) -> poem::Result<Actor> {
    let state = req.data::<AppState>().ok_or_else(|| AppError::internal("no state"))?;
    let user = accounts::bearer_user(state, &bearer.token).await?.ok_or(AppError::Unauthenticated)?;
    Ok(accounts::actor_for(&state.db, &state.assignments, &user).await?)
}
