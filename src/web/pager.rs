//! Lists on pages, 50 rows at a time, with a link to the next page and back to the first. The
//! address says which page (`?cursor=`, beside the page's own sort and filters), so a page of a
//! list can be bookmarked and the back button works; no script involved.
use poem::Request;
use serde::Serialize;

use crate::domain::page::{Page, PageRequest};

/// Rows on one page of a list.
pub const PAGE_ROWS: u64 = 50;

/// The page of `list` the address asks for. A cursor that is not ours, or of another sort,
/// starts from the first page: a stale bookmark should not be an error page.
pub fn page_of(req: &Request, list: &str) -> PageRequest {
    let cursor = param(req, "cursor");
    PageRequest::parse(list, Some(PAGE_ROWS), cursor.as_deref()).unwrap_or_else(|_| PageRequest::first(list, PAGE_ROWS))
}

/// What the pager under a list shows.
#[derive(Debug, Serialize)]
pub struct Pager {
    pub shown: usize,
    pub total: u64,
    pub next: Option<String>,
    pub first: Option<String>,
}

/// The pager for `page` of the list on this address: the other query parameters stay.
pub fn pager<T>(req: &Request, page: &Page<T>) -> Pager {
    pager_of(req, page.rows.len(), page.next.as_deref(), page.total)
}

/// The same, from the parts of a page a view keeps.
pub fn pager_of(req: &Request, shown: usize, next: Option<&str>, total: u64) -> Pager {
    let path = req.uri().path();
    let kept: Vec<(String, String)> = pairs(req).into_iter().filter(|(k, _)| k != "cursor").collect();
    let address = |cursor: Option<&str>| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        if let Some(c) = cursor {
            q.append_pair("cursor", c);
        }
        let q = q.finish();
        if q.is_empty() { path.to_string() } else { format!("{path}?{q}") }
    };
    Pager { shown, total, next: next.map(|c| address(Some(c))), first: param(req, "cursor").map(|_| address(None)) }
}

fn pairs(req: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes()).into_owned().collect()
}

pub fn param(req: &Request, name: &str) -> Option<String> {
    pairs(req).into_iter().find(|(k, _)| k == name).map(|(_, v)| v).filter(|v| !v.is_empty())
}
