//! Findings: the detections of the checks, kept with a lifecycle. A finding is open
//! while its check fails; it is resolved when the check passes again, and reopened
//! when it fails once more. Instead of fixing it, the security team can accept the risk
//! for a while — with a justification, their name as approver and an expiry (NIST CSF
//! ID.RA-07); when the acceptance lapses and the check still fails, it is open again.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::catalog::{Catalog, Severity};
use super::checks::Detection;
use crate::error::DomainError;
use crate::string_enum::string_enum;

string_enum! {
    /// Where a finding is in its lifecycle.
    pub enum FindingState: "finding state" {
        /// The check fails and nobody has accepted the risk.
        Open = "open",
        /// The check fails, and the risk is accepted until a date.
        Accepted = "accepted",
        /// The check passes again.
        Resolved = "resolved",
    }
}

/// A risk accepted by the security team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskAcceptance {
    pub justification: String,
    /// Who approved it (the audit actor, e.g. `user:alice@example.com`).
    pub approver: String,
    pub accepted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// One check failing (or having failed) on one identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub identity_id: Uuid,
    pub check: String,
    pub title: String,
    pub severity: Severity,
    /// What exactly is wrong (several problems of one check are joined by `; `).
    pub detail: String,
    /// The controls this finding is evidence against.
    pub controls: Vec<String>,
    pub state: FindingState,
    /// When it was (last) opened.
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Present while (and after) the risk was accepted; cleared when reopened.
    pub acceptance: Option<RiskAcceptance>,
}

/// What the engine needs to know of a stored finding to bring it up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    pub check: String,
    pub state: FindingState,
    pub detail: String,
    pub accepted_until: Option<DateTime<Utc>>,
}

/// One change to an identity's findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingChange {
    /// A new finding, or a resolved one failing again: open, opened now, no acceptance.
    Open {
        check: String,
        severity: Severity,
        detail: String,
    },
    /// Still failing, but for other reasons: the detail changes, the state does not.
    Detail { check: String, detail: String },
    /// Passes now.
    Resolve { check: String },
    /// The acceptance expired while the check still fails: open again.
    AcceptanceLapsed { check: String, detail: String },
}

/// The outcome of bringing one identity's findings up to date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub changes: Vec<FindingChange>,
    /// Checks failing afterwards, open.
    pub open: Vec<String>,
    /// Checks failing afterwards, accepted.
    pub accepted: Vec<String>,
}

/// Longest detail kept for one finding.
pub const MAX_DETAIL_CHARS: usize = 1000;

/// The detections of one identity, one per check (details of the same check joined),
/// in the order the checks ran.
pub fn merge_detections(detections: &[Detection]) -> Vec<(&'static str, String)> {
    let mut merged: Vec<(&'static str, String)> = Vec::new();
    for detection in detections {
        match merged
            .iter_mut()
            .find(|(check, _)| *check == detection.check)
        {
            Some((_, detail)) => {
                detail.push_str("; ");
                detail.push_str(&detection.detail);
            }
            None => merged.push((detection.check, detection.detail.clone())),
        }
    }
    for (_, detail) in &mut merged {
        if detail.chars().count() > MAX_DETAIL_CHARS {
            *detail = detail
                .chars()
                .take(MAX_DETAIL_CHARS - 1)
                .collect::<String>()
                + "…";
        }
    }
    merged
}

/// Compares what the checks found now with what is stored and says what to change.
/// Checks unknown to the catalog are ignored (the catalog and the checks are verified
/// to agree by the test suite).
pub fn reconcile(
    stored: &[StoredFinding],
    detections: &[Detection],
    catalog: &Catalog,
    now: DateTime<Utc>,
) -> Reconciled {
    let mut out = Reconciled::default();
    let found = merge_detections(detections);
    let by_check: BTreeMap<&str, &StoredFinding> =
        stored.iter().map(|f| (f.check.as_str(), f)).collect();
    for (check, detail) in &found {
        let Some(definition) = catalog.check(check) else {
            continue;
        };
        match by_check.get(check) {
            None => {
                out.changes.push(FindingChange::Open {
                    check: (*check).to_owned(),
                    severity: definition.severity,
                    detail: detail.clone(),
                });
                out.open.push((*check).to_owned());
            }
            Some(existing) => match existing.state {
                FindingState::Resolved => {
                    out.changes.push(FindingChange::Open {
                        check: (*check).to_owned(),
                        severity: definition.severity,
                        detail: detail.clone(),
                    });
                    out.open.push((*check).to_owned());
                }
                FindingState::Accepted if existing.accepted_until.is_none_or(|t| t <= now) => {
                    out.changes.push(FindingChange::AcceptanceLapsed {
                        check: (*check).to_owned(),
                        detail: detail.clone(),
                    });
                    out.open.push((*check).to_owned());
                }
                state => {
                    if existing.detail != *detail {
                        out.changes.push(FindingChange::Detail {
                            check: (*check).to_owned(),
                            detail: detail.clone(),
                        });
                    }
                    if state == FindingState::Accepted {
                        out.accepted.push((*check).to_owned());
                    } else {
                        out.open.push((*check).to_owned());
                    }
                }
            },
        }
    }
    for existing in stored {
        let still = found.iter().any(|(check, _)| *check == existing.check);
        if !still && existing.state != FindingState::Resolved {
            out.changes.push(FindingChange::Resolve {
                check: existing.check.clone(),
            });
        }
    }
    out
}

/// Asking to accept the risk of one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcceptRiskRequest {
    /// Why the risk is acceptable for now (at least 10 characters).
    pub justification: String,
    /// Until when; at most a year ahead.
    pub expires_at: DateTime<Utc>,
}

impl AcceptRiskRequest {
    pub const MIN_JUSTIFICATION: usize = 10;
    pub const MAX_JUSTIFICATION: usize = 2000;
    pub const MAX_DAYS: i64 = 365;

    /// The justification trimmed, or what is wrong with the request.
    pub fn validated(&self, now: DateTime<Utc>) -> Result<String, DomainError> {
        let justification = self.justification.trim();
        let length = justification.chars().count();
        if length < Self::MIN_JUSTIFICATION {
            return Err(DomainError::invalid(
                "justification",
                format!(
                    "say why the risk is acceptable (at least {} characters)",
                    Self::MIN_JUSTIFICATION
                ),
            ));
        }
        if length > Self::MAX_JUSTIFICATION {
            return Err(DomainError::invalid(
                "justification",
                format!("at most {} characters", Self::MAX_JUSTIFICATION),
            ));
        }
        if self.expires_at <= now {
            return Err(DomainError::invalid(
                "expires_at",
                "an acceptance must end in the future",
            ));
        }
        if self.expires_at > now + Duration::days(Self::MAX_DAYS) {
            return Err(DomainError::invalid(
                "expires_at",
                format!(
                    "an acceptance lasts at most {} days; review it again then",
                    Self::MAX_DAYS
                ),
            ));
        }
        Ok(justification.to_owned())
    }
}

/// Asking to end a risk acceptance early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReopenRequest {
    pub reason: String,
}

impl ReopenRequest {
    pub fn validated(&self) -> Result<String, DomainError> {
        crate::identity::required_text("reason", &self.reason)
    }
}

/// What a full evaluation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvaluationReport {
    pub identities: u64,
    pub opened: u64,
    pub resolved: u64,
    pub lapsed: u64,
    pub open: u64,
    pub accepted: u64,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-29T12:00:00Z".parse().unwrap()
    }

    fn detection(check: &'static str, detail: &str) -> Detection {
        Detection {
            check,
            detail: detail.into(),
        }
    }

    fn stored(check: &str, state: FindingState, detail: &str) -> StoredFinding {
        StoredFinding {
            check: check.into(),
            state,
            detail: detail.into(),
            accepted_until: None,
        }
    }

    #[test]
    fn details_of_one_check_are_joined_and_bounded() {
        let merged = merge_detections(&[
            detection("rotation-overdue", "key a"),
            detection("no-owner", "nobody"),
            detection("rotation-overdue", "key b"),
        ]);
        assert_eq!(
            merged,
            vec![
                ("rotation-overdue", "key a; key b".to_owned()),
                ("no-owner", "nobody".to_owned())
            ]
        );
        let long = "x".repeat(MAX_DETAIL_CHARS + 50);
        let merged = merge_detections(&[detection("no-owner", &long)]);
        assert_eq!(merged[0].1.chars().count(), MAX_DETAIL_CHARS);
        assert!(merged[0].1.ends_with('…'));
    }

    #[test]
    fn a_new_detection_opens_a_finding_with_the_catalog_severity() {
        let out = reconcile(
            &[],
            &[detection("no-owner", "no owner is named")],
            Catalog::shipped(),
            now(),
        );
        assert_eq!(
            out.changes,
            vec![FindingChange::Open {
                check: "no-owner".into(),
                severity: Severity::High,
                detail: "no owner is named".into()
            }]
        );
        assert_eq!(out.open, vec!["no-owner".to_owned()]);
        assert!(out.accepted.is_empty());
    }

    #[test]
    fn an_unchanged_open_finding_needs_no_write() {
        let out = reconcile(
            &[stored("no-owner", FindingState::Open, "no owner is named")],
            &[detection("no-owner", "no owner is named")],
            Catalog::shipped(),
            now(),
        );
        assert!(out.changes.is_empty());
        assert_eq!(out.open, vec!["no-owner".to_owned()]);
    }

    #[test]
    fn a_changed_reason_updates_the_detail_only() {
        let out = reconcile(
            &[stored(
                "unused",
                FindingState::Open,
                "last used 91 days ago",
            )],
            &[detection("unused", "last used 92 days ago")],
            Catalog::shipped(),
            now(),
        );
        assert_eq!(
            out.changes,
            vec![FindingChange::Detail {
                check: "unused".into(),
                detail: "last used 92 days ago".into()
            }]
        );
    }

    #[test]
    fn a_passing_check_resolves_open_and_accepted_findings_but_not_resolved_ones() {
        let mut accepted = stored("no-expiry", FindingState::Accepted, "no expiry date");
        accepted.accepted_until = Some(now() + Duration::days(5));
        let out = reconcile(
            &[
                stored("no-owner", FindingState::Open, "x"),
                accepted,
                stored("unused", FindingState::Resolved, "y"),
            ],
            &[],
            Catalog::shipped(),
            now(),
        );
        assert_eq!(
            out.changes,
            vec![
                FindingChange::Resolve {
                    check: "no-owner".into()
                },
                FindingChange::Resolve {
                    check: "no-expiry".into()
                }
            ]
        );
        assert!(out.open.is_empty() && out.accepted.is_empty());
    }

    #[test]
    fn a_resolved_finding_failing_again_is_reopened() {
        let out = reconcile(
            &[stored(
                "no-owner",
                FindingState::Resolved,
                "no owner is named",
            )],
            &[detection("no-owner", "no owner is named")],
            Catalog::shipped(),
            now(),
        );
        assert!(matches!(out.changes[..], [FindingChange::Open { .. }]));
        assert_eq!(out.open, vec!["no-owner".to_owned()]);
    }

    #[test]
    fn an_acceptance_holds_until_it_expires() {
        let mut accepted = stored("no-expiry", FindingState::Accepted, "no expiry date");
        accepted.accepted_until = Some(now() + Duration::seconds(1));
        let still = reconcile(
            std::slice::from_ref(&accepted),
            &[detection("no-expiry", "no expiry date")],
            Catalog::shipped(),
            now(),
        );
        assert!(still.changes.is_empty());
        assert_eq!(still.accepted, vec!["no-expiry".to_owned()]);

        let lapsed = reconcile(
            &[accepted],
            &[detection("no-expiry", "no expiry date")],
            Catalog::shipped(),
            now() + Duration::seconds(1),
        );
        assert_eq!(
            lapsed.changes,
            vec![FindingChange::AcceptanceLapsed {
                check: "no-expiry".into(),
                detail: "no expiry date".into()
            }]
        );
        assert_eq!(lapsed.open, vec!["no-expiry".to_owned()]);
    }

    #[test]
    fn checks_unknown_to_the_catalog_are_ignored() {
        let out = reconcile(
            &[],
            &[detection("no-such-check", "?")],
            Catalog::shipped(),
            now(),
        );
        assert_eq!(out, Reconciled::default());
    }

    #[test]
    fn an_acceptance_needs_a_reason_and_a_bounded_future_expiry() {
        let ok = AcceptRiskRequest {
            justification: "  compensating control: network isolated  ".into(),
            expires_at: now() + Duration::days(30),
        };
        assert_eq!(
            ok.validated(now()).unwrap(),
            "compensating control: network isolated"
        );
        let short = AcceptRiskRequest {
            justification: "ok".into(),
            ..ok.clone()
        };
        assert!(matches!(
            short.validated(now()),
            Err(DomainError::InvalidInput { field, .. }) if field == "justification"
        ));
        let past = AcceptRiskRequest {
            expires_at: now(),
            ..ok.clone()
        };
        assert!(matches!(
            past.validated(now()),
            Err(DomainError::InvalidInput { field, .. }) if field == "expires_at"
        ));
        let far = AcceptRiskRequest {
            expires_at: now() + Duration::days(366),
            ..ok
        };
        assert!(matches!(
            far.validated(now()),
            Err(DomainError::InvalidInput { field, .. }) if field == "expires_at"
        ));
    }
}
