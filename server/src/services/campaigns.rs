//! Access review campaigns: creating and launching them (the scope is snapshotted into
//! review items), the reviewers' decisions and carrying them out through the inventory
//! port (so they are authorized and audited like manual changes), reminders and
//! escalations on a schedule, closing with the close policy, and the evidence pack.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use steward_domain::audit::NewAuditEvent;
use steward_domain::auth::{authorize, normalize_email, Action, Credential, Principal, Role};
use steward_domain::campaigns::{
    check_decision, choose_reviewer, escalate, overdue, reminder_due, BulkDecision, BulkOutcome,
    Campaign, CampaignDetail, CampaignOverview, CampaignState, CloseOutcome, ClosePolicy,
    CreateCampaign, Decision, Evidence, EvidenceRow, ItemFacts, ItemFilter, ItemPage, ItemReviewer,
    ItemSnapshot, Progress, Remediation, ReviewItem, ReviewerKind, SnapshotFinding, SnapshotPeer,
    MAX_BULK_ITEMS, TEMPLATES,
};
use steward_domain::identity::RetireRequest;
use steward_domain::inventory::{IdentityQuery, IdentityStatus, IdentitySummary};
use steward_domain::ports::{Campaigns, Inventory};
use steward_domain::posture::catalog::Catalog;
use steward_domain::posture::findings::FindingState;
use steward_domain::DomainError;
use uuid::Uuid;

use super::inventory::write_error;
use super::notify::{Announcement, Webhooks};
use crate::store::campaigns::{
    insert_campaign, insert_item, reviewer_condition, SECURITY_TEAM_KEY,
};
use crate::store::notify::writes::notification;
use crate::store::posture::Scope;
use crate::store::write::{Statement, WriteError};
use crate::store::Store;

/// Who the scheduler's changes are recorded as.
pub const CAMPAIGN_ACTOR: &str = "system:campaigns";
/// Identities snapshotted per step of a launch.
const LAUNCH_PAGE: u32 = 500;
/// The most items a Reviews inbox lists at once.
const INBOX_LIMIT: i64 = 500;
/// The most overdue items a page lists.
const OVERDUE_LIMIT: i64 = 100;
/// Items escalated per step of the sweep.
const ESCALATION_BATCH: i64 = 500;
/// A decided item whose change is still pending after this long is carried out again
/// by the scheduler (the process stopped between the decision and the change).
const STALE_REMEDIATION_MINUTES: i64 = 10;

fn campaign_target(id: Uuid) -> String {
    format!("campaign:{id}")
}

/// What one run of the scheduler did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    pub launched: u64,
    pub reminded: u64,
    pub escalated: u64,
    pub remediated: u64,
    pub webhooks_delivered: u64,
}

pub struct CampaignService {
    store: Store,
    inventory: Arc<dyn Inventory>,
    webhooks: Webhooks,
    catalog: &'static Catalog,
}

/// The principal the scheduler carries out decisions as (retries after a restart).
fn system_principal(campaign_id: Uuid) -> Principal {
    Principal {
        user_id: Uuid::nil(),
        person_id: Uuid::nil(),
        email: CAMPAIGN_ACTOR.to_owned(),
        display_name: "Steward".to_owned(),
        role: Role::Admin,
        credential: Credential::Review { campaign_id },
    }
}

impl CampaignService {
    pub fn new(store: Store, inventory: Arc<dyn Inventory>, webhooks: Webhooks) -> Self {
        CampaignService {
            store,
            inventory,
            webhooks,
            catalog: Catalog::shipped(),
        }
    }

    async fn campaign(&self, id: Uuid) -> Result<Campaign, DomainError> {
        self.store
            .find_campaign(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("campaign {id}")))
    }

    async fn item(&self, id: Uuid) -> Result<ReviewItem, DomainError> {
        self.store
            .find_item(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("review item {id}")))
    }

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
        tx.run(&[Statement::new(
            "UPDATE campaigns SET state = 'open', launched_at = $2 WHERE id = $1 AND state = 'scheduled'",
        )
        .bind(id)
        .bind(now)
        .must_touch(1, "the campaign was launched meanwhile")])
            .await
            .map_err(fail)?;
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
            "campaign.launch",
            campaign_target(id),
            json!({ "items": items, "scope": campaign.draft.scope,
                    "next_campaign": successor.map(|(id, _)| id) }),
        )];
        if let Some((next_id, starts_at)) = successor {
            events.push(NewAuditEvent::new(
                actor,
                "campaign.schedule",
                campaign_target(next_id),
                json!({ "recurs_from": id, "starts_at": starts_at }),
            ));
        }
        tx.commit(&events).await.map_err(fail)?;
        Ok(items)
    }

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
        let update = reviewer_condition(
            Statement::new(
                "UPDATE review_items SET reviewer_kind = 'reassigned', reviewer_person_id = $2, \
                 previous_reviewer = $3 WHERE id = $1 AND decision IS NULL AND close_outcome IS NULL \
                 AND campaign_id IN (SELECT id FROM campaigns WHERE state = 'open')",
            )
            .bind(item.id)
            .bind(person.id)
            .bind(item.reviewer.label()),
            &item.reviewer,
        )
        .must_touch(1, "the item changed meanwhile");
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
            "campaign.reassign",
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

    /// Carries out what an item's outcome asks for, as `acting` within the campaign,
    /// and records whether it worked.
    async fn remediate(
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
        let statement = Statement::new(
            "UPDATE review_items SET remediation = $2, remediation_note = $3 \
             WHERE id = $1 AND remediation IN ('pending', 'failed')",
        )
        .bind(item.id)
        .bind(state.as_str())
        .bind(note.clone());
        let event = NewAuditEvent::new(
            reviewer.audit_actor(),
            "campaign.remediate",
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

    /// One run of the scheduler at `now`: launches campaigns whose start came, reminds
    /// reviewers (at most once a day each), escalates overdue items, carries out
    /// decisions left pending by a restart, and sends queued webhooks.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<TickReport, DomainError> {
        let mut report = TickReport::default();
        for id in self.store.campaigns_to_launch(now).await? {
            match self.launch(id, CAMPAIGN_ACTOR, now).await {
                Ok(_) => report.launched += 1,
                // Another replica launched it first.
                Err(DomainError::Conflict { .. }) => {}
                Err(error) => {
                    tracing::error!(campaign = %id, %error, "launching a campaign failed")
                }
            }
        }
        let admins = self.store.security_team().await?;
        for id in self.store.open_campaign_ids().await? {
            let campaign = self.campaign(id).await?;
            report.reminded += self.remind(&campaign, &admins, now).await?;
            if overdue(&campaign.draft, now) {
                report.escalated += self.escalate_overdue(&campaign, &admins, now).await?;
            }
        }
        let stale = now - Duration::minutes(STALE_REMEDIATION_MINUTES);
        for item in self.store.stale_remediations(stale, 100).await? {
            self.remediate(&item, &system_principal(item.campaign_id))
                .await?;
            report.remediated += 1;
        }
        report.webhooks_delivered = self.webhooks.deliver_due(&self.store, now).await?;
        Ok(report)
    }

    /// Reminds each reviewer of `campaign` with undecided items when it is due.
    async fn remind(
        &self,
        campaign: &Campaign,
        admins: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<u64, DomainError> {
        let last = self.store.last_reminders(campaign.id).await?;
        let mut reminded = 0;
        for (person, pending) in self.store.waiting_reviewers(campaign.id).await? {
            let key = person
                .as_ref()
                .map_or_else(|| SECURITY_TEAM_KEY.to_owned(), |p| p.id.to_string());
            if !reminder_due(&campaign.draft, last.get(&key).copied(), now) {
                continue;
            }
            let every = Duration::days(i64::from(campaign.draft.remind_every_days.max(1)));
            // Claimed only if nobody (another replica) reminded them within the period.
            let claim = Statement::new(
                "INSERT INTO review_reminders (campaign_id, reviewer, last_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (campaign_id, reviewer) DO UPDATE SET last_at = excluded.last_at \
                 WHERE review_reminders.last_at <= $4",
            )
            .bind(campaign.id)
            .bind(key.clone())
            .bind(now)
            .bind(now - every.max(Duration::days(1)))
            .must_touch(1, "already reminded");
            let message = format!(
                "{pending} access review{} in \"{}\" wait{} for your decision (due {}).",
                if pending == 1 { "" } else { "s" },
                campaign.draft.name,
                if pending == 1 { "s" } else { "" },
                campaign.draft.due_at.format("%Y-%m-%d")
            );
            let recipients: Vec<Uuid> = match &person {
                Some(p) => vec![p.id],
                None => admins.to_vec(),
            };
            let mut statements = vec![claim];
            statements.extend(
                recipients
                    .iter()
                    .map(|r| notification(*r, None, &message, now)),
            );
            statements.extend(self.webhooks.outbox(
                &Announcement {
                    event: "campaign.reminder",
                    text: message.clone(),
                    data: json!({ "campaign_id": campaign.id, "campaign": campaign.draft.name,
                                  "due_at": campaign.draft.due_at, "pending": pending,
                                  "reviewer": person.as_ref().map_or(SECURITY_TEAM_KEY, |p| p.email.as_str()),
                                  "url": self.webhooks.config().link("/reviews") }),
                },
                now,
            ));
            let event = NewAuditEvent::new(
                CAMPAIGN_ACTOR,
                "campaign.remind",
                campaign_target(campaign.id),
                json!({ "reviewer": person.as_ref().map_or(SECURITY_TEAM_KEY, |p| p.email.as_str()),
                        "pending": pending }),
            );
            match self.store.write(&statements, |_| vec![event]).await {
                Ok(_) => reminded += 1,
                Err(WriteError::Precondition(_)) => {}
                Err(e) => return Err(write_error(e, "")),
            }
        }
        Ok(reminded)
    }

    /// Moves the undecided items of an overdue campaign to whom its escalation rule
    /// names, telling them.
    async fn escalate_overdue(
        &self,
        campaign: &Campaign,
        admins: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<u64, DomainError> {
        let mut escalated = 0;
        loop {
            let batch = self
                .store
                .items_to_escalate(campaign.id, ESCALATION_BATCH)
                .await?;
            if batch.is_empty() {
                break;
            }
            let mut statements = Vec::new();
            let mut moved = Vec::new();
            let mut per_recipient: BTreeMap<Option<Uuid>, u64> = BTreeMap::new();
            for (item, sponsor) in &batch {
                let to = escalate(campaign.draft.escalation, &item.reviewer, sponsor.clone());
                let (kind, person) = match &to {
                    Some(to) => (to.kind, to.person.as_ref().map(|p| p.id)),
                    // Already with the security team: only marked as escalated.
                    None => (ReviewerKind::SecurityTeam, None),
                };
                statements.push(reviewer_condition(
                    Statement::new(
                        "UPDATE review_items SET reviewer_kind = $2, reviewer_person_id = $3, \
                         previous_reviewer = $4, escalated_at = $5 WHERE id = $1 \
                         AND decision IS NULL AND close_outcome IS NULL AND escalated_at IS NULL",
                    )
                    .bind(item.id)
                    .bind(kind.as_str())
                    .bind(person)
                    .bind(item.reviewer.label())
                    .bind(now),
                    &item.reviewer,
                ));
                let to_label = to
                    .as_ref()
                    .map_or_else(|| "Security team".to_owned(), ItemReviewer::label);
                *per_recipient.entry(person).or_default() += 1;
                moved.push(json!({ "item_id": item.id, "identity": item.snapshot.name,
                                   "from": item.reviewer.label(), "to": to_label }));
            }
            for (recipient, count) in &per_recipient {
                let message = format!(
                    "{count} overdue access review{} of \"{}\" {} escalated to {}.",
                    if *count == 1 { "" } else { "s" },
                    campaign.draft.name,
                    if *count == 1 { "was" } else { "were" },
                    if recipient.is_some() {
                        "you"
                    } else {
                        "the security team"
                    }
                );
                let people: Vec<Uuid> = match recipient {
                    Some(p) => vec![*p],
                    None => admins.to_vec(),
                };
                statements.extend(people.iter().map(|p| notification(*p, None, &message, now)));
                statements.extend(self.webhooks.outbox(
                    &Announcement {
                        event: "campaign.escalation",
                        text: message.clone(),
                        data: json!({ "campaign_id": campaign.id, "campaign": campaign.draft.name,
                                      "due_at": campaign.draft.due_at, "items": count,
                                      "url": self.webhooks.config().link(&format!("/campaigns/{}", campaign.id)) }),
                    },
                    now,
                ));
            }
            let target = campaign_target(campaign.id);
            let item_count = batch.len();
            let counts = self
                .store
                .write(&statements, |counts| {
                    let moved: Vec<_> = moved
                        .into_iter()
                        .zip(counts.iter().take(item_count))
                        .filter(|(_, n)| **n == 1)
                        .map(|(m, _)| m)
                        .collect();
                    vec![NewAuditEvent::new(
                        CAMPAIGN_ACTOR,
                        "campaign.escalate",
                        target,
                        json!({ "escalation": campaign.draft.escalation, "items": moved }),
                    )]
                })
                .await
                .map_err(|e| write_error(e, ""))?;
            let done = counts.iter().take(item_count).filter(|n| **n == 1).count() as u64;
            escalated += done;
            if done == 0 {
                break; // everything left changed under us; the next run looks again
            }
        }
        Ok(escalated)
    }

    /// Runs the scheduler now and then every `interval`, for as long as the server runs.
    pub fn spawn_schedule(
        self: &Arc<Self>,
        interval: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match service.tick(Utc::now()).await {
                    Ok(report) if report != TickReport::default() => {
                        tracing::info!(?report, "campaign scheduler ran");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "campaign scheduler failed"),
                }
            }
        })
    }
}

/// Progress per control over the open campaigns that evidence it.
fn progress_by_control(campaigns: &[Campaign], catalog: &Catalog) -> Vec<Progress> {
    let mut by: BTreeMap<String, Progress> = BTreeMap::new();
    for campaign in campaigns.iter().filter(|c| c.state == CampaignState::Open) {
        for control in &campaign.draft.controls {
            let entry = by.entry(control.clone()).or_insert_with(|| Progress {
                label: match catalog.control(control) {
                    Some((_, c)) => format!("{} {}", c.id, c.title),
                    None => control.clone(),
                },
                ..Progress::default()
            });
            entry.total += campaign.items;
            entry.decided += campaign.decided;
        }
    }
    by.into_values().collect()
}

#[async_trait]
impl Campaigns for CampaignService {
    async fn create(
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
            "campaign.create",
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

    async fn overview(
        &self,
        principal: Option<&Principal>,
    ) -> Result<CampaignOverview, DomainError> {
        authorize(principal, Action::ReadCampaigns)?;
        let campaigns = self.store.list_campaigns().await?;
        Ok(CampaignOverview {
            by_control: progress_by_control(&campaigns, self.catalog),
            overdue: self
                .store
                .overdue_items(None, Utc::now(), OVERDUE_LIMIT)
                .await?,
            campaigns,
        })
    }

    async fn detail(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<CampaignDetail, DomainError> {
        authorize(principal, Action::ReadCampaigns)?;
        let campaign = self.campaign(id).await?;
        Ok(CampaignDetail {
            by_reviewer: self.store.progress_by_reviewer(id).await?,
            by_team: self.store.progress_by_team(id).await?,
            overdue: self
                .store
                .overdue_items(Some(id), Utc::now(), OVERDUE_LIMIT)
                .await?,
            campaign,
        })
    }

    async fn items(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        filter: ItemFilter,
        offset: u64,
        limit: u64,
    ) -> Result<ItemPage, DomainError> {
        authorize(principal, Action::ReadCampaigns)?;
        // A campaign holds at most a few million items; beyond that an offset is a
        // mistake (and past i64 it would not fit the database's integer).
        const MAX_OFFSET: u64 = 100_000_000;
        if offset > MAX_OFFSET {
            return Err(DomainError::invalid(
                "offset",
                format!("the offset must be between 0 and {MAX_OFFSET}"),
            ));
        }
        self.campaign(id).await?;
        let limit = limit.clamp(1, 200);
        let (items, total) = self.store.campaign_items(id, filter, offset, limit).await?;
        Ok(ItemPage {
            items,
            total,
            offset,
            limit,
        })
    }

    async fn my_reviews(
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

    async fn decide(
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
        let data = serde_json::to_string(decision).map_err(|_| DomainError::Internal)?;
        let statement = reviewer_condition(
            Statement::new(
                "UPDATE review_items SET decision = $2, decision_data = $3, decided_by = $4, \
                 decided_at = $5, remediation = $6 WHERE id = $1 AND decision IS NULL \
                 AND close_outcome IS NULL \
                 AND campaign_id IN (SELECT id FROM campaigns WHERE state = 'open')",
            )
            .bind(item.id)
            .bind(decision.name())
            .bind(data)
            .bind(principal.audit_actor())
            .bind(now)
            .bind(remediation.as_str()),
            &item.reviewer,
        )
        .must_touch(1, "the item changed meanwhile");
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            "campaign.decide",
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

    async fn decide_many(
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

    async fn retry_remediation(
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

    async fn close(
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
        let statements = [
            Statement::new(
                "UPDATE review_items SET close_outcome = $2, remediation = $3 \
                 WHERE campaign_id = $1 AND decision IS NULL AND close_outcome IS NULL",
            )
            .bind(id)
            .bind(outcome.as_str())
            .bind(remediation.as_str()),
            Statement::new(
                "UPDATE campaigns SET state = 'closed', closed_at = $2 WHERE id = $1 AND state = 'open'",
            )
            .bind(id)
            .bind(now)
            .must_touch(1, "the campaign was closed meanwhile"),
        ];
        let actor = principal.audit_actor();
        let (items, decided) = (campaign.items, campaign.decided);
        self.store
            .write(&statements, |counts| {
                vec![NewAuditEvent::new(
                    actor,
                    "campaign.close",
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

    async fn evidence(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<Evidence, DomainError> {
        authorize(principal, Action::ExportEvidence)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let campaign = self.campaign(id).await?;
        let items = self.store.all_campaign_items(id).await?;
        let events = self.store.campaign_outcome_events(id).await?;
        let rows = items
            .into_iter()
            .map(|item| {
                let event = if item.decision.is_some() {
                    events.get(&Some(item.id))
                } else if item.close_outcome.is_some() {
                    events.get(&None)
                } else {
                    None
                };
                EvidenceRow {
                    audit_seq: event.map(|(seq, _)| *seq),
                    audit_hash: event.map(|(_, hash)| hash.clone()),
                    item,
                }
            })
            .collect();
        let controls = campaign
            .draft
            .controls
            .iter()
            .map(|c| {
                let title = self
                    .catalog
                    .control(c)
                    .map(|(_, control)| control.title.clone())
                    .unwrap_or_default();
                (c.clone(), title)
            })
            .collect();
        self.store
            .append_audit(&NewAuditEvent::new(
                principal.audit_actor(),
                "campaign.evidence",
                campaign_target(id),
                json!({ "state": campaign.state, "items": campaign.items }),
            ))
            .await?;
        Ok(Evidence {
            campaign,
            controls,
            rows,
            generated_at: Utc::now(),
        })
    }
}
