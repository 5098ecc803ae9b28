//! The inventory query: filters, search and position as the URL carries them, parsed and
//! written back by one parser for the page and the API, with the parsers of its values.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::{ActorClass, Cursor, IdentityKind, IdentityStatus, Sort, Source};

/// Filters, search and position of an inventory listing, as the URL carries them:
/// `class`, `q`, `cursor`, `limit`. The same parser serves the page and the API, so
/// both reject the same bad input with the same words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdentityQuery {
    pub actor_class: Option<ActorClass>,
    pub kind: Option<IdentityKind>,
    pub source: Option<Source>,
    pub environment: Option<String>,
    pub status: Option<IdentityStatus>,
    /// Email of the owner.
    pub owner: Option<String>,
    pub team: Option<String>,
    /// Only identities nobody answers for: no owner, or an owner who has left.
    pub orphaned: bool,
    /// Only identities whose expiry has passed.
    pub expired: bool,
    /// Only identities missing one of what governs them: an active owner, an expiry
    /// or a revocation path.
    pub ungoverned: bool,
    /// Only identities (not yet expired) that expire within this many days.
    pub expiring_days: Option<u32>,
    /// Only identities not used for this many days (or never used).
    pub stale_days: Option<u32>,
    /// Case-insensitive substring of the name, external id or SPIFFE ID.
    pub search: Option<String>,
    /// Only identities with an open finding of this check (or of any check).
    pub finding: Option<FindingFilter>,
    /// Only identities with an open finding against this control of the catalog.
    pub control: Option<String>,
    /// Only identities holding an active credential whose secret was last set this
    /// many days ago: `[from, to)`, `to` open-ended when `None`.
    pub credential_age: Option<(u32, Option<u32>)>,
    pub sort: Sort,
    pub cursor: Option<Cursor>,
    pub limit: u32,
}

impl IdentityQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 500;
    pub const MAX_SEARCH_LEN: usize = 200;
    pub const MAX_DAYS: u32 = 3650;
    pub const PARAMS: &'static [&'static str] = &[
        "class",
        "kind",
        "source",
        "env",
        "status",
        "owner",
        "team",
        "orphaned",
        "expired",
        "expiring",
        "stale",
        "ungoverned",
        "q",
        "finding",
        "control",
        "cred_age",
        "sort",
        "cursor",
        "limit",
    ];

    pub fn new() -> Self {
        IdentityQuery {
            limit: Self::DEFAULT_LIMIT,
            ..Default::default()
        }
    }

    /// Parses a URL query string (without the leading `?`).
    pub fn from_query_string(query: &str) -> Result<Self, DomainError> {
        let mut parsed = Self::new();
        for (key, value) in crate::query::parse_params(query, Self::PARAMS)? {
            match key.as_str() {
                "class" => parsed.actor_class = Some(value.parse()?),
                "kind" => parsed.kind = Some(value.parse()?),
                "source" => parsed.source = Some(value.parse()?),
                "env" => parsed.environment = Some(parse_environment(&value)?),
                "status" => parsed.status = Some(value.parse()?),
                "owner" => parsed.owner = Some(crate::auth::normalize_email(&value)?),
                "team" => parsed.team = Some(parse_team(&value)?),
                "sort" => parsed.sort = Sort::parse(&value)?,
                "orphaned" => parsed.orphaned = crate::query::parse_flag("orphaned", &value)?,
                "expired" => parsed.expired = crate::query::parse_flag("expired", &value)?,
                "ungoverned" => parsed.ungoverned = crate::query::parse_flag("ungoverned", &value)?,
                "expiring" => {
                    parsed.expiring_days = Some(crate::query::parse_days(
                        "expiring",
                        &value,
                        Self::MAX_DAYS,
                    )?)
                }
                "stale" => {
                    parsed.stale_days =
                        Some(crate::query::parse_days("stale", &value, Self::MAX_DAYS)?)
                }
                "q" => {
                    if value.chars().count() > Self::MAX_SEARCH_LEN {
                        return Err(DomainError::invalid(
                            "q",
                            format!(
                                "search text is longer than {} characters",
                                Self::MAX_SEARCH_LEN
                            ),
                        ));
                    }
                    // Names and ids hold no control characters (the search of a long
                    // listing joins the searched columns with one).
                    if value.chars().any(char::is_control) {
                        return Err(DomainError::invalid(
                            "q",
                            "search text must not contain control characters",
                        ));
                    }
                    parsed.search = Some(value);
                }
                "finding" => parsed.finding = Some(value.parse()?),
                "control" => {
                    let catalog = crate::posture::catalog::Catalog::shipped();
                    if catalog.control(&value).is_none() {
                        return Err(DomainError::invalid(
                            "control",
                            format!("'{value}' is not a control of the catalog"),
                        ));
                    }
                    parsed.control = Some(value);
                }
                "cred_age" => {
                    parsed.credential_age = Some(parse_age_range(&value, Self::MAX_DAYS)?)
                }
                "cursor" => parsed.cursor = Some(Cursor::decode(&value)?),
                "limit" => parsed.limit = crate::query::parse_limit(&value, Self::MAX_LIMIT)?,
                _ => {}
            }
        }
        if let Some(cursor) = &parsed.cursor {
            if cursor.sort != parsed.sort.as_param() {
                return Err(DomainError::invalid(
                    "cursor",
                    "this cursor belongs to another sort order; start again from the first page",
                ));
            }
        }
        if let (Some(class), Some(kind)) = (parsed.actor_class, parsed.kind) {
            if kind.actor_class() != class {
                return Err(DomainError::invalid(
                    "kind",
                    format!("'{kind}' is not a kind of {} identity", class.label()),
                ));
            }
        }
        Ok(parsed)
    }

    /// The URL query string for this listing (without `?`), omitting defaults.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(class) = self.actor_class {
            pairs.push(("class", class.as_str().to_owned()));
        }
        if let Some(kind) = self.kind {
            pairs.push(("kind", kind.as_str().to_owned()));
        }
        if let Some(source) = self.source {
            pairs.push(("source", source.as_str().to_owned()));
        }
        if let Some(environment) = &self.environment {
            pairs.push(("env", environment.clone()));
        }
        if let Some(status) = self.status {
            pairs.push(("status", status.as_str().to_owned()));
        }
        if let Some(owner) = &self.owner {
            pairs.push(("owner", owner.clone()));
        }
        if let Some(team) = &self.team {
            pairs.push(("team", team.clone()));
        }
        if self.orphaned {
            pairs.push(("orphaned", "true".to_owned()));
        }
        if self.expired {
            pairs.push(("expired", "true".to_owned()));
        }
        if let Some(days) = self.expiring_days {
            pairs.push(("expiring", days.to_string()));
        }
        if self.ungoverned {
            pairs.push(("ungoverned", "true".to_owned()));
        }
        if let Some(days) = self.stale_days {
            pairs.push(("stale", days.to_string()));
        }
        if let Some(search) = &self.search {
            pairs.push(("q", search.clone()));
        }
        if let Some(finding) = &self.finding {
            pairs.push(("finding", finding.to_string()));
        }
        if let Some(control) = &self.control {
            pairs.push(("control", control.clone()));
        }
        if let Some((from, to)) = self.credential_age {
            pairs.push((
                "cred_age",
                match to {
                    Some(to) => format!("{from}-{to}"),
                    None => format!("{from}-"),
                },
            ));
        }
        if self.sort != Sort::default() {
            pairs.push(("sort", self.sort.as_param()));
        }
        if self.limit != Self::DEFAULT_LIMIT {
            pairs.push(("limit", self.limit.to_string()));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor", cursor.encode()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    /// The same filters, starting from the first page.
    pub fn first_page(&self) -> Self {
        IdentityQuery {
            cursor: None,
            ..self.clone()
        }
    }

    /// The same filters with another actor class (and from the first page).
    pub fn with_actor_class(&self, actor_class: Option<ActorClass>) -> Self {
        IdentityQuery {
            actor_class,
            cursor: None,
            ..self.clone()
        }
    }

    /// The same filters with another search text (blank = no search), from the first page.
    pub fn with_search(&self, text: &str) -> Self {
        let text = text.trim();
        IdentityQuery {
            search: (!text.is_empty()).then(|| text.to_owned()),
            cursor: None,
            ..self.clone()
        }
    }

    /// The same filters in another order (and from the first page).
    pub fn with_sort(&self, sort: Sort) -> Self {
        IdentityQuery {
            sort,
            cursor: None,
            ..self.clone()
        }
    }

    /// Only the filters: no position, order or page size (what a bulk change or an
    /// export applies to).
    pub fn filter_only(&self) -> Self {
        IdentityQuery {
            cursor: None,
            sort: Sort::default(),
            limit: Self::DEFAULT_LIMIT,
            ..self.clone()
        }
    }

    /// Only the class, kind, source, environment and status filters: the dimensions
    /// the register keeps counts of.
    pub fn dimensions_only(&self) -> Self {
        IdentityQuery {
            actor_class: self.actor_class,
            kind: self.kind,
            source: self.source,
            environment: self.environment.clone(),
            status: self.status,
            ..IdentityQuery::new()
        }
    }

    /// Whether any filter or search narrows the listing.
    pub fn is_filtered(&self) -> bool {
        self.filter_only() != IdentityQuery::new()
    }

    /// The same filters positioned at `next_cursor`.
    pub fn with_cursor(&self, next_cursor: &str) -> Result<Self, DomainError> {
        Ok(IdentityQuery {
            cursor: Some(Cursor::decode(next_cursor)?),
            ..self.clone()
        })
    }
}

/// An environment name: lower-case letters, digits, `-` and `_`, 1–40 characters.
/// Which open findings the `finding` filter asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FindingFilter {
    /// Any open finding.
    Any,
    /// An open finding of this check.
    Check(String),
}

impl std::fmt::Display for FindingFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FindingFilter::Any => f.write_str("any"),
            FindingFilter::Check(check) => f.write_str(check),
        }
    }
}

impl std::str::FromStr for FindingFilter {
    type Err = DomainError;

    fn from_str(value: &str) -> Result<Self, DomainError> {
        if value == "any" {
            return Ok(FindingFilter::Any);
        }
        match crate::posture::catalog::Catalog::shipped().check(value) {
            Some(check) => Ok(FindingFilter::Check(check.id.clone())),
            None => Err(DomainError::invalid(
                "finding",
                format!("'{value}' is not a check of the catalog (or 'any')"),
            )),
        }
    }
}

/// `90-180` (from 90 up to 180 days) or `365-` (365 days and more).
pub fn parse_age_range(value: &str, max: u32) -> Result<(u32, Option<u32>), DomainError> {
    let wrong = || {
        DomainError::invalid(
            "cred_age",
            "expected a range of days such as 90-180, or 365- for 365 days and more",
        )
    };
    let (from, to) = value.split_once('-').ok_or_else(wrong)?;
    let from: u32 = from.trim().parse().map_err(|_| wrong())?;
    let to: Option<u32> = match to.trim() {
        "" => None,
        to => Some(to.parse().map_err(|_| wrong())?),
    };
    if from > max || to.is_some_and(|to| to > max || to <= from) {
        return Err(DomainError::invalid(
            "cred_age",
            format!("the range must be ascending and within {max} days"),
        ));
    }
    Ok((from, to))
}

pub fn parse_environment(value: &str) -> Result<String, DomainError> {
    let valid = (1..=40).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if valid {
        Ok(value.to_owned())
    } else {
        Err(DomainError::invalid(
            "env",
            format!("'{value}' is not an environment name (lower-case letters, digits, '-', '_')"),
        ))
    }
}

/// A team name: 1–80 characters, no control characters, trimmed.
pub fn parse_team(value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 80 || value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "team",
            format!("'{value}' is not a team name (1–80 characters)"),
        ));
    }
    Ok(value.to_owned())
}
