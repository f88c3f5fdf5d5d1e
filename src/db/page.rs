//! One page of a query, by keyset (see `domain::page`): the database sorts, counts and cuts, so a
//! page costs the same on the first page as on the hundredth, whatever the size of the table.
use sea_orm::sea_query::{ColumnType, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order as SqlOrder, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Value,
};

use crate::domain::page::{Key, Order, Page, PageRequest, Part};
use crate::error::{AppError, AppResult, FieldError};

/// How a list is sorted in the database: by `sort` (a column without nulls) when given, then by
/// `id`, both in `order`. The row's key for the cursor is `[sort, id]` or `[id]`.
pub struct Keyset<C> {
    pub sort: Option<C>,
    pub id: C,
    pub order: Order,
}

impl<C: ColumnTrait> Keyset<C> {
    pub fn by_id(id: C, order: Order) -> Self {
        Keyset { sort: None, id, order }
    }

    pub fn by(sort: C, id: C, order: Order) -> Self {
        Keyset { sort: Some(sort), id, order }
    }

    /// The rows after `key`: `(sort, id) > (s, i)` spelled out, as both databases read it.
    fn after(&self, key: &Key) -> AppResult<Condition> {
        let invalid = || AppError::Invalid(vec![FieldError::new("cursor", crate::domain::page::CURSOR_INVALID)]);
        let beyond = |col: C, v: Value| -> SimpleExpr {
            match self.order {
                Order::Asc => col.gt(v),
                Order::Desc => col.lt(v),
            }
        };
        match (self.sort, key.as_slice()) {
            (None, [id @ Part::Int(_)]) => Ok(Condition::all().add(beyond(self.id, value(id)))),
            (Some(sort), [s, id @ Part::Int(_)]) if fits(s, sort.def().get_column_type()) => Ok(Condition::any()
                .add(beyond(sort, value(s)))
                .add(Condition::all().add(sort.eq(value(s))).add(beyond(self.id, value(id))))),
            _ => Err(invalid()),
        }
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
        Part::Null => false,
    }
}

fn value(p: &Part) -> Value {
    match p {
        Part::Int(i) => (*i).into(),
        Part::Text(s) => s.clone().into(),
        Part::Time(t) => (*t).into(),
        Part::Null => Value::BigInt(None),
    }
}

/// One page of `select` (its own order is replaced by the keyset's), with the count of all rows.
pub async fn fetch<E: EntityTrait>(
    db: &impl ConnectionTrait,
    mut select: Select<E>,
    req: &PageRequest,
    keyset: Keyset<E::Column>,
    key: impl Fn(&E::Model) -> Key,
) -> AppResult<Page<E::Model>>
where
    E::Model: Sync,
{
    QueryTrait::query(&mut select).clear_order_by();
    let total = select.clone().count(db).await?;
    if let Some(after) = &req.after {
        select = select.filter(keyset.after(after)?);
    }
    let dir = match keyset.order {
        Order::Asc => SqlOrder::Asc,
        Order::Desc => SqlOrder::Desc,
    };
    if let Some(sort) = keyset.sort {
        select = select.order_by(sort, dir.clone());
    }
    let rows = select.order_by(keyset.id, dir).limit(req.limit + 1).all(db).await?;
    Ok(Page::from_fetched(req, rows, total, key))
}
