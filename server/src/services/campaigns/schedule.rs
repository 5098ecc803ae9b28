//! The scheduler: launching campaigns whose start came, reminding reviewers,
//! escalating overdue items, retrying remediations a restart left pending, and sending
//! queued webhooks.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::campaigns::{
    escalate, overdue, reminder_due, Campaign, ItemReviewer, ReviewerKind,
};
use steward_domain::DomainError;
use uuid::Uuid;

use crate::services::notify::Announcement;
use crate::services::write_error;
use crate::store::campaigns::writes::{claim_reminder, escalate_item};
use crate::store::campaigns::SECURITY_TEAM_KEY;
use crate::store::notify::writes::notification;
use crate::store::write::WriteError;

use super::{
    campaign_target, system_principal, CampaignService, TickReport, CAMPAIGN_ACTOR,
    ESCALATION_BATCH, STALE_REMEDIATION_MINUTES,
};

impl CampaignService {
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
            let claim = claim_reminder(campaign.id, &key, now, now - every.max(Duration::days(1)));
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
                AuditAction::CampaignRemind,
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
                statements.push(escalate_item(item.id, kind, person, &item.reviewer, now));
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
                        AuditAction::CampaignEscalate,
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
}
