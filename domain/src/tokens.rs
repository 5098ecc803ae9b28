//! API tokens for automation: scoped, expiring, shown once, stored as a hash.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Scope;
use crate::error::DomainError;

/// Longest lifetime of a token, in days.
pub const MAX_TOKEN_DAYS: u32 = 365;

/// Request to create a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewTokenRequest {
    /// What the token is for, e.g. `ci-inventory-sync` (1–64 characters).
    pub name: String,
    /// At least one of `inventory:read`, `audit:read`, `tokens:write`.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub scopes: Vec<Scope>,
    /// Lifetime in days, 1–365. Required: tokens always expire.
    pub expires_in_days: u32,
    /// The agent (an identity) this token acts for at runtime: with scope
    /// `authz:decide` it asks `POST /api/v1/authorize` for that agent's decisions.
    #[serde(default)]
    pub agent_id: Option<Uuid>,
    /// For an agent token: the one environment its decisions act in. A request naming
    /// another is denied; one naming none acts there.
    #[serde(default)]
    pub environment: Option<String>,
}

impl NewTokenRequest {
    /// The request with its name trimmed and scopes deduplicated, or what is wrong.
    pub fn validated(&self) -> Result<NewTokenRequest, DomainError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(DomainError::invalid(
                "name",
                "give the token a name of 1 to 64 characters",
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(DomainError::invalid(
                "name",
                "use letters, digits, '-', '_' and '.' only",
            ));
        }
        if self.scopes.is_empty() {
            return Err(DomainError::invalid(
                "scopes",
                "give the token at least one scope",
            ));
        }
        if !(1..=MAX_TOKEN_DAYS).contains(&self.expires_in_days) {
            return Err(DomainError::invalid(
                "expires_in_days",
                format!("a token must expire within 1 to {MAX_TOKEN_DAYS} days"),
            ));
        }
        let mut scopes = self.scopes.clone();
        scopes.sort();
        scopes.dedup();
        let environment = match self.environment.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(_) if self.agent_id.is_none() => {
                return Err(DomainError::invalid(
                    "environment",
                    "only a token made for an agent (agent_id) is bound to an environment",
                ))
            }
            Some(environment) => Some(crate::inventory::parse_environment(environment)?),
        };
        Ok(NewTokenRequest {
            name: name.to_owned(),
            scopes,
            expires_in_days: self.expires_in_days,
            agent_id: self.agent_id,
            environment,
        })
    }
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: Uuid,
    /// The `api_client` identity that represents this token in the register.
    pub identity_id: Uuid,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub scopes: Vec<Scope>,
    pub owner_email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The token this one was made with, if a token caller made it: it is revoked
    /// with its parent.
    #[serde(default)]
    pub parent_id: Option<Uuid>,
}

/// What a token caller's new token may be: scopes within its own and a lifetime ending
/// no later than its own (a token never mints more than it holds). Returns the new
/// token's expiry, or the scope it does not hold.
pub fn child_token_bounds(
    parent_scopes: &[Scope],
    parent_expires_at: DateTime<Utc>,
    requested: &NewTokenRequest,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, DomainError> {
    if let Some(extra) = requested
        .scopes
        .iter()
        .find(|scope| !parent_scopes.contains(scope))
    {
        return Err(DomainError::Forbidden {
            reason: format!(
                "a token can only create tokens within its own scopes, and this one does not hold {extra}"
            ),
        });
    }
    let wanted = now + chrono::Duration::days(i64::from(requested.expires_in_days));
    Ok(wanted.min(parent_expires_at))
}

/// A newly created token: the secret is in `token`, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    /// Send as `Authorization: Bearer <token>`. Steward keeps only its hash.
    pub token: String,
    pub info: TokenInfo,
}

/// Parses a space-separated scope list.
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, DomainError> {
    text.split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_mints_only_what_it_holds_and_never_outlives_itself() {
        let now = Utc::now();
        let parent_expires = now + chrono::Duration::days(2);
        let request = |scopes: Vec<Scope>, days| NewTokenRequest {
            name: "child".into(),
            scopes,
            expires_in_days: days,
            agent_id: None,
            environment: None,
        };
        let held = [Scope::TokensWrite, Scope::InventoryRead];
        assert_eq!(
            child_token_bounds(
                &held,
                parent_expires,
                &request(vec![Scope::InventoryRead], 30),
                now
            )
            .unwrap(),
            parent_expires,
            "a longer lifetime is cut to the parent's"
        );
        assert_eq!(
            child_token_bounds(
                &held,
                parent_expires,
                &request(vec![Scope::InventoryRead], 1),
                now
            )
            .unwrap(),
            now + chrono::Duration::days(1)
        );
        let refused = child_token_bounds(
            &held,
            parent_expires,
            &request(vec![Scope::InventoryRead, Scope::InventoryWrite], 1),
            now,
        )
        .unwrap_err();
        assert!(refused.to_string().contains("inventory:write"), "{refused}");
    }

    #[test]
    fn validation_names_the_field() {
        let ok = NewTokenRequest {
            name: " ci-sync ".into(),
            scopes: vec![Scope::InventoryRead, Scope::InventoryRead],
            expires_in_days: 30,
            agent_id: None,
            environment: None,
        };
        let v = ok.validated().unwrap();
        assert_eq!(v.name, "ci-sync");
        assert_eq!(v.scopes, vec![Scope::InventoryRead]);
        let bad = |f: fn(&mut NewTokenRequest)| {
            let mut r = ok.clone();
            f(&mut r);
            r.validated().unwrap_err().to_string()
        };
        assert_eq!(
            bad(|r| r.expires_in_days = 0),
            "invalid expires_in_days: a token must expire within 1 to 365 days"
        );
        assert_eq!(
            bad(|r| r.expires_in_days = 366),
            "invalid expires_in_days: a token must expire within 1 to 365 days"
        );
        assert_eq!(
            bad(|r| r.scopes.clear()),
            "invalid scopes: give the token at least one scope"
        );
        assert_eq!(
            bad(|r| r.name = "a b".into()),
            "invalid name: use letters, digits, '-', '_' and '.' only"
        );
        assert_eq!(
            parse_scopes("inventory:read, audit:read").unwrap(),
            vec![Scope::InventoryRead, Scope::AuditRead]
        );
        assert!(parse_scopes("inventory:delete").is_err());
    }
}
