//! Lists come in pages: a stable order, a limit, and an opaque cursor naming the last row shown,
//! from which the next page starts. Keyset, not offset: rows added or removed meanwhile neither
//! repeat nor go missing on the following pages. The database does the same (`db::page`); lists
//! computed in Rust are sliced here with the same cursor.
use std::cmp::Ordering;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Rows per page when the client does not say.
pub const DEFAULT_LIMIT: u64 = 50;
/// The most rows one page holds.
pub const MAX_LIMIT: u64 = 200;
/// What `PageRequest::whole` reads at most.
const WHOLE_LIMIT: u64 = 100_000;
/// A cursor longer than this was not made by us.
pub const MAX_CURSOR_CHARS: usize = 2_000;

/// One part of a row's sort key; the last part is always the row's id, so keys are unique.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Part {
    Null,
    Int(i64),
    Text(String),
    Time(DateTime<Utc>),
    Date(NaiveDate),
}

impl From<i64> for Part {
    fn from(v: i64) -> Self {
        Part::Int(v)
    }
}

impl From<&str> for Part {
    fn from(v: &str) -> Self {
        Part::Text(v.to_string())
    }
}

impl From<DateTime<Utc>> for Part {
    fn from(v: DateTime<Utc>) -> Self {
        Part::Time(v)
    }
}

impl From<NaiveDate> for Part {
    fn from(v: NaiveDate) -> Self {
        Part::Date(v)
    }
}

impl<T: Into<Part>> From<Option<T>> for Part {
    fn from(v: Option<T>) -> Self {
        v.map_or(Part::Null, Into::into)
    }
}

pub type Key = Vec<Part>;

/// Which way a list runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    pub fn reversed(self) -> Order {
        match self {
            Order::Asc => Order::Desc,
            Order::Desc => Order::Asc,
        }
    }

    pub fn cmp(self, a: &Key, b: &Key) -> Ordering {
        match self {
            Order::Asc => a.cmp(b),
            Order::Desc => b.cmp(a),
        }
    }
}

/// What the cursor says: which list (and sort) it belongs to, and the key of the last row shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    #[serde(rename = "l")]
    list: String,
    #[serde(rename = "k")]
    key: Key,
}

/// Why a page cannot be read (message keys, as field errors).
pub const CURSOR_INVALID: &str = "cursor_invalid";
pub const LIMIT_OUT_OF_RANGE: &str = "limit_out_of_range";

/// A request for one page of the list `list` (a name that also says the sort, so a cursor of one
/// list or sort is refused by another).
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub list: String,
    pub limit: u64,
    pub after: Option<Key>,
}

impl PageRequest {
    /// The first page.
    pub fn first(list: &str, limit: u64) -> Self {
        PageRequest { list: list.into(), limit: limit.clamp(1, MAX_LIMIT), after: None }
    }

    /// The whole list, up to a bound no organisation reaches, for the pages that do not page yet.
    pub fn whole(list: &str) -> Self {
        PageRequest { list: list.into(), limit: WHOLE_LIMIT, after: None }
    }

    /// Reads the client's `limit` and `cursor`.
    pub fn parse(list: &str, limit: Option<u64>, cursor: Option<&str>) -> Result<Self, (&'static str, &'static str)> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(("limit", LIMIT_OUT_OF_RANGE));
        }
        let after = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(decode(list, c).ok_or(("cursor", CURSOR_INVALID))?),
        };
        Ok(PageRequest { list: list.into(), limit, after })
    }

    /// The cursor that starts the page after one ending with the row of this key.
    pub fn cursor_after(&self, key: Key) -> String {
        let json = serde_json::to_vec(&Cursor { list: self.list.clone(), key }).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }
}

fn decode(list: &str, cursor: &str) -> Option<Key> {
    if cursor.len() > MAX_CURSOR_CHARS {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let c: Cursor = serde_json::from_slice(&bytes).ok()?;
    (c.list == list && !c.key.is_empty()).then_some(c.key)
}

/// One page of a list: its rows, the cursor of the next page (none on the last), and how many
/// rows the whole list has.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub next: Option<String>,
    pub total: u64,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { rows: self.rows.into_iter().map(f).collect(), next: self.next, total: self.total }
    }

    /// Cuts a fetched `limit + 1` rows to the page, with the cursor of the next when there is more.
    pub fn from_fetched(req: &PageRequest, mut rows: Vec<T>, total: u64, key: impl Fn(&T) -> Key) -> Page<T> {
        let more = rows.len() as u64 > req.limit;
        rows.truncate(req.limit as usize);
        let next = if more { rows.last().map(|r| req.cursor_after(key(r))) } else { None };
        Page { rows, next, total }
    }
}

/// One page of a list already in memory: sorted by `key` in `order`, then cut after the cursor.
pub fn slice<T>(rows: Vec<T>, req: &PageRequest, order: Order, key: impl Fn(&T) -> Key) -> Page<T> {
    let total = rows.len() as u64;
    let mut keyed: Vec<(Key, T)> = rows.into_iter().map(|r| (key(&r), r)).collect();
    keyed.sort_by(|a, b| order.cmp(&a.0, &b.0));
    let start = match &req.after {
        None => 0,
        Some(after) => keyed.partition_point(|(k, _)| order.cmp(k, after) != Ordering::Greater),
    };
    let rest: Vec<(Key, T)> = keyed.into_iter().skip(start).take(req.limit as usize + 1).collect();
    let page = Page::from_fetched(req, rest, total, |(k, _)| k.clone());
    page.map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<(i64, &'static str)> {
        vec![(4, "Bram"), (1, "Anna"), (3, "Bram"), (2, "Cem"), (5, "Anna")]
    }

    fn key(r: &(i64, &str)) -> Key {
        vec![r.1.into(), r.0.into()]
    }

    fn walk(order: Order, limit: u64) -> Vec<i64> {
        let mut seen = vec![];
        let mut req = PageRequest::first("people", limit);
        loop {
            let page = slice(names(), &req, order, key);
            assert_eq!(page.total, 5);
            assert!(page.rows.len() as u64 <= limit);
            seen.extend(page.rows.iter().map(|r| r.0));
            match page.next {
                Some(c) => req = PageRequest::parse("people", Some(limit), Some(&c)).unwrap(),
                None => return seen,
            }
        }
    }

    #[test]
    fn pages_follow_the_sort_key_and_every_row_comes_once() {
        for limit in 1..=6 {
            assert_eq!(walk(Order::Asc, limit), vec![1, 5, 3, 4, 2], "limit {limit}");
            assert_eq!(walk(Order::Desc, limit), vec![2, 4, 3, 5, 1], "limit {limit}");
        }
    }

    #[test]
    fn a_row_removed_before_the_next_page_moves_nothing_else() {
        let req = PageRequest::first("people", 2);
        let first = slice(names(), &req, Order::Asc, key);
        assert_eq!(first.rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 5]);
        let fewer: Vec<_> = names().into_iter().filter(|r| r.0 != 5).collect();
        let req = PageRequest::parse("people", Some(2), first.next.as_deref()).unwrap();
        let second = slice(fewer, &req, Order::Asc, key);
        assert_eq!(second.rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn a_cursor_of_another_list_or_made_up_is_refused() {
        let c = PageRequest::first("people", 1).cursor_after(vec![Part::Int(1)]);
        assert!(PageRequest::parse("people", None, Some(&c)).is_ok());
        assert_eq!(PageRequest::parse("tokens", None, Some(&c)), Err(("cursor", CURSOR_INVALID)));
        for bad in ["x", "e30", "!!!", &"A".repeat(3_000)] {
            assert_eq!(PageRequest::parse("people", None, Some(bad)), Err(("cursor", CURSOR_INVALID)), "{bad}");
        }
        assert_eq!(PageRequest::parse("people", Some(0), None), Err(("limit", LIMIT_OUT_OF_RANGE)));
        assert_eq!(PageRequest::parse("people", Some(201), None), Err(("limit", LIMIT_OUT_OF_RANGE)));
        assert_eq!(PageRequest::parse("people", None, Some("")).unwrap().after, None);
    }
}
