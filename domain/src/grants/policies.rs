//! Eligibility policies: who may request which just-in-time entitlement for which
//! identities, for how long and approved how, and whether an identity is in a policy's
//! scope. What an admin configures, kept apart from the grants requested under it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::identity::required_text;
use crate::inventory::{IdentityQuery, IdentitySummary};
use crate::string_enum::string_enum;

use super::{TimeWindow, MAX_GRANT_MINUTES};

string_enum! {
    /// How a request under a policy is approved.
    pub enum ApprovalMode: "approval mode" {
        /// Active as soon as it is requested (within the policy's windows).
        Automatic = "automatic",
        /// The identity's owner (or sponsor) approves.
        Owner = "owner",
        /// Someone of the security team approves.
        SecurityTeam = "security_team",
        /// Two different people approve: the owner or sponsor, and the security team.
        TwoApprovers = "two_approvers",
    }
}

string_enum! {
    /// Who may request under a policy.
    pub enum Requesters: "requesters" {
        /// The identity's owner or sponsor.
        Owners = "owners",
        /// Anyone in the identity's team (and its owner or sponsor).
        Team = "team",
        /// Anyone signed in.
        Anyone = "anyone",
    }
}

/// An eligibility policy as an admin writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyDraft {
    pub name: String,
    /// The just-in-time entitlements it covers: a resource (`payments-db`), or a class of
    /// them by prefix (`payments-*`).
    pub resource: String,
    /// The action (`admin`, `write`, …), or `*` for any.
    pub action: String,
    /// The identities it covers, as an inventory filter (empty: all).
    #[serde(default)]
    pub scope: String,
    pub requesters: Requesters,
    pub approval: ApprovalMode,
    pub max_minutes: u32,
    #[serde(default)]
    pub reason_required: bool,
    /// When requests are allowed, e.g. `["mon-fri 08:00-18:00"]` (UTC); empty: always.
    #[serde(default)]
    pub windows: Vec<String>,
}

impl PolicyDraft {
    /// The draft cleaned up, with its parsed windows, or what is wrong (the field named).
    pub fn validated(&self) -> Result<(PolicyDraft, Vec<TimeWindow>), DomainError> {
        let name = required_text("name", &self.name)?;
        let resource = self.resource.trim().to_owned();
        if resource.is_empty() || resource == "*" {
            return Err(DomainError::invalid(
                "resource",
                "name a resource, or a class of them by prefix such as payments-*",
            ));
        }
        // Everything but the last character (by characters: a byte index could fall
        // inside one, which schemathesis found).
        if resource.chars().rev().skip(1).any(|c| c == '*') {
            return Err(DomainError::invalid(
                "resource",
                "a '*' may only end the resource (a prefix)",
            ));
        }
        let action = self.action.trim().to_owned();
        if action.is_empty() {
            return Err(DomainError::invalid(
                "action",
                "name an action, or * for any",
            ));
        }
        let scope = IdentityQuery::from_query_string(self.scope.trim())
            .map_err(|e| DomainError::invalid("scope", format!("not an inventory filter: {e}")))?;
        if scope.finding.is_some()
            || scope.control.is_some()
            || scope.credential_age.is_some()
            || scope.ungoverned
        {
            return Err(DomainError::invalid(
                "scope",
                "a policy's scope filters on the identity itself (class, kind, source, env, status, owner, team, orphaned, expired, expiring, stale, q), not on findings or credentials",
            ));
        }
        if !(1..=MAX_GRANT_MINUTES).contains(&self.max_minutes) {
            return Err(DomainError::invalid(
                "max_minutes",
                format!("between 1 and {MAX_GRANT_MINUTES} minutes (7 days)"),
            ));
        }
        let windows = self
            .windows
            .iter()
            .filter(|w| !w.trim().is_empty())
            .map(|w| TimeWindow::parse(w))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((
            PolicyDraft {
                name,
                resource,
                action,
                scope: scope.filter_only().to_query_string(),
                windows: windows.iter().map(ToString::to_string).collect(),
                ..self.clone()
            },
            windows,
        ))
    }

    /// Whether the policy covers an entitlement to `action` on `resource`.
    pub fn covers(&self, resource: &str, action: &str) -> bool {
        let resource_ok = match self.resource.strip_suffix('*') {
            Some(prefix) => resource.starts_with(prefix),
            None => resource == self.resource,
        };
        resource_ok && (self.action == "*" || self.action == action)
    }

    /// Whether a request at `at` is inside one of the windows (always, without any).
    pub fn allows_at(&self, at: DateTime<Utc>) -> bool {
        let windows: Vec<TimeWindow> = self
            .windows
            .iter()
            .filter_map(|w| TimeWindow::parse(w).ok())
            .collect();
        windows.is_empty() || windows.iter().any(|w| w.contains(at))
    }
}

/// Whether an identity is in a policy's scope (a filter on the identity's own
/// attributes, as [`PolicyDraft::validated`] allows), judged at `now`.
pub fn in_scope(scope: &IdentityQuery, identity: &IdentitySummary, now: DateTime<Utc>) -> bool {
    let days = |d: u32| Duration::days(i64::from(d));
    let text = |value: &Option<String>, needle: &str| {
        value
            .as_deref()
            .is_some_and(|v| v.to_lowercase().contains(needle))
    };
    scope.actor_class.is_none_or(|c| c == identity.actor_class)
        && scope.kind.is_none_or(|k| k == identity.kind)
        && scope.source.is_none_or(|s| s == identity.source)
        && scope
            .environment
            .as_ref()
            .is_none_or(|e| *e == identity.environment)
        && scope.status.is_none_or(|s| s == identity.status)
        && scope.owner.as_ref().is_none_or(|email| {
            identity
                .owner
                .as_ref()
                .is_some_and(|o| o.email.eq_ignore_ascii_case(email))
        })
        && scope
            .team
            .as_ref()
            .is_none_or(|t| identity.team.as_deref() == Some(t.as_str()))
        && (!scope.orphaned || identity.is_orphaned())
        && (!scope.expired || identity.is_expired(now))
        && scope.expiring_days.is_none_or(|d| {
            identity
                .expires_at
                .is_some_and(|at| at > now && at <= now + days(d))
        })
        && scope
            .stale_days
            .is_none_or(|d| identity.last_used_at.is_none_or(|at| at < now - days(d)))
        && scope.search.as_ref().is_none_or(|q| {
            let needle = q.to_lowercase();
            identity.name.to_lowercase().contains(&needle)
                || text(&identity.external_id, &needle)
                || text(&identity.spiffe_id, &needle)
        })
}

/// A stored eligibility policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Policy {
    pub id: Uuid,
    #[serde(flatten)]
    pub draft: PolicyDraft,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The name of the policy that outranks this one on everything it covers (see
    /// [`precedence`]): while it is set, nothing is ever requested under this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadowed_by: Option<String>,
}
