//! Just-in-time grants: the eligibility policies that say who may request which
//! just-in-time entitlement for which identities (for how long, approved how, when),
//! and the pure rules of a grant's life — requesting, approving (the clock starts at
//! approval), denying, extending within the maximum, revoking and expiring.

pub mod precedence;

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::identity::{required_text, Privilege};
use crate::inventory::{IdentityQuery, IdentitySummary};
use crate::string_enum::string_enum;

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

string_enum! {
    /// Where a grant is in its life. Grants are never deleted.
    pub enum GrantState: "grant state" {
        /// Waiting for approval.
        Pending = "pending",
        /// Approved; the entitlement is usable until `expires_at`.
        Active = "active",
        Denied = "denied",
        /// Its time ran out.
        Expired = "expired",
        /// Ended early by a person.
        Revoked = "revoked",
        /// Withdrawn by the requester before a decision.
        Cancelled = "cancelled",
    }
}

impl GrantState {
    /// No further change is possible.
    pub fn is_final(self) -> bool {
        !matches!(self, GrantState::Pending | GrantState::Active)
    }
}

/// The longest a grant may be asked for under any policy: 7 days.
pub const MAX_GRANT_MINUTES: u32 = 7 * 24 * 60;

/// A time of the week, in UTC, during which requests are allowed: days and hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeWindow {
    /// Monday = 1 … Sunday = 7.
    pub days: Vec<u8>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "08:00"))]
    pub from: NaiveTime,
    /// Exclusive; before `from` means the window runs past midnight.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "18:00"))]
    pub to: NaiveTime,
}

fn weekday_number(name: &str) -> Option<u8> {
    Some(match name {
        "mon" => 1,
        "tue" => 2,
        "wed" => 3,
        "thu" => 4,
        "fri" => 5,
        "sat" => 6,
        "sun" => 7,
        _ => return None,
    })
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl TimeWindow {
    /// Parses `mon-fri 08:00-18:00`, `sat,sun 10:00-12:00` or `daily 22:00-06:00`.
    pub fn parse(text: &str) -> Result<TimeWindow, DomainError> {
        let wrong = |why: &str| {
            DomainError::invalid(
                "windows",
                format!("'{}' {why}; write e.g. 'mon-fri 08:00-18:00'", text.trim()),
            )
        };
        let (days, hours) = text
            .trim()
            .split_once(' ')
            .ok_or_else(|| wrong("needs days and hours"))?;
        let mut numbers = Vec::new();
        for part in days.trim().to_lowercase().split(',') {
            if part == "daily" {
                numbers.extend(1..=7);
                continue;
            }
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (
                        weekday_number(a).ok_or_else(|| wrong("has an unknown day"))?,
                        weekday_number(b).ok_or_else(|| wrong("has an unknown day"))?,
                    );
                    if a > b {
                        return Err(wrong("has a day range running backwards"));
                    }
                    numbers.extend(a..=b);
                }
                None => {
                    numbers.push(weekday_number(part).ok_or_else(|| wrong("has an unknown day"))?)
                }
            }
        }
        numbers.sort_unstable();
        numbers.dedup();
        let (from, to) = hours
            .trim()
            .split_once('-')
            .ok_or_else(|| wrong("needs hours as HH:MM-HH:MM"))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .map_err(|_| wrong("has a time that is not HH:MM"))
        };
        let (from, to) = (time(from)?, time(to)?);
        if from == to {
            return Err(wrong("is empty (it starts when it ends)"));
        }
        Ok(TimeWindow {
            days: numbers,
            from,
            to,
        })
    }

    /// Whether `at` falls in the window. A window past midnight belongs to the day it
    /// starts on.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let day = at.weekday().number_from_monday() as u8;
        let time = at.time();
        if self.from < self.to {
            self.days.contains(&day) && time >= self.from && time < self.to
        } else {
            let previous = if day == 1 { 7 } else { day - 1 };
            (self.days.contains(&day) && time >= self.from)
                || (self.days.contains(&previous) && time < self.to)
        }
    }
}

impl std::fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = if self.days.len() == 7 {
            "daily".to_owned()
        } else {
            self.days
                .iter()
                .map(|d| WEEKDAYS[usize::from(d - 1)])
                .collect::<Vec<_>>()
                .join(",")
        };
        write!(
            f,
            "{days} {}-{}",
            self.from.format("%H:%M"),
            self.to.format("%H:%M")
        )
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

/// What a requester asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    pub identity_id: Uuid,
    /// The identity's just-in-time entitlement to activate.
    pub entitlement_id: Uuid,
    /// How long, from approval (default: the policy's maximum).
    #[serde(default)]
    pub minutes: Option<u32>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// One approval of a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    pub by: String,
    pub person_id: Uuid,
    /// Approved as `owner` (owner or sponsor) or `security_team`.
    pub capacity: String,
    pub at: DateTime<Utc>,
}

/// A just-in-time grant with its whole history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub identity_name: String,
    pub entitlement_id: Uuid,
    pub resource: String,
    pub action: String,
    pub privilege: Privilege,
    pub policy_id: Uuid,
    pub approval_mode: ApprovalMode,
    pub minutes: u32,
    pub reason: Option<String>,
    pub requested_by: String,
    pub requester_person_id: Option<Uuid>,
    pub requested_at: DateTime<Utc>,
    pub state: GrantState,
    pub approvals: Vec<Approval>,
    /// Who denied, revoked or cancelled it, and why.
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
    /// When it became active (the clock starts here) and when it ends.
    pub starts_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// When it left `pending` or `active`.
    pub ended_at: Option<DateTime<Utc>>,
}

impl Grant {
    pub fn scope(&self) -> String {
        format!("{}:{}", self.resource, self.action)
    }

    /// Active and not past its expiry at `now` (the worker may not have run yet).
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.state == GrantState::Active && self.expires_at.is_some_and(|e| e > now)
    }
}

/// A just-in-time entitlement of an identity that a policy makes requestable, with
/// the grant open on it (pending or active), if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EligibleEntitlement {
    pub entitlement: crate::identity::Entitlement,
    pub policy: Policy,
    pub current: Option<Grant>,
    /// Whether the caller may request it.
    pub may_request: bool,
    /// Whether the policy's windows allow a request now.
    pub open_now: bool,
}

/// Why a grant is denied or revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EndRequest {
    pub reason: String,
}

/// How many more minutes an active grant gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExtendRequest {
    pub minutes: u32,
}

/// A grant with its timeline from the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantView {
    pub grant: Grant,
    pub timeline: Vec<crate::audit::AuditEvent>,
}

/// Which grants to list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GrantList {
    /// Active grants, optionally of one identity, of identities one person owns, or
    /// expiring within some minutes.
    Active {
        identity: Option<Uuid>,
        owner: Option<String>,
        expiring_minutes: Option<u32>,
    },
    /// The caller's own requests (every state), newest first.
    Mine,
    /// Pending grants the caller can approve.
    ToApprove,
}

/// A short-lived credential for an active grant (a signed JWT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedCredential {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    pub expires_at: DateTime<Utc>,
    pub scope: String,
    pub jti: Uuid,
}

/// What token introspection (RFC 7662) says of a credential. An inactive one says
/// nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The grant the credential stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<Uuid>,
}

/// The longest a credential lives (it never outlives its grant either).
pub const CREDENTIAL_MINUTES: i64 = 15;

/// How many approvals a mode needs.
pub fn approvals_needed(mode: ApprovalMode) -> usize {
    match mode {
        ApprovalMode::Automatic => 0,
        ApprovalMode::Owner | ApprovalMode::SecurityTeam => 1,
        ApprovalMode::TwoApprovers => 2,
    }
}

/// What the rules need to know about someone acting on a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub person_id: Uuid,
    /// The identity's owner or sponsor.
    pub owns: bool,
    /// In the identity's team.
    pub in_team: bool,
    /// Of the security team (admin).
    pub security: bool,
}

/// Whether `actor` may request under a policy with these requesters.
pub fn may_request(requesters: Requesters, actor: &Actor) -> Result<(), DomainError> {
    let allowed = match requesters {
        Requesters::Owners => actor.owns,
        Requesters::Team => actor.owns || actor.in_team,
        Requesters::Anyone => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(DomainError::Forbidden {
            reason: match requesters {
                Requesters::Owners => {
                    "only the identity's owner or sponsor may request this".into()
                }
                _ => "only the identity's team, owner or sponsor may request this".into(),
            },
        })
    }
}

/// In which capacity `actor` may approve a pending grant, or why not: never their own
/// request, never twice, and only in a capacity the mode still needs.
/// Whether `actor` may extend an active grant: one that was active at once may be
/// extended by whoever manages it; one that needed approval only by someone who could
/// have approved it, never by its requester alone (an extension is more access, and
/// needs the same approval as the first).
pub fn may_extend(grant: &Grant, actor: &Actor) -> Result<(), DomainError> {
    let approver = match grant.approval_mode {
        ApprovalMode::Automatic => return Ok(()),
        ApprovalMode::Owner => actor.owns || actor.security,
        ApprovalMode::SecurityTeam | ApprovalMode::TwoApprovers => actor.security,
    };
    if grant.requester_person_id == Some(actor.person_id) || !approver {
        return Err(DomainError::Forbidden {
            reason: format!(
                "this grant needed approval ({}): an approver other than its requester extends it, or request it again",
                grant.approval_mode
            ),
        });
    }
    Ok(())
}

pub fn approval_capacity(grant: &Grant, actor: &Actor) -> Result<&'static str, DomainError> {
    if grant.state != GrantState::Pending {
        return Err(DomainError::Conflict {
            message: format!("this grant is {}, not waiting for approval", grant.state),
        });
    }
    if grant.requester_person_id == Some(actor.person_id) {
        return Err(DomainError::Forbidden {
            reason: "nobody approves their own request".into(),
        });
    }
    if grant
        .approvals
        .iter()
        .any(|a| a.person_id == actor.person_id)
    {
        return Err(DomainError::Conflict {
            message: "you have already approved this grant; it needs another approver".into(),
        });
    }
    let has = |capacity: &str| grant.approvals.iter().any(|a| a.capacity == capacity);
    let capacity = match grant.approval_mode {
        ApprovalMode::Automatic => None,
        ApprovalMode::Owner => actor.owns.then_some("owner"),
        ApprovalMode::SecurityTeam => actor.security.then_some("security_team"),
        ApprovalMode::TwoApprovers => {
            if actor.owns && !has("owner") {
                Some("owner")
            } else if actor.security && !has("security_team") {
                Some("security_team")
            } else {
                None
            }
        }
    };
    capacity.ok_or_else(|| DomainError::Forbidden {
        reason: match grant.approval_mode {
            ApprovalMode::Owner => "only the identity's owner or sponsor approves this grant".into(),
            ApprovalMode::SecurityTeam => "only the security team approves this grant".into(),
            _ => "this grant needs an approval you cannot give (the owner's or the security team's, from two different people)".into(),
        },
    })
}

/// Checks a request against its policy at `now`: the window, the reason, the duration.
/// Returns the duration in minutes.
pub fn check_request(
    policy: &PolicyDraft,
    request: &GrantRequest,
    now: DateTime<Utc>,
) -> Result<u32, DomainError> {
    if !policy.allows_at(now) {
        return Err(DomainError::Forbidden {
            reason: format!(
                "requests under '{}' are allowed only {} (UTC)",
                policy.name,
                policy.windows.join(" or ")
            ),
        });
    }
    let reason = request.reason.as_deref().map(str::trim).unwrap_or("");
    if policy.reason_required && reason.is_empty() {
        return Err(DomainError::invalid(
            "reason",
            "this policy requires a reason",
        ));
    }
    if reason.chars().count() > 2000 {
        return Err(DomainError::invalid("reason", "at most 2000 characters"));
    }
    let minutes = request.minutes.unwrap_or(policy.max_minutes);
    if minutes == 0 || minutes > policy.max_minutes {
        return Err(DomainError::invalid(
            "minutes",
            format!(
                "between 1 and {} minutes under '{}'",
                policy.max_minutes, policy.name
            ),
        ));
    }
    Ok(minutes)
}

/// The new expiry when an active grant is extended by `minutes`: its total time from
/// approval stays within the policy's maximum.
pub fn extended_expiry(
    grant: &Grant,
    minutes: u32,
    max_minutes: u32,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, DomainError> {
    if !grant.is_usable(now) {
        return Err(DomainError::Conflict {
            message: format!(
                "only an active grant can be extended; this one is {}",
                grant.state
            ),
        });
    }
    let (Some(starts), Some(expires)) = (grant.starts_at, grant.expires_at) else {
        return Err(DomainError::Internal);
    };
    let new = expires + Duration::minutes(i64::from(minutes));
    if minutes == 0 || new - starts > Duration::minutes(i64::from(max_minutes)) {
        let left = (starts + Duration::minutes(i64::from(max_minutes)) - expires).num_minutes();
        return Err(DomainError::invalid(
            "minutes",
            format!(
                "a grant lasts at most {max_minutes} minutes from approval; it can be extended by at most {} more",
                left.max(0)
            ),
        ));
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn policy() -> PolicyDraft {
        PolicyDraft {
            name: "payments break-glass".into(),
            resource: "payments-*".into(),
            action: "admin".into(),
            scope: "env=prod".into(),
            requesters: Requesters::Owners,
            approval: ApprovalMode::TwoApprovers,
            max_minutes: 120,
            reason_required: true,
            windows: vec!["mon-fri 08:00-18:00".into()],
        }
    }

    fn grant(mode: ApprovalMode) -> Grant {
        Grant {
            id: Uuid::from_u128(1),
            identity_id: Uuid::from_u128(2),
            identity_name: "billing-sync".into(),
            entitlement_id: Uuid::from_u128(3),
            resource: "payments-db".into(),
            action: "admin".into(),
            privilege: Privilege::Admin,
            policy_id: Uuid::from_u128(4),
            approval_mode: mode,
            minutes: 60,
            reason: Some("incident 42".into()),
            requested_by: "user:req@example.com".into(),
            requester_person_id: Some(Uuid::from_u128(10)),
            requested_at: at("2026-11-30T09:00:00Z"),
            state: GrantState::Pending,
            approvals: vec![],
            ended_by: None,
            end_reason: None,
            starts_at: None,
            expires_at: None,
            ended_at: None,
        }
    }

    fn actor(n: u128, owns: bool, security: bool) -> Actor {
        Actor {
            person_id: Uuid::from_u128(n),
            owns,
            in_team: false,
            security,
        }
    }

    #[test]
    fn a_grant_that_needed_approval_is_extended_only_by_an_approver_other_than_its_requester() {
        let requester_owner = actor(10, true, false);
        let other_owner = actor(11, true, false);
        let admin = actor(12, false, true);
        let requester_admin = actor(10, false, true);
        assert!(may_extend(&grant(ApprovalMode::Automatic), &requester_owner).is_ok());
        let owner_approved = grant(ApprovalMode::Owner);
        let refused = may_extend(&owner_approved, &requester_owner).unwrap_err();
        assert!(
            refused.to_string().contains("request it again"),
            "{refused}"
        );
        assert!(may_extend(&owner_approved, &other_owner).is_ok());
        assert!(may_extend(&owner_approved, &admin).is_ok());
        for mode in [ApprovalMode::SecurityTeam, ApprovalMode::TwoApprovers] {
            assert!(may_extend(&grant(mode), &other_owner).is_err());
            assert!(may_extend(&grant(mode), &admin).is_ok());
            assert!(may_extend(&grant(mode), &requester_admin).is_err());
        }
    }

    #[test]
    fn windows_parse_print_and_contain() {
        let w = TimeWindow::parse("Mon-Fri 08:00-18:00").unwrap();
        assert_eq!(w.days, vec![1, 2, 3, 4, 5]);
        assert_eq!(w.to_string(), "mon,tue,wed,thu,fri 08:00-18:00");
        // 2026-11-30 is a Monday.
        assert!(w.contains(at("2026-11-30T08:00:00Z")));
        assert!(!w.contains(at("2026-11-30T18:00:00Z")));
        assert!(!w.contains(at("2026-11-29T12:00:00Z")), "Sunday");
        let night = TimeWindow::parse("fri 22:00-06:00").unwrap();
        assert!(night.contains(at("2026-12-04T23:00:00Z")), "Friday night");
        assert!(night.contains(at("2026-12-05T05:59:00Z")), "early Saturday");
        assert!(
            !night.contains(at("2026-12-05T22:30:00Z")),
            "Saturday night"
        );
        assert_eq!(
            TimeWindow::parse("daily 10:00-11:00").unwrap().days.len(),
            7
        );
        for bad in [
            "mon",
            "fri-mon 08:00-18:00",
            "mon 8-18",
            "xyz 08:00-09:00",
            "mon 09:00-09:00",
        ] {
            assert!(TimeWindow::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn policies_validate_and_cover_entitlements() {
        let (p, windows) = policy().validated().unwrap();
        assert_eq!(windows.len(), 1);
        assert!(p.covers("payments-db", "admin"));
        assert!(!p.covers("payments-db", "read"));
        assert!(!p.covers("billing-db", "admin"));
        let any = PolicyDraft {
            action: "*".into(),
            resource: "ledger".into(),
            ..policy()
        };
        assert!(any.covers("ledger", "write"));
        assert!(!any.covers("ledger-2", "write"));
        let field = |d: PolicyDraft| match d.validated() {
            Err(DomainError::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(PolicyDraft {
                resource: "*".into(),
                ..policy()
            }),
            "resource"
        );
        assert_eq!(
            field(PolicyDraft {
                resource: "pay*ments".into(),
                ..policy()
            }),
            "resource"
        );
        // Multi-byte characters last (found by schemathesis: a byte slice panicked).
        for resource in ["z?\u{14}\u{7e494}\u{bb843}", "ünïcødé*", "*é", "é**"] {
            let refused = PolicyDraft {
                resource: resource.into(),
                ..policy()
            }
            .validated()
            .is_err();
            assert_eq!(
                refused,
                resource.starts_with('*') || resource.ends_with("**"),
                "{resource}"
            );
        }
        assert_eq!(
            field(PolicyDraft {
                max_minutes: 0,
                ..policy()
            }),
            "max_minutes"
        );
        assert_eq!(
            field(PolicyDraft {
                max_minutes: MAX_GRANT_MINUTES + 1,
                ..policy()
            }),
            "max_minutes"
        );
        assert_eq!(
            field(PolicyDraft {
                scope: "colour=red".into(),
                ..policy()
            }),
            "scope"
        );
        assert_eq!(
            field(PolicyDraft {
                windows: vec!["someday".into()],
                ..policy()
            }),
            "windows"
        );
        assert_eq!(
            field(PolicyDraft {
                scope: "finding=any".into(),
                ..policy()
            }),
            "scope"
        );
    }

    #[test]
    fn requests_respect_windows_reasons_and_the_maximum() {
        let p = policy();
        let request = GrantRequest {
            identity_id: Uuid::from_u128(2),
            entitlement_id: Uuid::from_u128(3),
            minutes: Some(60),
            reason: Some("incident 42".into()),
        };
        let monday = at("2026-11-30T09:00:00Z");
        assert_eq!(check_request(&p, &request, monday).unwrap(), 60);
        assert!(matches!(
            check_request(&p, &request, at("2026-11-29T09:00:00Z")),
            Err(DomainError::Forbidden { .. })
        ));
        let no_reason = GrantRequest {
            reason: Some(" ".into()),
            ..request.clone()
        };
        assert!(
            matches!(check_request(&p, &no_reason, monday), Err(DomainError::InvalidInput { field, .. }) if field == "reason")
        );
        let too_long = GrantRequest {
            minutes: Some(121),
            ..request.clone()
        };
        assert!(
            matches!(check_request(&p, &too_long, monday), Err(DomainError::InvalidInput { field, .. }) if field == "minutes")
        );
        let default = GrantRequest {
            minutes: None,
            ..request
        };
        assert_eq!(check_request(&p, &default, monday).unwrap(), 120);
    }

    #[test]
    fn who_requests_and_who_approves() {
        assert!(may_request(Requesters::Owners, &actor(1, true, false)).is_ok());
        assert!(may_request(
            Requesters::Owners,
            &Actor {
                in_team: true,
                ..actor(1, false, false)
            }
        )
        .is_err());
        assert!(may_request(
            Requesters::Team,
            &Actor {
                in_team: true,
                ..actor(1, false, false)
            }
        )
        .is_ok());
        assert!(may_request(Requesters::Anyone, &actor(1, false, false)).is_ok());

        let owner_mode = grant(ApprovalMode::Owner);
        assert_eq!(
            approval_capacity(&owner_mode, &actor(11, true, false)).unwrap(),
            "owner"
        );
        assert!(
            approval_capacity(&owner_mode, &actor(12, false, true)).is_err(),
            "security cannot stand in for the owner"
        );
        // Nobody approves their own request, even as owner.
        assert!(approval_capacity(&owner_mode, &actor(10, true, true)).is_err());

        let mut two = grant(ApprovalMode::TwoApprovers);
        assert_eq!(
            approval_capacity(&two, &actor(11, true, true)).unwrap(),
            "owner"
        );
        two.approvals.push(Approval {
            by: "user:o@example.com".into(),
            person_id: Uuid::from_u128(11),
            capacity: "owner".into(),
            at: at("2026-11-30T09:05:00Z"),
        });
        assert!(
            approval_capacity(&two, &actor(11, true, true)).is_err(),
            "not twice"
        );
        assert!(
            approval_capacity(&two, &actor(13, true, false)).is_err(),
            "a second owner is not the security team"
        );
        assert_eq!(
            approval_capacity(&two, &actor(12, false, true)).unwrap(),
            "security_team"
        );
        assert_eq!(approvals_needed(ApprovalMode::TwoApprovers), 2);

        let done = Grant {
            state: GrantState::Active,
            ..grant(ApprovalMode::Owner)
        };
        assert!(matches!(
            approval_capacity(&done, &actor(11, true, false)),
            Err(DomainError::Conflict { .. })
        ));
    }

    #[test]
    fn extensions_stay_within_the_maximum_from_approval() {
        let start = at("2026-11-30T09:00:00Z");
        let active = Grant {
            state: GrantState::Active,
            starts_at: Some(start),
            expires_at: Some(start + Duration::minutes(60)),
            ..grant(ApprovalMode::Owner)
        };
        let now = start + Duration::minutes(30);
        assert_eq!(
            extended_expiry(&active, 60, 120, now).unwrap(),
            start + Duration::minutes(120)
        );
        assert!(matches!(
            extended_expiry(&active, 61, 120, now),
            Err(DomainError::InvalidInput { .. })
        ));
        assert!(
            matches!(
                extended_expiry(&active, 10, 120, start + Duration::minutes(61)),
                Err(DomainError::Conflict { .. })
            ),
            "an expired grant is not extended"
        );
        assert!(GrantState::Expired.is_final() && !GrantState::Active.is_final());
    }
}
