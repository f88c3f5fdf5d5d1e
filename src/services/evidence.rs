//! Evidence: notes, links and files attached to an item, each with who, when, optional validity
//! dates and a SHA-256. Files are stored in the database, so every instance can serve them.
//! Replacing evidence adds a new version and keeps the old one.
use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::assessment::{Step, apply_transition, load_item, status_of};
use super::audit::{self, Entry};
use super::crypto::sha256_hex;
use crate::db::entities::{evidence, evidence_file, item};
use crate::db::write_txn;
use crate::domain::policy::{Actor, Permission};
use crate::domain::workflow::ItemStatus;
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

/// File types we accept, recognised by their content.
const ALLOWED_TYPES: [&str; 14] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/rtf",
];

pub enum Body {
    Note(String),
    Link(String),
    File { filename: String, bytes: Vec<u8> },
}

pub struct NewEvidence {
    pub title: String,
    pub body: Body,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// The evidence this replaces (kept as an earlier version).
    pub replaces: Option<i64>,
}

/// The content type of an upload, judged by its bytes; the file name plays no part.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let kind = infer::get(bytes)?;
    let mime = kind.mime_type();
    // Old Office files are all OLE compound documents; infer names them by what it finds inside.
    let mime = match mime {
        "application/vnd.ms-powerpoint" | "application/x-ole-storage" => "application/msword",
        m => m,
    };
    ALLOWED_TYPES.iter().copied().find(|t| *t == mime)
}

fn clean_filename(name: &str) -> String {
    crate::domain::text::file_name(name, "evidence")
}

fn validate(state: &AppState, new: &NewEvidence) -> AppResult<()> {
    let mut errors = vec![];
    if crate::domain::text::single_line(&new.title, 200).is_none() {
        errors.push(FieldError::new("title", "title_required"));
    }
    match &new.body {
        Body::Note(text) if text.trim().is_empty() || text.chars().count() > 20_000 => {
            errors.push(FieldError::new("note", "note_required"))
        }
        Body::Link(u) => match url::Url::parse(u.trim()) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {}
            _ => errors.push(FieldError::new("url", "url_invalid")),
        },
        Body::File { bytes, .. } if bytes.is_empty() => errors.push(FieldError::new("file", "file_required")),
        _ => {}
    }
    if let (Some(from), Some(until)) = (new.valid_from, new.valid_until)
        && until < from
    {
        errors.push(FieldError::new("valid_until", "valid_until_before_from"));
    }
    if new.valid_until.is_some_and(|u| u < state.now().date_naive()) {
        errors.push(FieldError::new("valid_until", "valid_until_past"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if let Body::File { bytes, .. } = &new.body {
        if bytes.len() > state.config.max_upload_bytes {
            return Err(AppError::TooLarge(too_large_message(state.config.max_upload_bytes)));
        }
        if sniff(bytes).is_none() {
            return Err(AppError::UnsupportedType(
                "this file is not a PDF, image or office document (judged by its content, not its name)".into(),
            ));
        }
    }
    Ok(())
}

pub fn too_large_message(limit: usize) -> String {
    format!("the file is larger than {} MB", limit / (1024 * 1024))
}

/// Evidence may change while the organisation works on the item, not while it is under review
/// or accepted (then it is withdrawn or reopened first, so the advisor sees what changed).
pub fn may_change_evidence(status: ItemStatus) -> bool {
    matches!(status, ItemStatus::Open | ItemStatus::InProgress | ItemStatus::ChangesRequested | ItemStatus::Due)
}

pub async fn add(state: &AppState, actor: &Actor, item_id: i64, new: NewEvidence) -> AppResult<evidence::Model> {
    let row = load_item(state, actor, item_id, Permission::WorkItems).await?;
    validate(state, &new)?;
    let status = status_of(&row);
    if !may_change_evidence(status) {
        return Err(AppError::Conflict(format!(
            "evidence cannot change while the item is {}; withdraw or reopen it first",
            status.as_str()
        )));
    }
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let replaced = match new.replaces {
        Some(old_id) => {
            let old = evidence::Entity::find_by_id(old_id)
                .one(&txn)
                .await?
                .filter(|e| e.item_id == row.id)
                .ok_or_else(|| AppError::invalid("replaces", "evidence_unknown"))?;
            if old.superseded_at.is_some() {
                return Err(AppError::Conflict("this evidence was already replaced".into()));
            }
            // What the service made from a pulse round is its record; other evidence goes beside it.
            if old.kind == "pulse" {
                return Err(AppError::Conflict("evidence made by the service cannot be replaced".into()));
            }
            Some(old)
        }
        None => None,
    };
    let (kind, note, url, file_id, sha) = match new.body {
        Body::Note(text) => {
            let sha = sha256_hex(text.as_bytes());
            ("note", Some(text), None, None, sha)
        }
        Body::Link(u) => {
            let u = u.trim().to_string();
            let sha = sha256_hex(u.as_bytes());
            ("link", None, Some(u), None, sha)
        }
        Body::File { filename, bytes } => {
            let (bytes, sha) = super::crypto::sha256_hex_off_runtime(bytes).await.map_err(AppError::internal)?;
            let content_type = sniff(&bytes).unwrap_or("application/octet-stream");
            let f = evidence_file::ActiveModel {
                size: Set(bytes.len() as i64),
                content: Set(bytes),
                content_type: Set(content_type.into()),
                filename: Set(clean_filename(&filename)),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            ("file", None, None, Some(f.id), sha)
        }
    };
    let created = evidence::ActiveModel {
        item_id: Set(row.id),
        kind: Set(kind.into()),
        title: Set(new.title.trim().into()),
        note: Set(note),
        url: Set(url),
        file_id: Set(file_id),
        sha256: Set(sha),
        valid_from: Set(new.valid_from),
        valid_until: Set(new.valid_until),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        replaces_id: Set(replaced.as_ref().map(|o| o.id)),
        superseded_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if let Some(old) = replaced {
        let mut am: evidence::ActiveModel = old.into();
        am.superseded_at = Set(Some(now));
        am.update(&txn).await?;
    }
    // Attaching the first evidence to an open item starts it.
    if status == ItemStatus::Open {
        let step =
            Step { from: ItemStatus::Open, to: ItemStatus::InProgress, actor_id: Some(actor.user_id), reason: None };
        apply_transition(&txn, &state.checklists, &row, step, now).await?;
    }
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(row.organisation_id),
            action: if created.replaces_id.is_some() { "evidence.replaced" } else { "evidence.added" },
            subject: format!("evidence:{}", created.id),
            detail: Some(format!("item:{} {kind} sha256={}", row.id, created.sha256)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

pub struct Download {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A file, for those who may see the item's evidence; anyone else gets "not found".
pub async fn download(state: &AppState, actor: &Actor, evidence_id: i64) -> AppResult<Download> {
    let ev = evidence::Entity::find_by_id(evidence_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let row = item::Entity::find_by_id(ev.item_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    actor.may(Permission::ViewEvidence, row.organisation_id)?;
    let file_id = ev.file_id.ok_or(AppError::NotFound)?;
    let f = evidence_file::Entity::find_by_id(file_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    Ok(Download { filename: f.filename, content_type: f.content_type, bytes: f.content })
}

/// Content type, file name and size of files, without loading their content.
pub async fn file_meta(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<HashMap<i64, (String, String, i64)>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(evidence_file::Entity::find()
        .select_only()
        .columns([
            evidence_file::Column::Id,
            evidence_file::Column::ContentType,
            evidence_file::Column::Filename,
            evidence_file::Column::Size,
        ])
        .filter(evidence_file::Column::Id.is_in(ids))
        .into_tuple::<(i64, String, String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, t, n, s)| (id, (t, n, s)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_goes_by_content_not_name() {
        assert_eq!(sniff(b"%PDF-1.4\n%..."), Some("application/pdf"));
        assert_eq!(sniff(b"MZ\x90\x00\x03\x00\x00\x00"), None);
        assert_eq!(sniff(b"just some text"), None);
    }

    #[test]
    fn filenames_lose_paths_and_quotes() {
        assert_eq!(clean_filename("../../etc/pa\"ss;wd.pdf"), "passwd.pdf");
        assert_eq!(clean_filename(""), "evidence");
    }
}
