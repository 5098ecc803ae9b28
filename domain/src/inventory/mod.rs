//! The register of non-human identities: vocabulary, list queries and keyset cursors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::string_enum::string_enum;

string_enum! {
    /// The two families of non-human identity Steward governs. Machine identities are
    /// governed mostly at provisioning time, AI identities also at request time.
    pub enum ActorClass: "actor class" {
        Machine = "machine",
        Ai = "ai",
    }
}

string_enum! {
    /// What sort of non-human identity this is.
    pub enum IdentityKind: "identity kind" {
        ServiceAccount = "service_account",
        Workload = "workload",
        CiRunner = "ci_runner",
        Integration = "integration",
        ApiClient = "api_client",
        Agent = "agent",
        Orchestrator = "orchestrator",
        LlmApp = "llm_app",
        AssistantSession = "assistant_session",
    }
}

impl IdentityKind {
    /// Every kind belongs to exactly one actor class.
    pub fn actor_class(self) -> ActorClass {
        match self {
            IdentityKind::ServiceAccount
            | IdentityKind::Workload
            | IdentityKind::CiRunner
            | IdentityKind::Integration
            | IdentityKind::ApiClient => ActorClass::Machine,
            IdentityKind::Agent
            | IdentityKind::Orchestrator
            | IdentityKind::LlmApp
            | IdentityKind::AssistantSession => ActorClass::Ai,
        }
    }

    /// Label for people, e.g. "CI runner".
    pub fn label(self) -> &'static str {
        match self {
            IdentityKind::ServiceAccount => "Service account",
            IdentityKind::Workload => "Workload",
            IdentityKind::CiRunner => "CI runner",
            IdentityKind::Integration => "Integration",
            IdentityKind::ApiClient => "API client",
            IdentityKind::Agent => "Agent",
            IdentityKind::Orchestrator => "Orchestrator",
            IdentityKind::LlmApp => "LLM app",
            IdentityKind::AssistantSession => "Assistant session",
        }
    }
}

impl ActorClass {
    pub fn label(self) -> &'static str {
        match self {
            ActorClass::Machine => "Machine",
            ActorClass::Ai => "AI",
        }
    }
}

string_enum! {
    /// Where an identity was discovered or created.
    pub enum Source: "source" {
        Aws = "aws",
        Gcp = "gcp",
        Azure = "azure",
        Kubernetes = "kubernetes",
        Github = "github",
        Manual = "manual",
        Steward = "steward",
    }
}

string_enum! {
    /// Lifecycle state: `active` → `suspended` → `retired`.
    pub enum IdentityStatus: "status" {
        Active = "active",
        Suspended = "suspended",
        Retired = "retired",
    }
}

/// A person who can own or sponsor identities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonRef {
    pub id: Uuid,
    pub display_name: String,
    pub email: String,
}

/// One row of the inventory: what a list needs to show about an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentitySummary {
    pub id: Uuid,
    pub name: String,
    pub actor_class: ActorClass,
    pub kind: IdentityKind,
    pub source: Source,
    /// The identifier in the source system (ARN, `namespace/name`, client id, …).
    pub external_id: Option<String>,
    pub environment: String,
    pub status: IdentityStatus,
    /// `None` means the identity is orphaned: nobody answers for it.
    pub owner: Option<PersonRef>,
    /// Whether the owner still works here; an identity whose owner left is orphaned.
    pub owner_active: bool,
    pub team: Option<String>,
    /// Workload identity binding, e.g. `spiffe://prod.example.com/ns/pay/sa/api`.
    pub spiffe_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl IdentitySummary {
    pub fn is_orphaned(&self) -> bool {
        self.owner.is_none() || !self.owner_active
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

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

/// How many identities of the current filter have each value: what the filter controls
/// show next to their options.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facets {
    pub total: u64,
    pub actor_class: Vec<FacetCount>,
    pub kind: Vec<FacetCount>,
    pub source: Vec<FacetCount>,
    pub environment: Vec<FacetCount>,
    pub status: Vec<FacetCount>,
    pub orphaned: u64,
    pub expired: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

impl Facets {
    /// Folds `(class, kind, source, environment, status) → count` groups into
    /// per-dimension counts, largest first (ties by value).
    pub fn from_groups(groups: &[([String; 5], u64)], orphaned: u64, expired: u64) -> Facets {
        let mut dims: [std::collections::BTreeMap<&str, u64>; 5] = Default::default();
        let mut total = 0;
        for (values, count) in groups {
            total += count;
            for (dim, value) in dims.iter_mut().zip(values) {
                *dim.entry(value.as_str()).or_default() += count;
            }
        }
        let [class, kind, source, environment, status] = dims.map(|dim| {
            let mut counts: Vec<FacetCount> = dim
                .into_iter()
                .map(|(value, count)| FacetCount {
                    value: value.to_owned(),
                    count,
                })
                .collect();
            counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            counts
        });
        Facets {
            total,
            actor_class: class,
            kind,
            source,
            environment,
            status,
            orphaned,
            expired,
        }
    }

    /// The count for one value of one dimension (0 when absent).
    pub fn count(counts: &[FacetCount], value: &str) -> u64 {
        counts
            .iter()
            .find(|c| c.value == value)
            .map_or(0, |c| c.count)
    }
}

/// Columns of the inventory CSV export, in order.
pub const INVENTORY_CSV_COLUMNS: &[&str] = &[
    "id",
    "name",
    "actor_class",
    "kind",
    "source",
    "external_id",
    "environment",
    "status",
    "owner_email",
    "owner_name",
    "orphaned",
    "team",
    "spiffe_id",
    "expires_at",
    "created_at",
    "last_used_at",
];

pub fn inventory_csv_header() -> String {
    let mut header = INVENTORY_CSV_COLUMNS.join(",");
    header.push('\n');
    header
}

/// One identity as a CSV line (fields quoted and formula-defused like the audit export).
pub fn inventory_csv_line(row: &IdentitySummary) -> String {
    let time = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    let fields = [
        row.id.to_string(),
        row.name.clone(),
        row.actor_class.to_string(),
        row.kind.to_string(),
        row.source.to_string(),
        row.external_id.clone().unwrap_or_default(),
        row.environment.clone(),
        row.status.to_string(),
        row.owner
            .as_ref()
            .map(|o| o.email.clone())
            .unwrap_or_default(),
        row.owner
            .as_ref()
            .map(|o| o.display_name.clone())
            .unwrap_or_default(),
        row.is_orphaned().to_string(),
        row.team.clone().unwrap_or_default(),
        row.spiffe_id.clone().unwrap_or_default(),
        time(row.expires_at),
        time(Some(row.created_at)),
        time(row.last_used_at),
    ];
    let mut line = fields
        .iter()
        .map(|f| crate::audit::csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str) -> IdentitySummary {
        IdentitySummary {
            id: Uuid::from_u128(name.len() as u128),
            name: name.to_owned(),
            actor_class: ActorClass::Machine,
            kind: IdentityKind::Workload,
            source: Source::Manual,
            external_id: None,
            environment: "prod".into(),
            status: IdentityStatus::Active,
            owner: None,
            owner_active: false,
            team: None,
            spiffe_id: None,
            expires_at: None,
            created_at: DateTime::UNIX_EPOCH,
            last_used_at: None,
        }
    }

    #[test]
    fn every_kind_has_the_expected_actor_class() {
        let ai: Vec<_> = IdentityKind::ALL
            .iter()
            .filter(|k| k.actor_class() == ActorClass::Ai)
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            ai,
            ["agent", "orchestrator", "llm_app", "assistant_session"]
        );
    }

    #[test]
    fn vocabularies_round_trip_through_text_and_json() {
        for kind in IdentityKind::ALL {
            assert_eq!(kind.as_str().parse::<IdentityKind>(), Ok(*kind));
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(serde_json::from_str::<IdentityKind>(&json).unwrap(), *kind);
        }
        assert!(serde_json::from_str::<ActorClass>("\"robot\"")
            .unwrap_err()
            .to_string()
            .contains("expected one of: machine, ai"));
    }

    #[test]
    fn posture_filters_round_trip_and_name_what_is_wrong() {
        let q = IdentityQuery::from_query_string(
            "finding=no-owner&control=NHI1&cred_age=90-180&class=machine&ungoverned=true",
        )
        .unwrap();
        assert_eq!(q.finding, Some(FindingFilter::Check("no-owner".into())));
        assert_eq!(q.control.as_deref(), Some("NHI1"));
        assert_eq!(q.credential_age, Some((90, Some(180))));
        assert_eq!(
            IdentityQuery::from_query_string(&q.to_query_string()).unwrap(),
            q
        );
        assert!(q.is_filtered());
        let open = IdentityQuery::from_query_string("finding=any&cred_age=365-").unwrap();
        assert_eq!(open.finding, Some(FindingFilter::Any));
        assert_eq!(open.credential_age, Some((365, None)));
        assert_eq!(open.to_query_string(), "finding=any&cred_age=365-");
        for (bad, field) in [
            ("finding=no-such-check", "finding"),
            ("control=NHI99", "control"),
            ("cred_age=180-90", "cred_age"),
            ("cred_age=ninety", "cred_age"),
            ("cred_age=5000-", "cred_age"),
        ] {
            match IdentityQuery::from_query_string(bad) {
                Err(DomainError::InvalidInput { field: f, .. }) => assert_eq!(f, field, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn parses_filters_and_defaults() {
        let q = IdentityQuery::from_query_string("class=ai&q=+deploy+&limit=20").unwrap();
        assert_eq!(q.actor_class, Some(ActorClass::Ai));
        assert_eq!(q.search.as_deref(), Some("deploy"));
        assert_eq!(q.limit, 20);
        assert_eq!(q.cursor, None);

        let empty = IdentityQuery::from_query_string("class=&q=&&=").unwrap();
        assert_eq!(empty, IdentityQuery::new());
    }

    #[test]
    fn refuses_bad_input_with_a_named_field() {
        let cases = [
            ("class=robot", "invalid actor class: unknown value 'robot'; expected one of: machine, ai"),
            ("limit=0", "invalid limit: '0' is not a whole number from 1 to 500"),
            ("limit=abc", "invalid limit: 'abc' is not a whole number from 1 to 500"),
            ("cursor=%%%", "invalid cursor: malformed cursor; pass back the next_cursor value of a previous page unchanged"),
            ("cursor=bm90LWpzb24", "invalid cursor: malformed cursor; pass back the next_cursor value of a previous page unchanged"),
            ("clas=ai", "invalid query parameter: unknown parameter 'clas'; accepted: class, kind, source, env, status, owner, team, orphaned, expired, expiring, stale, ungoverned, q, finding, control, cred_age, sort, cursor, limit"),
            ("q=a&q=b", "invalid q: given more than once; give it at most once"),
            ("q=a%01b", "invalid q: search text must not contain control characters"),
        ];
        for (input, expected) in cases {
            let err = IdentityQuery::from_query_string(input).unwrap_err();
            assert_eq!(err.to_string(), expected, "for {input}");
        }
        let long = format!("q={}", "x".repeat(201));
        assert!(IdentityQuery::from_query_string(&long).is_err());
    }

    #[test]
    fn lifecycle_and_ownership_filters() {
        let q = IdentityQuery::from_query_string(
            "kind=agent&source=azure&env=prod&status=suspended&owner=Ada%40Example.com&orphaned=true&expired=1&expiring=30&stale=90",
        )
        .unwrap();
        assert_eq!(q.kind, Some(IdentityKind::Agent));
        assert_eq!(q.source, Some(Source::Azure));
        assert_eq!(q.environment.as_deref(), Some("prod"));
        assert_eq!(q.status, Some(IdentityStatus::Suspended));
        assert_eq!(q.owner.as_deref(), Some("ada@example.com"));
        assert!(q.orphaned && q.expired);
        assert_eq!((q.expiring_days, q.stale_days), (Some(30), Some(90)));
        assert_eq!(
            IdentityQuery::from_query_string(&q.to_query_string()).unwrap(),
            q
        );

        let err = |text: &str| {
            IdentityQuery::from_query_string(text)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("class=machine&kind=agent"),
            "invalid kind: 'agent' is not a kind of Machine identity"
        );
        assert_eq!(
            err("orphaned=maybe"),
            "invalid orphaned: 'maybe' is not true or false"
        );
        assert_eq!(
            err("stale=0"),
            "invalid stale: '0' is not a number of days from 1 to 3650"
        );
        assert_eq!(err("env=Prod!"), "invalid env: 'Prod!' is not an environment name (lower-case letters, digits, '-', '_')");
        assert!(err("owner=nobody").starts_with("invalid email"));
        assert!(err("status=gone").contains("expected one of: active, suspended, retired"));
    }

    #[test]
    fn query_string_round_trips() {
        let mut q = IdentityQuery::from_query_string("class=machine&q=ci%20bot&limit=10").unwrap();
        q.cursor = Some(Cursor {
            sort: "name".into(),
            after_value: Some("name with spaces & symbols".into()),
            after_id: Uuid::from_u128(7),
        });
        let again = IdentityQuery::from_query_string(&q.to_query_string()).unwrap();
        assert_eq!(again, q);
        assert_eq!(IdentityQuery::new().to_query_string(), "");
        assert_eq!(
            q.with_actor_class(None).to_query_string(),
            "q=ci+bot&limit=10"
        );
        assert_eq!(
            q.with_search("  ").to_query_string(),
            "class=machine&limit=10"
        );
        assert_eq!(q.with_search(" x ").search.as_deref(), Some("x"));
        assert_eq!(q.with_search("x").cursor, None);
    }

    #[test]
    fn overfetch_yields_cursor_only_when_more_rows_exist() {
        let page = page_from_overfetch(vec![row("a"), row("bb"), row("ccc")], 2, Sort::default());
        assert_eq!(page.items.len(), 2);
        let cursor = Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
        assert_eq!(cursor.after_value.as_deref(), Some("bb"));
        assert_eq!(cursor.after_id, Uuid::from_u128(2));

        // By last use: a row never used carries no value.
        let by_use = Sort::parse("-last_used").unwrap();
        let page = page_from_overfetch(vec![row("a"), row("bb")], 1, by_use);
        let cursor = Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
        assert_eq!(
            (cursor.sort.as_str(), cursor.after_value),
            ("-last_used", None)
        );

        let last = page_from_overfetch(vec![row("a"), row("bb")], 2, Sort::default());
        assert_eq!(last.items.len(), 2);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn sorts_and_cursors_must_agree() {
        let q = IdentityQuery::from_query_string("sort=-expires&team=Payments").unwrap();
        assert_eq!(
            q.sort,
            Sort {
                key: SortKey::Expires,
                descending: true
            }
        );
        assert_eq!(q.team.as_deref(), Some("Payments"));
        assert_eq!(q.to_query_string(), "team=Payments&sort=-expires");
        let page = page_from_overfetch(vec![row("a"), row("b")], 1, q.sort);
        let next = q.with_cursor(page.next_cursor.as_deref().unwrap()).unwrap();
        assert_eq!(
            IdentityQuery::from_query_string(&next.to_query_string()).unwrap(),
            next
        );
        // The same cursor with another order is refused.
        let other = format!("sort=name&cursor={}", next.cursor.unwrap().encode());
        assert_eq!(
            IdentityQuery::from_query_string(&other).unwrap_err().to_string(),
            "invalid cursor: this cursor belongs to another sort order; start again from the first page"
        );
        assert!(IdentityQuery::from_query_string("sort=owner")
            .unwrap_err()
            .to_string()
            .contains("expected one of: name, created, last_used, expires"));
        assert!(q.is_filtered() && !IdentityQuery::new().with_sort(q.sort).is_filtered());
    }

    #[test]
    fn facets_fold_groups_per_dimension() {
        let g = |v: [&str; 5], n| (v.map(str::to_owned), n);
        let facets = Facets::from_groups(
            &[
                g(["ai", "agent", "azure", "prod", "active"], 3),
                g(["machine", "workload", "aws", "prod", "active"], 5),
                g(["machine", "workload", "aws", "dev", "retired"], 1),
            ],
            2,
            1,
        );
        assert_eq!(facets.total, 9);
        assert_eq!(Facets::count(&facets.actor_class, "machine"), 6);
        assert_eq!(Facets::count(&facets.environment, "prod"), 8);
        assert_eq!(Facets::count(&facets.status, "suspended"), 0);
        assert_eq!(facets.kind[0].value, "workload");
        assert_eq!((facets.orphaned, facets.expired), (2, 1));
    }

    #[test]
    fn csv_lines_have_one_field_per_column() {
        let mut r = row("=cmd, evil");
        r.external_id = Some("arn:aws:iam::1:user/x".into());
        let line = inventory_csv_line(&r);
        assert!(line.contains("\"'=cmd, evil\""), "{line}");
        assert!(line.ends_with(",1970-01-01T00:00:00Z,\n"), "{line}");
        assert_eq!(
            inventory_csv_header().trim_end().split(',').count(),
            INVENTORY_CSV_COLUMNS.len()
        );
    }

    #[test]
    fn orphan_and_expiry_rules() {
        let mut r = row("x");
        assert!(r.is_orphaned());
        let now = Utc::now();
        assert!(!r.is_expired(now));
        r.expires_at = Some(now);
        assert!(r.is_expired(now));
    }
}
