//! Carrying decisions out through the inventory port (so they are authorized and
//! audited like manual changes), recording whether it worked, and retrying.

use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Credential, Principal};
use steward_domain::campaigns::{CloseOutcome, Decision, Remediation, ReviewItem};
use steward_domain::identity::RetireRequest;
use steward_domain::inventory::IdentityStatus;
use steward_domain::DomainError;
use uuid::Uuid;

use crate::services::write_error;
use crate::store::campaigns::writes::record_remediation;

use super::{campaign_target, CampaignService};

impl CampaignService {
    /// Carries out what an item's outcome asks for, as `acting` within the campaign,
    /// and records whether it worked.
    pub(super) async fn remediate(
        &self,
        item: &ReviewItem,
        acting: &Principal,
    ) -> Result<ReviewItem, DomainError> {
        let decision = match (&item.decision, item.close_outcome) {
            (Some(decision), _) => decision.clone(),
            (None, Some(CloseOutcome::Revoked)) => Decision::Revoke {
                comment: "not certified when the campaign closed; its close policy revokes".into(),
            },
            _ => return Ok(item.clone()),
        };
        let reviewer = Principal {
            credential: Credential::Review {
                campaign_id: item.campaign_id,
            },
            ..acting.clone()
        };
        let (state, note) = match self.carry_out(&reviewer, item, &decision).await {
            Ok(note) => (Remediation::Done, note),
            Err(error) => (Remediation::Failed, error.to_string()),
        };
        let statement = record_remediation(item.id, state, &note);
        let event = NewAuditEvent::new(
            reviewer.audit_actor(),
            AuditAction::CampaignRemediate,
            campaign_target(item.campaign_id),
            json!({ "item_id": item.id, "identity_id": item.identity_id, "identity": item.snapshot.name,
                    "remediation": state, "note": note }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.item(item.id).await
    }

    /// Makes the change a decision asks for through the inventory port; says what was done.
    async fn carry_out(
        &self,
        reviewer: &Principal,
        item: &ReviewItem,
        decision: &Decision,
    ) -> Result<String, DomainError> {
        let id = item.identity_id;
        let (summary, _) = self
            .store
            .find_identity(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {id}")))?;
        if summary.status == IdentityStatus::Retired {
            return Ok("nothing to do: the identity is already retired".into());
        }
        let inventory = &self.inventory;
        match decision {
            Decision::Revoke { comment } if item.reviewed.ownership => {
                let report = inventory
                    .retire(
                        Some(reviewer),
                        id,
                        &RetireRequest {
                            evidence: format!(
                                "revoked in access review \"{}\": {}",
                                item.campaign_name,
                                comment.trim()
                            ),
                        },
                    )
                    .await?;
                Ok(format!(
                    "retired: {} credentials revoked, {} entitlements removed, {} delegations removed",
                    report.credentials_revoked, report.entitlements_removed, report.delegations_removed
                ))
            }
            Decision::Revoke { .. } => {
                let mut done = Vec::new();
                if item.reviewed.entitlements {
                    for e in self.store.entitlements_of(id).await? {
                        if e.removed_at.is_none() {
                            inventory
                                .remove_entitlement(Some(reviewer), id, e.id)
                                .await?;
                            done.push(format!("removed {}", e.permission()));
                        }
                    }
                }
                if item.reviewed.credentials {
                    for c in self.store.credentials_of(id).await? {
                        if c.revoked_at.is_none() {
                            inventory
                                .revoke_credential(Some(reviewer), id, c.id)
                                .await?;
                            done.push(format!("revoked credential {}", c.key_id));
                        }
                    }
                }
                Ok(if done.is_empty() {
                    "nothing left to revoke".to_owned()
                } else {
                    done.join("; ")
                })
            }
            Decision::Reduce { entitlements, .. } => {
                let mut done = Vec::new();
                for e in self.store.entitlements_of(id).await? {
                    if entitlements.contains(&e.id) && e.removed_at.is_none() {
                        inventory
                            .remove_entitlement(Some(reviewer), id, e.id)
                            .await?;
                        done.push(format!("removed {}", e.permission()));
                    }
                }
                Ok(if done.is_empty() {
                    "those entitlements were already removed".to_owned()
                } else {
                    done.join("; ")
                })
            }
            Decision::Expire { at, comment } => {
                let reason = format!(
                    "access review \"{}\"{}",
                    item.campaign_name,
                    comment
                        .as_deref()
                        .map(|c| format!(": {}", c.trim()))
                        .unwrap_or_default()
                );
                inventory
                    .set_expiry(Some(reviewer), id, *at, &reason)
                    .await?;
                Ok(format!("expires {}", at.format("%Y-%m-%d %H:%M UTC")))
            }
            Decision::Certify { .. } | Decision::Reassign { .. } => Ok("nothing to change".into()),
        }
    }

    pub(super) async fn retry_remediation(
        &self,
        principal: Option<&Principal>,
        item_id: Uuid,
    ) -> Result<ReviewItem, DomainError> {
        authorize(principal, Action::ManageCampaigns)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let item = self.item(item_id).await?;
        if !matches!(item.remediation, Remediation::Pending | Remediation::Failed) {
            return Err(DomainError::Conflict {
                message: format!("nothing to retry: remediation is {}", item.remediation),
            });
        }
        self.remediate(&item, principal).await
    }
}
