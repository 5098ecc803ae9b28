//! Creating and editing an identity: the draft an admin submits and its validation
//! (names, SPIFFE IDs, bounded and required texts).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::inventory::{parse_environment, parse_team, IdentityKind};

use super::{Autonomy, LifecyclePolicy, Sensitivity};

/// The attributes an admin sets when creating or editing an identity. Ownership is
/// not here: owners and sponsors are assigned (with a reason) through the ownership
/// operations, so every change of owner is answered by the new owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IdentityDraft {
    pub name: String,
    pub kind: IdentityKind,
    /// The identifier in its source system, if any.
    #[serde(default)]
    pub external_id: Option<String>,
    pub environment: String,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub autonomy: Option<Autonomy>,
    #[serde(default)]
    pub sensitivity_ceiling: Option<Sensitivity>,
    /// `spiffe://trust-domain/path`.
    #[serde(default)]
    pub spiffe_id: Option<String>,
    /// Required: how to revoke it (runbook URL or procedure).
    #[serde(default)]
    pub revocation_path: Option<String>,
    /// Required, and within the policy for its actor class.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// An identity's name as the API, the pages and imports all accept it: trimmed, 1–200
/// characters, no control characters.
pub fn check_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid("name", "a name is required"));
    }
    if name.chars().count() > IdentityDraft::MAX_NAME || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "name",
            format!(
                "a name has 1–{} characters and no control characters",
                IdentityDraft::MAX_NAME
            ),
        ));
    }
    Ok(name.to_owned())
}

impl IdentityDraft {
    pub const MAX_NAME: usize = 200;
    pub const MAX_TEXT: usize = 2000;

    /// Checks every rule and returns the draft with text trimmed and blanks as `None`.
    /// The first problem found is reported, naming its field.
    pub fn validated(
        &self,
        policy: &LifecyclePolicy,
        now: DateTime<Utc>,
    ) -> Result<IdentityDraft, DomainError> {
        let name = check_name(&self.name)?;
        let name = name.as_str();
        let environment = parse_environment(self.environment.trim())?;
        let team = blank_to_none(&self.team)
            .map(|t| parse_team(&t))
            .transpose()?;
        let external_id = bounded_text("external_id", &self.external_id, 500)?;
        let purpose = bounded_text("purpose", &self.purpose, Self::MAX_TEXT)?;
        let spiffe_id = blank_to_none(&self.spiffe_id)
            .map(|id| parse_spiffe_id(&id))
            .transpose()?;
        let revocation_path =
            bounded_text("revocation_path", &self.revocation_path, Self::MAX_TEXT)?.ok_or_else(
                || {
                    DomainError::invalid(
                    "revocation_path",
                    "a revocation path is required: how to cut this identity off in an emergency",
                )
                },
            )?;
        let max_days = policy.max_days(self.kind);
        let expires_at = self.expires_at.ok_or_else(|| {
            DomainError::invalid(
                "expires_at",
                format!(
                    "an expiry is required ({} identities: at most {max_days} days ahead)",
                    self.kind.actor_class().label()
                ),
            )
        })?;
        if expires_at <= now {
            return Err(DomainError::invalid(
                "expires_at",
                "the expiry must be in the future",
            ));
        }
        if expires_at > now + Duration::days(i64::from(max_days)) {
            return Err(DomainError::invalid(
                "expires_at",
                format!(
                    "the expiry is beyond policy: {} identities may live at most {max_days} days",
                    self.kind.actor_class().label()
                ),
            ));
        }
        Ok(IdentityDraft {
            name: name.to_owned(),
            kind: self.kind,
            external_id,
            environment,
            team,
            purpose,
            autonomy: self.autonomy,
            sensitivity_ceiling: self.sensitivity_ceiling,
            spiffe_id,
            revocation_path: Some(revocation_path),
            expires_at: Some(expires_at),
        })
    }
}

fn blank_to_none(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn bounded_text(
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match blank_to_none(value) {
        Some(text) if text.chars().count() > max => Err(DomainError::invalid(
            field,
            format!("at most {max} characters"),
        )),
        other => Ok(other),
    }
}

/// Checks a SPIFFE ID (`spiffe://<trust domain>/<path>`) against the SPIFFE ID
/// specification: lower-case trust domain of letters, digits, `.`, `-`, `_`; a path of
/// non-empty segments of letters, digits, `.`, `-`, `_`, none `.` or `..`; no query,
/// fragment, port or user info; at most 2048 bytes.
pub fn parse_spiffe_id(value: &str) -> Result<String, DomainError> {
    let bad = |why: &str| {
        DomainError::invalid("spiffe_id", format!("'{value}' is not a SPIFFE ID: {why}"))
    };
    if value.len() > 2048 {
        return Err(bad("longer than 2048 bytes"));
    }
    let rest = value
        .strip_prefix("spiffe://")
        .ok_or_else(|| bad("it must start with spiffe://"))?;
    let (domain, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    if domain.is_empty() {
        return Err(bad("the trust domain is missing"));
    }
    if !domain
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
    {
        return Err(bad(
            "the trust domain may only have lower-case letters, digits, '.', '-' and '_'",
        ));
    }
    if path.is_empty() {
        return Err(bad("a workload needs a path after the trust domain"));
    }
    for segment in path[1..].split('/') {
        if segment.is_empty() {
            return Err(bad("the path has an empty segment or a trailing '/'"));
        }
        if segment == "." || segment == ".." {
            return Err(bad("the path may not have '.' or '..' segments"));
        }
        if !segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(bad(
                "the path may only have letters, digits, '.', '-' and '_'",
            ));
        }
    }
    Ok(value.to_owned())
}

/// Checks a reason, note or evidence text: required, at most 2000 characters.
pub fn required_text(field: &str, value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(
            field,
            format!("a {} is required", field.replace('_', " ")),
        ));
    }
    if value.chars().count() > IdentityDraft::MAX_TEXT {
        return Err(DomainError::invalid(
            field,
            format!("at most {} characters", IdentityDraft::MAX_TEXT),
        ));
    }
    Ok(value.to_owned())
}
