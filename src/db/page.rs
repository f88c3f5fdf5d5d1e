//! One page of a query, by keyset (see `domain::page`): the database sorts, counts and cuts, so a
//! page costs the same on the first page as on the hundredth, whatever the size of the table.
use sea_orm::sea_query::{ColumnType, Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order as SqlOrder, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Value,
};

use crate::db::scope::Scoped;
use crate::domain::page::{Key, Order, Page, PageRequest, Part};
use crate::error::{AppError, AppResult, FieldError};

/// A column a list is sorted by, of the selected table or of one joined to it.
pub struct SortColumn {
    expr: Expr,
    ty: ColumnType,
}

impl SortColumn {
    pub fn of<C: ColumnTrait>(c: C) -> Self {
        SortColumn { expr: Expr::col(c.as_column_ref()), ty: c.def().get_column_type().clone() }
    }
}

/// How a list is sorted in the database: by `sorts` (columns without nulls) in turn, then by
/// `id`, all in `order`. The row's key for the cursor is `[sort…, id]`.
pub struct Keyset {
    sorts: Vec<SortColumn>,
    id: SortColumn,
    order: Order,
}

impl Keyset {
    pub fn by_id<C: ColumnTrait>(id: C, order: Order) -> Self {
        Keyset { sorts: vec![], id: SortColumn::of(id), order }
    }

    pub fn by<C: ColumnTrait>(sort: C, id: C, order: Order) -> Self {
        Keyset { sorts: vec![SortColumn::of(sort)], id: SortColumn::of(id), order }
    }

    pub fn by_all(sorts: Vec<SortColumn>, id: SortColumn, order: Order) -> Self {
        Keyset { sorts, id, order }
    }

    /// `select` cut to the rows after the request's cursor, in this order, `limit + 1` of them.
    fn page_of<E: EntityTrait>(&self, mut select: Select<E>, req: &PageRequest) -> AppResult<Select<E>> {
        if let Some(after) = &req.after {
            select = select.filter(self.after(after)?);
        }
        let dir = match self.order {
            Order::Asc => SqlOrder::Asc,
            Order::Desc => SqlOrder::Desc,
        };
        for sort in &self.sorts {
            select = select.order_by(sort.expr.clone(), dir.clone());
        }
        Ok(select.order_by(self.id.expr.clone(), dir).limit(req.limit + 1))
    }

    /// The rows after `key`: `(s1, …, id) > (k1, …, i)` spelled out, as both databases read it:
    /// `s1 > k1 OR (s1 = k1 AND (s2 > k2 OR (…)))`.
    fn after(&self, key: &Key) -> AppResult<Condition> {
        let invalid = || AppError::Invalid(vec![FieldError::new("cursor", crate::domain::page::CURSOR_INVALID)]);
        let beyond = |col: &SortColumn, v: Value| -> Expr {
            match self.order {
                Order::Asc => col.expr.clone().gt(v),
                Order::Desc => col.expr.clone().lt(v),
            }
        };
        let columns: Vec<&SortColumn> = self.sorts.iter().chain([&self.id]).collect();
        if key.len() != columns.len() || !matches!(key.last(), Some(Part::Int(_))) {
            return Err(invalid());
        }
        if columns.iter().zip(key).any(|(c, p)| !fits(p, &c.ty)) {
            return Err(invalid());
        }
        // Built from the last column outwards.
        let mut cond = Condition::all().add(beyond(&self.id, value(&key[columns.len() - 1])));
        for (c, p) in columns.iter().zip(key).rev().skip(1) {
            cond = Condition::any()
                .add(beyond(c, value(p)))
                .add(Condition::all().add(c.expr.clone().eq(value(p))).add(cond));
        }
        Ok(cond)
    }
}

/// Whether a cursor's part can be compared with the column (a cursor is the client's input).
fn fits(part: &Part, column: &ColumnType) -> bool {
    match part {
        Part::Int(_) => matches!(column, ColumnType::Integer | ColumnType::BigInteger | ColumnType::SmallInteger),
        Part::Text(_) => matches!(column, ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_)),
        Part::Time(_) => {
            matches!(column, ColumnType::DateTime | ColumnType::Timestamp | ColumnType::TimestampWithTimeZone)
        }
        Part::Date(_) => matches!(column, ColumnType::Date),
        Part::Null => false,
    }
}

fn value(p: &Part) -> Value {
    match p {
        Part::Int(i) => (*i).into(),
        Part::Text(s) => s.clone().into(),
        Part::Time(t) => (*t).into(),
        Part::Date(d) => (*d).into(),
        Part::Null => Value::BigInt(None),
    }
}

/// One page of `select` (its own order is replaced by the keyset's), with the count of all rows.
pub async fn fetch<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    req: &PageRequest,
    keyset: Keyset,
    key: impl Fn(&E::Model) -> Key,
) -> AppResult<Page<E::Model>>
where
    E::Model: Sync,
{
    fetch_scoped(db, Scoped::plain(select), req, keyset, key).await
}

/// One page of a scoped query (see `db::scope`), counted in its count form.
pub async fn fetch_scoped<E: EntityTrait>(
    db: &impl ConnectionTrait,
    scoped: Scoped<E>,
    req: &PageRequest,
    keyset: Keyset,
    key: impl Fn(&E::Model) -> Key,
) -> AppResult<Page<E::Model>>
where
    E::Model: Sync,
{
    let Scoped { mut rows, mut count, total } = scoped;
    QueryTrait::query(&mut count).clear_order_by();
    QueryTrait::query(&mut rows).clear_order_by();
    let total = match total {
        Some(n) => n,
        None => count.count(db).await?,
    };
    let rows = keyset.page_of(rows, req)?.all(db).await?;
    Ok(Page::from_fetched(req, rows, total, key))
}

/// One page of the union of `parts`, disjoint queries sorted alike, with `total` counted by the
/// caller. Each part is read in its index's order and cut, then they are merged here: a database
/// walks one index range in order, but `status IN (a, b)` makes it sort every match first.
pub async fn fetch_union<E: EntityTrait>(
    db: &impl ConnectionTrait,
    parts: Vec<Select<E>>,
    total: u64,
    req: &PageRequest,
    keyset: Keyset,
    key: impl Fn(&E::Model) -> Key,
) -> AppResult<Page<E::Model>>
where
    E::Model: Sync,
{
    let mut rows = vec![];
    for mut select in parts {
        QueryTrait::query(&mut select).clear_order_by();
        rows.extend(keyset.page_of(select, req)?.all(db).await?);
    }
    rows.sort_by(|a, b| keyset.order.cmp(&key(a), &key(b)));
    Ok(Page::from_fetched(req, rows, total, key))
}

/// `column` (lower-cased) contains `text` (lower-case), with LIKE's own wildcards in `text` taken
/// literally. lower() folds ASCII only on SQLite, so other letters match as typed there.
pub fn name_contains<C: ColumnTrait>(column: C, text: &str) -> Expr {
    // A name is at most 200 characters; a longer search (from the address) cannot match more.
    let escaped: String = text
        .chars()
        .take(200)
        .flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] })
        .collect();
    Expr::expr(Func::lower(Expr::col(column.as_column_ref()))).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}
