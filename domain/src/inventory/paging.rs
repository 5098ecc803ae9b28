//! Pages, sort orders and keyset cursors of a listing, and cutting an over-fetched page.
//! Separate from the filters because paging is the same whatever is filtered.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::string_enum::string_enum;

use super::IdentitySummary;

/// A page of results with the cursor that fetches the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Opaque; pass it back as `cursor` to get the next page. Absent on the last page.
    pub next_cursor: Option<String>,
}

string_enum! {
    /// The column an inventory listing is ordered by.
    #[derive(Default)]
    pub enum SortKey: "sort" {
        #[default]
        Name = "name",
        Created = "created",
        LastUsed = "last_used",
        Expires = "expires",
    }
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "Name",
            SortKey::Created => "Created",
            SortKey::LastUsed => "Last used",
            SortKey::Expires => "Expiry",
        }
    }
}

/// Order of a listing: a column, ascending or descending, ties broken by id. Identities
/// without a value (never used, no expiry) come last in both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    /// `name`, `-created`, `last_used`, `-expires`, …: a leading `-` means descending.
    pub fn parse(text: &str) -> Result<Sort, DomainError> {
        let (descending, key) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        Ok(Sort {
            key: key.parse()?,
            descending,
        })
    }

    pub fn as_param(self) -> String {
        format!("{}{}", if self.descending { "-" } else { "" }, self.key)
    }

    /// The sort value of a row, as kept in a cursor: the name, or an RFC 3339 time.
    pub fn value_of(self, row: &IdentitySummary) -> Option<String> {
        let time = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
        };
        match self.key {
            SortKey::Name => Some(row.name.clone()),
            SortKey::Created => time(Some(row.created_at)),
            SortKey::LastUsed => time(row.last_used_at),
            SortKey::Expires => time(row.expires_at),
        }
    }
}

/// Position after which the next page starts: the sort value of the last row seen
/// (`None` once the listing has reached the rows without a value) and its id, which
/// makes the key unique. The sort order is part of the cursor, so a cursor cannot be
/// replayed against another order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub sort: String,
    #[serde(rename = "v")]
    pub after_value: Option<String>,
    #[serde(rename = "i")]
    pub after_id: Uuid,
}

impl Cursor {
    pub fn after(row: &IdentitySummary, sort: Sort) -> Self {
        Cursor {
            sort: sort.as_param(),
            after_value: sort.value_of(row),
            after_id: row.id,
        }
    }

    pub fn encode(&self) -> String {
        // Serialising a struct of strings and a uuid cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(text: &str) -> Result<Self, DomainError> {
        let malformed = || {
            DomainError::invalid(
                "cursor",
                "malformed cursor; pass back the next_cursor value of a previous page unchanged",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| malformed())?;
        serde_json::from_slice(&bytes).map_err(|_| malformed())
    }

    /// The cursor's value as a time, for the time-ordered sorts.
    pub fn after_time(&self) -> Result<Option<DateTime<Utc>>, DomainError> {
        self.after_value
            .as_deref()
            .map(|v| {
                DateTime::parse_from_rfc3339(v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| DomainError::invalid("cursor", "malformed cursor"))
            })
            .transpose()
    }
}

/// Builds the page from `limit + 1` fetched rows: the extra row only says that a next
/// page exists, and the cursor points after the last row shown.
pub fn page_from_overfetch(
    mut rows: Vec<IdentitySummary>,
    limit: u32,
    sort: Sort,
) -> Page<IdentitySummary> {
    let limit = limit as usize;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if has_more {
        rows.last().map(|row| Cursor::after(row, sort).encode())
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}
