//! The reviewers' side: their inbox, deciding items one by one or in bulk, and handing
//! an item to someone else; each decision only while the item is still theirs.

use chrono::Utc;
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, normalize_email, Action, Principal, Role};
use steward_domain::campaigns::{
    check_decision, BulkDecision, BulkOutcome, CampaignState, CloseOutcome, Decision, ItemFacts,
    Remediation, ReviewItem, MAX_BULK_ITEMS,
};
use steward_domain::DomainError;
use uuid::Uuid;

use crate::services::notify::Announcement;
use crate::services::write_error;
use crate::store::campaigns::writes::{decide_item, reassign_item};
use crate::store::notify::writes::notification;
use crate::store::write::WriteError;

use super::{campaign_target, CampaignService, INBOX_LIMIT};

impl CampaignService {
    /// The conflict a reviewer is told when their write found the item changed.
    async fn lost_race(&self, item_id: Uuid) -> DomainError {
        let message = match self.store.find_item(item_id).await {
            Ok(Some(item)) => match (&item.decision, item.close_outcome) {
                (Some(decision), _) => format!(
                    "{} already decided this item ({}) at {}; your decision was not recorded",
                    item.decided_by.as_deref().unwrap_or("another reviewer"),
                    decision.name(),
                    item.decided_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
                ),
                (None, Some(outcome)) => format!(
                    "the campaign was closed and this item {} by its close policy; your decision was not recorded",
                    match outcome { CloseOutcome::Kept => "kept", CloseOutcome::Revoked => "revoked" }
                ),
                (None, None) => format!(
                    "this item is now with {}; your decision was not recorded",
                    item.reviewer.label()
                ),
            },
            _ => "this item changed meanwhile; your decision was not recorded".to_owned(),
        };
        DomainError::Conflict { message }
    }

    /// Refuses what the caller may not do with the item: decide it unless it is theirs
    /// (any admin for the security team's), or anything once it is decided or the
    /// campaign is not open.
    fn check_reviewer(
        item: &ReviewItem,
        principal: &Principal,
        reassigning: bool,
    ) -> Result<(), DomainError> {
        let admin = principal.role == Role::Admin;
        let allowed = item.decidable_by(principal.person_id, admin) || (reassigning && admin);
        if !allowed {
            return Err(DomainError::Forbidden {
                reason: format!(
                    "this item is for {} to review, not you",
                    item.reviewer.label()
                ),
            });
        }
        Ok(())
    }

    async fn check_open(&self, item: &ReviewItem) -> Result<(), DomainError> {
        let campaign = self.campaign(item.campaign_id).await?;
        if campaign.state != CampaignState::Open {
            return Err(DomainError::Conflict {
                message: format!(
                    "campaign '{}' is {}; its items cannot be decided",
                    campaign.draft.name, campaign.state
                ),
            });
        }
        Ok(())
    }

    async fn reassign(
        &self,
        principal: &Principal,
        item: &ReviewItem,
        to: &str,
        comment: &str,
    ) -> Result<ReviewItem, DomainError> {
        let email = normalize_email(to)
            .map_err(|_| DomainError::invalid("to", "the new reviewer's email"))?;
        let person = self
            .store
            .find_person_by_email(&email)
            .await?
            .ok_or_else(|| {
                DomainError::invalid(
                    "to",
                    format!("nobody with the email {email} is in the directory"),
                )
            })?;
        if !person.active {
            return Err(DomainError::invalid("to", format!("{email} has left")));
        }
        if !self
            .store
            .find_user_by_email(&email)
            .await?
            .is_some_and(|u| u.active)
        {
            return Err(DomainError::invalid(
                "to",
                format!("{email} has no Steward account to review with"),
            ));
        }
        if item
            .reviewer
            .person
            .as_ref()
            .is_some_and(|p| p.id == person.id)
        {
            return Err(DomainError::invalid(
                "to",
                format!("{email} already reviews this item"),
            ));
        }
        let now = Utc::now();
        let update = reassign_item(item.id, person.id, &item.reviewer);
        let message = format!(
            "{} handed you the review of {} in \"{}\" (due {}): {}",
            principal.display_name,
            item.snapshot.name,
            item.campaign_name,
            item.due_at.format("%Y-%m-%d"),
            comment.trim()
        );
        let mut statements = vec![
            update,
            notification(person.id, Some(item.identity_id), &message, now),
        ];
        statements.extend(self.webhooks.outbox(
            &Announcement {
                event: "campaign.reassigned",
                text: message.clone(),
                data: json!({ "campaign_id": item.campaign_id, "campaign": item.campaign_name,
                              "item_id": item.id, "identity": item.snapshot.name,
                              "reviewer": email, "url": self.webhooks.config().link("/reviews") }),
            },
            now,
        ));
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::CampaignReassign,
            campaign_target(item.campaign_id),
            json!({ "item_id": item.id, "identity_id": item.identity_id, "identity": item.snapshot.name,
                    "from": item.reviewer.label(), "to": email, "comment": comment.trim() }),
        );
        match self.store.write(&statements, |_| vec![event]).await {
            Ok(_) => {}
            Err(WriteError::Precondition(_)) => return Err(self.lost_race(item.id).await),
            Err(e) => return Err(write_error(e, "")),
        }
        self.webhooks.deliver_soon(&self.store);
        self.item(item.id).await
    }

    pub(super) async fn my_reviews(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<ReviewItem>, DomainError> {
        authorize(principal, Action::ReviewAccess)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        Ok(self
            .store
            .reviews_for(
                principal.person_id,
                principal.role == Role::Admin,
                INBOX_LIMIT,
            )
            .await?)
    }

    pub(super) async fn decide(
        &self,
        principal: Option<&Principal>,
        item_id: Uuid,
        decision: &Decision,
    ) -> Result<ReviewItem, DomainError> {
        authorize(principal, Action::ReviewAccess)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let item = self.item(item_id).await?;
        let reassigning = matches!(decision, Decision::Reassign { .. });
        Self::check_reviewer(&item, principal, reassigning)?;
        self.check_open(&item).await?;
        if item.is_decided() {
            return Err(self.lost_race(item_id).await);
        }
        let (summary, _) = self
            .store
            .find_identity(item.identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {}", item.identity_id)))?;
        let facts = ItemFacts {
            worst_finding: item.snapshot.worst_finding(),
            entitlements: self
                .store
                .entitlements_of(item.identity_id)
                .await?
                .into_iter()
                .filter(|e| e.removed_at.is_none())
                .map(|e| e.id)
                .collect(),
            expires_at: summary.expires_at,
        };
        let now = Utc::now();
        check_decision(decision, &facts, now)?;
        if matches!(decision, Decision::Reduce { .. }) && !item.reviewed.entitlements {
            return Err(DomainError::invalid(
                "decision",
                "this campaign does not review entitlements; certify, revoke or let it expire",
            ));
        }
        if let Decision::Reassign { to, comment } = decision {
            return self.reassign(principal, &item, to, comment).await;
        }
        let remediation = if decision.changes_access() {
            Remediation::Pending
        } else {
            Remediation::NotNeeded
        };
        let statement = decide_item(
            item.id,
            decision,
            &principal.audit_actor(),
            now,
            remediation,
            &item.reviewer,
        )?;
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::CampaignDecide,
            campaign_target(item.campaign_id),
            json!({ "item_id": item.id, "identity_id": item.identity_id,
                    "identity": item.snapshot.name, "reviewer": item.reviewer.label(),
                    "decision": decision }),
        );
        match self.store.write(&[statement], |_| vec![event]).await {
            Ok(_) => {}
            Err(WriteError::Precondition(_)) => return Err(self.lost_race(item_id).await),
            Err(e) => return Err(write_error(e, "")),
        }
        let decided = self.item(item_id).await?;
        if decided.remediation == Remediation::Pending {
            self.remediate(&decided, principal).await
        } else {
            Ok(decided)
        }
    }

    pub(super) async fn decide_many(
        &self,
        principal: Option<&Principal>,
        request: &BulkDecision,
    ) -> Result<BulkOutcome, DomainError> {
        authorize(principal, Action::ReviewAccess)?;
        if !request.confirm {
            return Err(DomainError::invalid(
                "confirm",
                format!(
                    "confirm that you {} all {} items",
                    request.decision.name(),
                    request.items.len()
                ),
            ));
        }
        if request.items.is_empty() {
            return Err(DomainError::invalid("items", "choose the items to decide"));
        }
        if request.items.len() > MAX_BULK_ITEMS {
            return Err(DomainError::invalid(
                "items",
                format!("at most {MAX_BULK_ITEMS} items at once"),
            ));
        }
        if matches!(request.decision, Decision::Reduce { .. }) {
            return Err(DomainError::invalid(
                "decision",
                "reducing entitlements is decided item by item",
            ));
        }
        let mut outcome = BulkOutcome {
            decided: Vec::new(),
            refused: Vec::new(),
        };
        // Each item on its own: one refused item does not hold back the others, and
        // each is decided (and carried out) exactly as a single decision would be.
        for id in &request.items {
            match self.decide(principal, *id, &request.decision).await {
                Ok(_) => outcome.decided.push(*id),
                Err(DomainError::Internal) => return Err(DomainError::Internal),
                Err(error) => outcome.refused.push((*id, error.to_string())),
            }
        }
        Ok(outcome)
    }
}
