//! Reading campaigns: the overview with progress per control, a campaign's detail and
//! items, and the evidence pack.

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::campaigns::{
    Campaign, CampaignDetail, CampaignOverview, CampaignState, Evidence, EvidenceRow, ItemFilter,
    ItemPage, Progress,
};
use steward_domain::posture::catalog::Catalog;
use steward_domain::DomainError;
use uuid::Uuid;

use super::{campaign_target, CampaignService, OVERDUE_LIMIT};

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

impl CampaignService {
    pub(super) async fn overview(
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

    pub(super) async fn detail(
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

    pub(super) async fn items(
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

    pub(super) async fn evidence(
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
                AuditAction::CampaignEvidence,
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
