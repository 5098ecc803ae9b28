//! Access review campaigns: creating and launching them (the scope is snapshotted into
//! review items), the reviewers' decisions and carrying them out through the inventory
//! port (so they are authorized and audited like manual changes), reminders and
//! escalations on a schedule, closing with the close policy, and the evidence pack.
//!
//! The port's methods are written in the module of their sub-capability
//! ([`lifecycle`], [`reviews`], [`remediation`], [`schedule`], [`reports`]) as inherent
//! methods of the same name, which the `Campaigns` implementation below calls
//! (inherent methods take precedence over the trait's).

use std::sync::Arc;

use async_trait::async_trait;
use steward_domain::auth::{Credential, Principal, Role};
use steward_domain::campaigns::{
    BulkDecision, BulkOutcome, Campaign, CampaignDetail, CampaignOverview, CreateCampaign,
    Decision, Evidence, ItemFilter, ItemPage, ReviewItem,
};
use steward_domain::ports::{Campaigns, Inventory};
use steward_domain::posture::catalog::Catalog;
use steward_domain::DomainError;
use uuid::Uuid;

use super::notify::Webhooks;
use crate::store::Store;

mod lifecycle;
mod remediation;
mod reports;
mod reviews;
mod schedule;

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
}

#[async_trait]
impl Campaigns for CampaignService {
    async fn create(
        &self,
        principal: Option<&Principal>,
        request: &CreateCampaign,
    ) -> Result<Campaign, DomainError> {
        self.create(principal, request).await
    }

    async fn overview(
        &self,
        principal: Option<&Principal>,
    ) -> Result<CampaignOverview, DomainError> {
        self.overview(principal).await
    }

    async fn detail(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<CampaignDetail, DomainError> {
        self.detail(principal, id).await
    }

    async fn items(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        filter: ItemFilter,
        offset: u64,
        limit: u64,
    ) -> Result<ItemPage, DomainError> {
        self.items(principal, id, filter, offset, limit).await
    }

    async fn my_reviews(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<ReviewItem>, DomainError> {
        self.my_reviews(principal).await
    }

    async fn decide(
        &self,
        principal: Option<&Principal>,
        item_id: Uuid,
        decision: &Decision,
    ) -> Result<ReviewItem, DomainError> {
        self.decide(principal, item_id, decision).await
    }

    async fn decide_many(
        &self,
        principal: Option<&Principal>,
        request: &BulkDecision,
    ) -> Result<BulkOutcome, DomainError> {
        self.decide_many(principal, request).await
    }

    async fn retry_remediation(
        &self,
        principal: Option<&Principal>,
        item_id: Uuid,
    ) -> Result<ReviewItem, DomainError> {
        self.retry_remediation(principal, item_id).await
    }

    async fn close(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<Campaign, DomainError> {
        self.close(principal, id).await
    }

    async fn evidence(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<Evidence, DomainError> {
        self.evidence(principal, id).await
    }
}
