//! The pure rules of reviewing: who reviews an item, what a decision is and when it is
//! acceptable, when reminders and escalations are due, and reading a decision from a
//! form. Separate from the records so the rules can be read (and tested) on their own.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::inventory::PersonRef;
use crate::posture::catalog::Severity;

use super::{CampaignDraft, Escalation, ItemReviewer, ReviewerKind};

/// Who reviews an item and why them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Reviewer {
    Owner(PersonRef),
    /// The owner is missing or has left.
    Sponsor(PersonRef),
    /// Neither an active owner nor an active sponsor.
    SecurityTeam,
}

/// The reviewer rule: the active owner, else the active sponsor, else the security team.
/// `None` or a person who left (`false`) does not review.
pub fn choose_reviewer(
    owner: Option<(PersonRef, bool)>,
    sponsor: Option<(PersonRef, bool)>,
) -> Reviewer {
    match (owner, sponsor) {
        (Some((owner, true)), _) => Reviewer::Owner(owner),
        (_, Some((sponsor, true))) => Reviewer::Sponsor(sponsor),
        _ => Reviewer::SecurityTeam,
    }
}

/// A reviewer's answer about one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Named apart from the authorization decision (`policy::Decision`): both were
// "Decision" in the OpenAPI document, where the later one replaced the other.
#[cfg_attr(feature = "openapi", schema(as = ReviewDecision))]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Still needed, rightly owned, access as it is.
    Certify { comment: Option<String> },
    /// Not needed: retire the identity (or revoke what is reviewed).
    Revoke { comment: String },
    /// Keep the identity, remove these entitlements.
    Reduce {
        entitlements: Vec<Uuid>,
        comment: Option<String>,
    },
    /// Someone else should decide.
    Reassign { to: String, comment: String },
    /// Keep it until a date, then it expires.
    Expire {
        at: DateTime<Utc>,
        comment: Option<String>,
    },
}

/// What the rules need to know about the item a decision is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFacts {
    /// The worst open finding of the identity, if any.
    pub worst_finding: Option<Severity>,
    /// Its active entitlements.
    pub entitlements: Vec<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
}

fn comment_given(comment: &Option<String>) -> bool {
    comment.as_deref().is_some_and(|c| !c.trim().is_empty())
}

/// Checks a decision against the item: a comment to certify an identity with a high or
/// critical finding, a reason to revoke or reassign, entitlements that are the item's
/// own, an expiry in the future and not later than the current one.
pub fn check_decision(
    decision: &Decision,
    item: &ItemFacts,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    match decision {
        Decision::Certify { comment } => {
            if item.worst_finding.is_some_and(|s| s >= Severity::High) && !comment_given(comment) {
                return Err(DomainError::invalid(
                    "comment",
                    "this identity has a high-severity finding: say why it is certified anyway",
                ));
            }
        }
        Decision::Revoke { comment } | Decision::Reassign { comment, .. } => {
            if comment.trim().is_empty() {
                return Err(DomainError::invalid("comment", "say why"));
            }
            if let Decision::Reassign { to, .. } = decision {
                crate::auth::normalize_email(to)
                    .map_err(|_| DomainError::invalid("to", "the new reviewer's email"))?;
            }
        }
        Decision::Reduce { entitlements, .. } => {
            if entitlements.is_empty() {
                return Err(DomainError::invalid(
                    "entitlements",
                    "choose the entitlements to remove",
                ));
            }
            if let Some(foreign) = entitlements.iter().find(|e| !item.entitlements.contains(e)) {
                return Err(DomainError::invalid(
                    "entitlements",
                    format!("{foreign} is not an active entitlement of this identity"),
                ));
            }
        }
        Decision::Expire { at, .. } => {
            if *at <= now {
                return Err(DomainError::invalid(
                    "at",
                    "the expiry must be in the future",
                ));
            }
            if item.expires_at.is_some_and(|current| *at > current) {
                return Err(DomainError::invalid(
                    "at",
                    "a review can only set or shorten the expiry, not extend it",
                ));
            }
        }
    }
    Ok(())
}

/// Whether a reviewer with undecided items should be reminded now: the campaign has
/// started, and the last reminder (if any) is at least `remind_every_days` and at least
/// one day old — never more than one reminder a day.
pub fn reminder_due(
    draft: &CampaignDraft,
    last_reminded: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    if now < draft.starts_at {
        return false;
    }
    let every = Duration::days(i64::from(draft.remind_every_days.max(1)));
    match last_reminded {
        None => now >= draft.starts_at + every || now >= draft.due_at - Duration::days(1),
        Some(last) => now - last >= every.max(Duration::days(1)),
    }
}

/// Whether undecided items are overdue and escalate.
pub fn overdue(draft: &CampaignDraft, now: DateTime<Utc>) -> bool {
    now > draft.due_at
}

impl Decision {
    /// The decision's name as stored and shown: certify, revoke, reduce, reassign, expire.
    pub fn name(&self) -> &'static str {
        match self {
            Decision::Certify { .. } => "certify",
            Decision::Revoke { .. } => "revoke",
            Decision::Reduce { .. } => "reduce",
            Decision::Reassign { .. } => "reassign",
            Decision::Expire { .. } => "expire",
        }
    }

    pub fn comment(&self) -> Option<&str> {
        match self {
            Decision::Certify { comment }
            | Decision::Reduce { comment, .. }
            | Decision::Expire { comment, .. } => comment.as_deref(),
            Decision::Revoke { comment } | Decision::Reassign { comment, .. } => {
                Some(comment.as_str())
            }
        }
        .map(str::trim)
        .filter(|c| !c.is_empty())
    }

    /// Whether carrying it out changes the register.
    pub fn changes_access(&self) -> bool {
        matches!(
            self,
            Decision::Revoke { .. } | Decision::Reduce { .. } | Decision::Expire { .. }
        )
    }
}

/// A decision from a form's fields: the decision's name, the comment, the new
/// reviewer's email (reassign), the expiry date `YYYY-MM-DD` (expire, at 00:00 UTC) and
/// the ids of the entitlements to remove (reduce).
pub fn decision_from_form(
    kind: &str,
    comment: Option<String>,
    to: Option<String>,
    at: Option<&str>,
    entitlements: &[String],
) -> Result<Decision, DomainError> {
    let comment = comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    Ok(match kind {
        "certify" => Decision::Certify { comment },
        "revoke" => Decision::Revoke {
            comment: comment.unwrap_or_default(),
        },
        "reduce" => Decision::Reduce {
            entitlements: entitlements
                .iter()
                .map(|e| {
                    e.trim().parse().map_err(|_| {
                        DomainError::invalid(
                            "entitlements",
                            format!("'{e}' is not an entitlement id"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            comment,
        },
        "reassign" => Decision::Reassign {
            to: to.unwrap_or_default().trim().to_owned(),
            comment: comment.unwrap_or_default(),
        },
        "expire" => {
            let day = at
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .ok_or_else(|| DomainError::invalid("at", "choose the date it expires"))?;
            let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| {
                DomainError::invalid("at", format!("'{day}' is not a date (YYYY-MM-DD)"))
            })?;
            Decision::Expire {
                at: day.and_time(chrono::NaiveTime::MIN).and_utc(),
                comment,
            }
        }
        other => {
            return Err(DomainError::unknown_value(
                "decision",
                other,
                &["certify", "revoke", "reduce", "reassign", "expire"],
            ))
        }
    })
}

/// Where an overdue item goes under the campaign's escalation rule: the active
/// sponsor (unless the sponsor already reviews it), else the security team. `None`:
/// it already is with the security team.
pub fn escalate(
    escalation: Escalation,
    current: &ItemReviewer,
    sponsor: Option<(PersonRef, bool)>,
) -> Option<ItemReviewer> {
    if current.kind == ReviewerKind::SecurityTeam {
        return None;
    }
    if escalation == Escalation::Sponsor {
        if let Some((sponsor, true)) = sponsor {
            let already = current.person.as_ref().is_some_and(|p| p.id == sponsor.id);
            if !already {
                return Some(ItemReviewer {
                    kind: ReviewerKind::Sponsor,
                    person: Some(sponsor),
                });
            }
        }
    }
    Some(ItemReviewer {
        kind: ReviewerKind::SecurityTeam,
        person: None,
    })
}
