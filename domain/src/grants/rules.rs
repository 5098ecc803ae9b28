//! The pure rules of a grant's life: who may request, approve and extend, checking a
//! request against its policy, and how far an extension may go.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::error::DomainError;

use super::{ApprovalMode, Grant, GrantRequest, GrantState, PolicyDraft, Requesters};

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
