//! A campaign's life: creating it, launching it (its scope snapshotted into review
//! items and its next recurrence scheduled, in one transaction) and closing it with its
//! close policy.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::campaigns::{
    choose_reviewer, Campaign, CampaignState, CloseOutcome, ClosePolicy, CreateCampaign,
    ItemReviewer, ItemSnapshot, Remediation, SnapshotFinding, SnapshotPeer, TEMPLATES,
};
use steward_domain::inventory::{IdentityQuery, IdentitySummary};
use steward_domain::posture::findings::FindingState;
use steward_domain::DomainError;
use uuid::Uuid;

use crate::services::write_error;
use crate::store::campaigns::writes::{
    close_campaign, insert_campaign, insert_item, launch_campaign,
};
use crate::store::posture::Scope;
use crate::store::write::WriteError;

use super::{campaign_target, CampaignService, LAUNCH_PAGE};

impl CampaignService {
    /// The review items of one page of identities: what each shows and who reviews it.
    async fn snapshots(
        &self,
        page: &[IdentitySummary],
    ) -> Result<Vec<(Uuid, ItemSnapshot, ItemReviewer)>, DomainError> {
        if page.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = page.iter().map(|s| s.id).collect();
        let mut subjects: BTreeMap<Uuid, _> = self
            .store
            .check_subjects(&Scope::Ids(&ids))
            .await?
            .into_iter()
            .map(|e| (e.subject.id, e.subject))
            .collect();
        let mut findings = self.store.stored_findings(&Scope::Ids(&ids)).await?;
        let sponsors = self.store.sponsors_of(&ids).await?;
        let peers: Vec<Uuid> = subjects
            .values()
            .flat_map(|s| s.delegates_to.iter().map(|p| p.id))
            .collect();
        let names = self.store.identity_names(&peers).await?;
        let mut out = Vec::with_capacity(page.len());
        for summary in page {
            let Some(subject) = subjects.remove(&summary.id) else {
                continue; // deleted between the two reads: nothing to review
            };
            let mut open: Vec<SnapshotFinding> = findings
                .remove(&summary.id)
                .unwrap_or_default()
                .into_iter()
                .filter(|f| f.state == FindingState::Open)
                .filter_map(|f| {
                    self.catalog.check(&f.check).map(|check| SnapshotFinding {
                        check: f.check.clone(),
                        title: check.title.clone(),
                        severity: check.severity,
                    })
                })
                .collect();
            open.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.check.cmp(&b.check)));
            let sponsor = sponsors.get(&summary.id).cloned();
            let snapshot = ItemSnapshot {
                name: summary.name.clone(),
                kind: summary.kind,
                actor_class: summary.actor_class,
                environment: summary.environment.clone(),
                status: summary.status,
                team: summary.team.clone(),
                owner: summary.owner.clone(),
                sponsor: sponsor.as_ref().map(|(p, _)| p.clone()),
                purpose: subject.purpose.clone(),
                last_used_at: summary.last_used_at,
                expires_at: summary.expires_at,
                findings: open,
                entitlements: subject
                    .entitlements
                    .into_iter()
                    .filter(|e| e.removed_at.is_none())
                    .collect(),
                credentials: subject
                    .credentials
                    .into_iter()
                    .filter(|c| c.revoked_at.is_none())
                    .collect(),
                delegates_to: subject
                    .delegates_to
                    .iter()
                    .map(|p| SnapshotPeer {
                        id: p.id,
                        name: names
                            .get(&p.id)
                            .cloned()
                            .unwrap_or_else(|| p.id.to_string()),
                        delegation: p.delegation,
                        permissions: p.permissions.iter().cloned().collect(),
                    })
                    .collect(),
                delegated_from: subject.delegated_from.len() as u32,
            };
            let reviewer = choose_reviewer(
                summary.owner.clone().map(|o| (o, summary.owner_active)),
                sponsor,
            );
            out.push((summary.id, snapshot, reviewer.into()));
        }
        Ok(out)
    }

    /// Launches a scheduled campaign: snapshots its scope into review items, opens it
    /// and schedules its next recurrence — in one transaction. Returns the item count.
    pub async fn launch(
        &self,
        id: Uuid,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, DomainError> {
        let campaign = self.campaign(id).await?;
        if campaign.state != CampaignState::Scheduled {
            return Err(DomainError::Conflict {
                message: format!(
                    "campaign '{}' is already {}",
                    campaign.draft.name, campaign.state
                ),
            });
        }
        let mut query = IdentityQuery::from_query_string(&campaign.draft.scope)?;
        query.limit = LAUNCH_PAGE;
        let fail = |e: WriteError| write_error(e, "the next campaign of this one already exists");
        let mut tx = self.store.begin_write().await.map_err(fail)?;
        tx.run(&[launch_campaign(id, now)]).await.map_err(fail)?;
        let mut items = 0u64;
        loop {
            let page = self.store.list_identities_at(&query, now).await?;
            let mut statements = Vec::with_capacity(page.items.len());
            for (identity, snapshot, reviewer) in self.snapshots(&page.items).await? {
                statements.push(insert_item(
                    Uuid::now_v7(),
                    id,
                    identity,
                    &snapshot,
                    &reviewer,
                )?);
            }
            items += statements.len() as u64;
            tx.run(&statements).await.map_err(fail)?;
            match page.next_cursor {
                Some(cursor) => query = query.with_cursor(&cursor)?,
                None => break,
            }
        }
        let successor = match campaign.draft.next() {
            Some(next) => {
                let next_id = Uuid::now_v7();
                tx.run(&[insert_campaign(
                    next_id,
                    &next,
                    CampaignState::Scheduled,
                    campaign.template.as_deref(),
                    actor,
                    now,
                    Some(id),
                )?])
                .await
                .map_err(fail)?;
                Some((next_id, next.starts_at))
            }
            None => None,
        };
        let mut events = vec![NewAuditEvent::new(
            actor,
            AuditAction::CampaignLaunch,
            campaign_target(id),
            json!({ "items": items, "scope": campaign.draft.scope,
                    "next_campaign": successor.map(|(id, _)| id) }),
        )];
        if let Some((next_id, starts_at)) = successor {
            events.push(NewAuditEvent::new(
                actor,
                AuditAction::CampaignSchedule,
                campaign_target(next_id),
                json!({ "recurs_from": id, "starts_at": starts_at }),
            ));
        }
        tx.commit(&events).await.map_err(fail)?;
        Ok(items)
    }

    pub(super) async fn create(
        &self,
        principal: Option<&Principal>,
        request: &CreateCampaign,
    ) -> Result<Campaign, DomainError> {
        authorize(principal, Action::ManageCampaigns)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let (draft, _) = request.draft.validated()?;
        let now = Utc::now();
        if draft.due_at <= now {
            return Err(DomainError::invalid(
                "due_at",
                "the due date has already passed",
            ));
        }
        if let Some(template) = &request.template {
            if !TEMPLATES.iter().any(|t| t.id == template) {
                return Err(DomainError::invalid(
                    "template",
                    format!("'{template}' is not a campaign template"),
                ));
            }
        }
        let id = Uuid::now_v7();
        let actor = principal.audit_actor();
        let statement = insert_campaign(
            id,
            &draft,
            CampaignState::Scheduled,
            request.template.as_deref(),
            &actor,
            now,
            None,
        )?;
        let event = NewAuditEvent::new(
            actor.clone(),
            AuditAction::CampaignCreate,
            campaign_target(id),
            json!({ "draft": draft, "template": request.template }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        if draft.starts_at <= now {
            self.launch(id, &actor, now).await?;
        }
        self.campaign(id).await
    }

    pub(super) async fn close(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<Campaign, DomainError> {
        authorize(principal, Action::ManageCampaigns)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let campaign = self.campaign(id).await?;
        if campaign.state != CampaignState::Open {
            return Err(DomainError::Conflict {
                message: format!(
                    "campaign '{}' is {}; only an open campaign can be closed",
                    campaign.draft.name, campaign.state
                ),
            });
        }
        let (outcome, remediation) = match campaign.draft.close_policy {
            ClosePolicy::Keep => (CloseOutcome::Kept, Remediation::NotNeeded),
            ClosePolicy::Revoke => (CloseOutcome::Revoked, Remediation::Pending),
        };
        let now = Utc::now();
        // The first statement's count is the number of undecided items.
        let statements = close_campaign(id, outcome, remediation, now);
        let actor = principal.audit_actor();
        let (items, decided) = (campaign.items, campaign.decided);
        self.store
            .write(&statements, |counts| {
                vec![NewAuditEvent::new(
                    actor,
                    AuditAction::CampaignClose,
                    campaign_target(id),
                    json!({ "close_policy": campaign.draft.close_policy, "items": items,
                            "decided": decided, "undecided": counts[0], "outcome": outcome }),
                )]
            })
            .await
            .map_err(|e| write_error(e, ""))?;
        if outcome == CloseOutcome::Revoked {
            for item in self.store.pending_close_items(id).await? {
                self.remediate(&item, principal).await?;
            }
        }
        self.campaign(id).await
    }
}
