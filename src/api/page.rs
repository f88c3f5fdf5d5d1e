//! Lists in the API come as pages (see `domain::page`): `limit` and `cursor` in, `data`,
//! `next_cursor` and `total` out.
use std::borrow::Cow;

use poem_openapi::Object;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type};

use crate::domain::page::{self, MAX_LIMIT, PageRequest};
use crate::error::{AppError, FieldError};

/// The `limit` query parameter of every list, described once.
pub struct Limit(pub u64);

/// The `cursor` query parameter of every list, described once.
pub struct Cursor(pub String);

/// `Type` for a query parameter: a name and a schema; the rest is the same for both.
macro_rules! parameter_type {
    ($t:ty, $name:literal, $schema:expr) => {
        impl Type for $t {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                $name.into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new($schema))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }
    };
}

parameter_type!(
    Limit,
    "page_limit",
    MetaSchema {
        description: Some("Rows per page, 1 to 200 (50 when absent)."),
        format: Some("int64"),
        minimum: Some(1.0),
        maximum: Some(MAX_LIMIT as f64),
        ..MetaSchema::new("integer")
    }
);

parameter_type!(
    Cursor,
    "page_cursor",
    MetaSchema {
        description: Some("The `next_cursor` of the page before; absent for the first page."),
        max_length: Some(page::MAX_CURSOR_CHARS),
        ..MetaSchema::new("string")
    }
);

impl ParseFromParameter for Limit {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        let n: u64 = value.parse().map_err(ParseError::custom)?;
        if !(1..=MAX_LIMIT).contains(&n) {
            return Err(ParseError::custom(format!("a page holds 1 to {MAX_LIMIT} rows")));
        }
        Ok(Limit(n))
    }
}

impl ParseFromParameter for Cursor {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        if value.len() > page::MAX_CURSOR_CHARS {
            return Err(ParseError::custom("not a cursor of this service"));
        }
        Ok(Cursor(value.to_string()))
    }
}

/// One page of a list in its stable order. `next_cursor`, passed as `cursor`, fetches the next
/// page; it is null on the last. `total` counts the whole list.
#[derive(Object)]
#[oai(rename_all = "snake_case")]
pub struct Page<T: ParseFromJSON + ToJSON> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
    pub total: u64,
}

impl<T: ParseFromJSON + ToJSON> Page<T> {
    pub fn of<U>(p: page::Page<U>, f: impl FnMut(U) -> T) -> Self {
        let p = p.map(f);
        Page { data: p.rows, next_cursor: p.next, total: p.total }
    }
}

/// The page a client asked for, by the query parameters every list takes.
pub fn request(list: &str, limit: Option<Limit>, cursor: Option<Cursor>) -> Result<PageRequest, AppError> {
    PageRequest::parse(list, limit.map(|l| l.0), cursor.as_ref().map(|c| c.0.as_str()))
        .map_err(|(field, code)| AppError::Invalid(vec![FieldError::new(field, code)]))
}
