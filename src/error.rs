//! One error type for every use case, mapped to an HTTP status in one place (`status`).
//! Pages render it as an error page, the API as JSON; internal details only go to the log.
use poem::http::StatusCode;

/// A problem with one input field: `code` is a message key (see `templates/i18n/`), so pages show
/// it translated next to the field and the API in English.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
}

impl FieldError {
    pub fn new(field: &str, code: &'static str) -> Self {
        FieldError { field: field.to_string(), code }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("please log in")]
    Unauthenticated,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    /// A write that said which state it expected (`If-Match`) found another.
    #[error("this was changed since you read it; read it again, then make your change")]
    PreconditionFailed,
    #[error("the input is not valid")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedType(String),
    #[error("the organisation cannot apply yet: {} point(s) are missing", .0.len())]
    NotEligible(Vec<crate::domain::recognition::Gap>),
    #[error("the request is larger than {limit}")]
    RequestTooLarge { limit: String },
    #[error("too many attempts; try again in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },
    #[error("the form has expired or was not sent from this site; please try again")]
    Csrf,
    #[error("database error")]
    Db(sea_orm::DbErr),
    #[error("internal error")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// What a unique key refusing a write means when nobody said more: two people did the same at
/// the same time. A 409 the person can act on (try again), not a 500.
pub const SIMULTANEOUS: &str = "someone else did this at the same time; reload and try again";

/// Every database error becomes an `AppError` here, and only here: a unique violation is a
/// conflict (409), everything else an internal error. Use `on_unique` where a key has a more
/// precise meaning, such as a field error (422).
impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        if is_unique_violation(&e) {
            tracing::info!(error = %e, "unique key refused a write");
            AppError::Conflict(SIMULTANEOUS.into())
        } else {
            AppError::Db(e)
        }
    }
}

pub fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// Gives a unique violation its meaning at the place that knows it (realworld's `on_constraint`).
pub trait OnUnique<T> {
    fn on_unique(self, meaning: impl FnOnce() -> AppError) -> AppResult<T>;
}

impl<T> OnUnique<T> for Result<T, sea_orm::DbErr> {
    fn on_unique(self, meaning: impl FnOnce() -> AppError) -> AppResult<T> {
        self.map_err(|e| if is_unique_violation(&e) { meaning() } else { e.into() })
    }
}

impl AppError {
    pub fn invalid(field: &str, code: &'static str) -> Self {
        AppError::Invalid(vec![FieldError::new(field, code)])
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) | AppError::NotEligible(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooLarge(_) | AppError::RequestTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Db(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What a person may read: never database or internal details.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Db(e) => {
                tracing::error!(error = %e, "database error");
                "something went wrong on our side; nothing was changed".into()
            }
            AppError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                "something went wrong on our side; nothing was changed".into()
            }
            other => other.to_string(),
        }
    }
}

impl poem::error::ResponseError for AppError {
    fn status(&self) -> StatusCode {
        AppError::status(self)
    }
}
