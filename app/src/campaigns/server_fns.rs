//! What the campaign pages load and do on the server: their data types, the charts
//! drawn on the server (`ssr` only) and the `#[server]` functions (their `/rpc/...`
//! endpoints are named explicitly, so they do not depend on this file's place).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use steward_domain::campaigns::{
    BulkOutcome, Campaign, CampaignDetail, CampaignOverview, Evidence, ItemFilter, ItemPage,
    ReviewItem,
};
// Only the server functions' bodies (server side) use these.
#[cfg(feature = "ssr")]
use steward_domain::campaigns::TEMPLATES;

use crate::error::AppError;

/// A chart drawn on the server, with its title and description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressChart {
    pub id: String,
    pub title: String,
    pub description: String,
    pub svg: String,
}

#[cfg(feature = "ssr")]
mod imp {
    use steward_domain::campaigns::Progress;

    use super::ProgressChart;
    use crate::charts::{bar_chart, Datum};

    /// Percent decided per row, as a bar chart.
    pub fn progress_chart(id: &str, title: &str, rows: &[Progress]) -> Option<ProgressChart> {
        if rows.is_empty() {
            return None;
        }
        let data: Vec<Datum> = rows
            .iter()
            .map(|p| Datum {
                label: p.label.clone(),
                value: p.percent() as f64,
                href: None,
            })
            .collect();
        let behind = rows
            .iter()
            .filter(|p| p.total > 0)
            .min_by_key(|p| p.percent());
        let description = match behind {
            Some(p) if p.percent() < 100 => format!(
                "Percent of items decided. Furthest behind: {} ({} of {}, {}%).",
                p.label,
                p.decided,
                p.total,
                p.percent()
            ),
            _ => "Percent of items decided: everything is decided.".to_owned(),
        };
        Some(ProgressChart {
            id: id.to_owned(),
            title: title.to_owned(),
            svg: bar_chart(id, title, &description, &data, "%"),
            description,
        })
    }
}

/// What the campaigns page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignsData {
    pub overview: CampaignOverview,
    /// The server's clock (the browser build has none): for overdue marks and dates.
    pub now: chrono::DateTime<chrono::Utc>,
    pub control_chart: Option<ProgressChart>,
    pub can_manage: bool,
}

#[server(prefix = "/rpc", endpoint = "campaigns/overview")]
pub async fn campaigns_overview() -> Result<CampaignsData, AppError> {
    use steward_domain::auth::Action;
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let overview = ports.campaigns.overview(principal.as_ref()).await?;
    Ok(CampaignsData {
        now: chrono::Utc::now(),
        control_chart: imp::progress_chart(
            "chart-controls-progress",
            "Review progress by control",
            &overview.by_control,
        ),
        overview,
        can_manage: principal
            .as_ref()
            .is_some_and(|p| p.can(Action::ManageCampaigns)),
    })
}

/// Launches a template now, with its defaults.
#[server(prefix = "/rpc", endpoint = "campaigns/launch")]
pub async fn launch_template(template: String) -> Result<Campaign, AppError> {
    use steward_domain::campaigns::CreateCampaign;
    use steward_domain::DomainError;
    let ports = crate::session::ports()?;
    let found = TEMPLATES
        .iter()
        .find(|t| t.id == template)
        .ok_or_else(|| DomainError::not_found(format!("campaign template {template}")))?;
    let request = CreateCampaign {
        draft: found.draft(chrono::Utc::now()),
        template: Some(found.id.to_owned()),
    };
    Ok(ports
        .campaigns
        .create(crate::session::principal().as_ref(), &request)
        .await?)
}

/// The custom-campaign form's server function: one argument per field of the form.
mod create_form {
    #![allow(clippy::too_many_arguments)]
    use leptos::prelude::*;
    use steward_domain::campaigns::Campaign;

    use crate::error::AppError;

    /// Creates a campaign from the form: dates are days (`YYYY-MM-DD`, UTC); a start of
    /// today or earlier launches it now.
    #[server(prefix = "/rpc", endpoint = "campaigns/create")]
    pub async fn create_campaign(
        name: String,
        scope: String,
        controls: String,
        starts_on: String,
        due_on: String,
        remind_every_days: String,
        escalation: String,
        close_policy: String,
        recurrence: String,
        review_ownership: Option<String>,
        review_entitlements: Option<String>,
        review_credentials: Option<String>,
    ) -> Result<Campaign, AppError> {
        use chrono::{NaiveTime, Utc};
        use steward_domain::campaigns::{CampaignDraft, CreateCampaign, Reviewed};
        use steward_domain::DomainError;
        let ports = crate::session::ports()?;
        let now = Utc::now();
        let day = |field: &str, text: &str| {
            chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                DomainError::invalid(field, format!("'{text}' is not a date (YYYY-MM-DD)"))
            })
        };
        let starts = day("starts_at", &starts_on)?;
        let starts_at = if starts <= now.date_naive() {
            now
        } else {
            starts.and_time(NaiveTime::MIN).and_utc()
        };
        let due_at = day("due_at", &due_on)?
            .and_hms_opt(23, 59, 59)
            .map(|t| t.and_utc())
            .ok_or_else(|| DomainError::invalid("due_at", "not a date"))?;
        let draft = CampaignDraft {
            name,
            scope,
            controls: controls
                .split([',', ' '])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            reviewed: Reviewed {
                ownership: review_ownership.is_some(),
                entitlements: review_entitlements.is_some(),
                credentials: review_credentials.is_some(),
            },
            starts_at,
            due_at,
            remind_every_days: remind_every_days
                .trim()
                .parse()
                .map_err(|_| DomainError::invalid("remind_every_days", "a whole number of days"))?,
            escalation: escalation.parse()?,
            close_policy: close_policy.parse()?,
            recurrence: recurrence.parse()?,
        };
        Ok(ports
            .campaigns
            .create(
                crate::session::principal().as_ref(),
                &CreateCampaign {
                    draft,
                    template: None,
                },
            )
            .await?)
    }
}

pub use create_form::{create_campaign, CreateCampaign};

/// What one campaign's page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignPageData {
    pub detail: CampaignDetail,
    pub items: ItemPage,
    pub filter: ItemFilter,
    pub charts: Vec<ProgressChart>,
    pub can_manage: bool,
    pub can_export: bool,
}

#[server(prefix = "/rpc", endpoint = "campaigns/detail")]
pub async fn campaign_page(
    id: String,
    filter: String,
    offset: u64,
) -> Result<CampaignPageData, AppError> {
    use steward_domain::auth::Action;
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let id = crate::error::parse_uuid("campaign", &id)?;
    let filter: ItemFilter = if filter.is_empty() {
        ItemFilter::default()
    } else {
        filter.parse()?
    };
    let detail = ports.campaigns.detail(principal.as_ref(), id).await?;
    let items = ports
        .campaigns
        .items(principal.as_ref(), id, filter, offset, ITEMS_PER_PAGE)
        .await?;
    let charts = [
        imp::progress_chart(
            "chart-by-reviewer",
            "Progress by reviewer",
            &detail.by_reviewer,
        ),
        imp::progress_chart("chart-by-team", "Progress by team", &detail.by_team),
    ]
    .into_iter()
    .flatten()
    .collect();
    let can = |action| principal.as_ref().is_some_and(|p| p.can(action));
    Ok(CampaignPageData {
        detail,
        items,
        filter,
        charts,
        can_manage: can(Action::ManageCampaigns),
        can_export: can(Action::ExportEvidence),
    })
}

/// Items per page of a campaign's item list.
pub const ITEMS_PER_PAGE: u64 = 50;

#[server(prefix = "/rpc", endpoint = "campaigns/close")]
pub async fn close_campaign(id: String) -> Result<Campaign, AppError> {
    let ports = crate::session::ports()?;
    Ok(ports
        .campaigns
        .close(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("campaign", &id)?,
        )
        .await?)
}

#[server(prefix = "/rpc", endpoint = "campaigns/retry")]
pub async fn retry_item(id: String) -> Result<ReviewItem, AppError> {
    let ports = crate::session::ports()?;
    Ok(ports
        .campaigns
        .retry_remediation(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("review item", &id)?,
        )
        .await?)
}

#[server(prefix = "/rpc", endpoint = "campaigns/evidence")]
pub async fn campaign_evidence(id: String) -> Result<Evidence, AppError> {
    let ports = crate::session::ports()?;
    Ok(ports
        .campaigns
        .evidence(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("campaign", &id)?,
        )
        .await?)
}

/// The Reviews inbox: the caller's undecided items, and the server's clock (for ages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewsData {
    pub items: Vec<ReviewItem>,
    pub now: chrono::DateTime<chrono::Utc>,
}

#[server(prefix = "/rpc", endpoint = "reviews/mine")]
pub async fn my_reviews() -> Result<ReviewsData, AppError> {
    let ports = crate::session::ports()?;
    Ok(ReviewsData {
        items: ports
            .campaigns
            .my_reviews(crate::session::principal().as_ref())
            .await?,
        now: chrono::Utc::now(),
    })
}

/// Decides one item from its form.
#[server(prefix = "/rpc", endpoint = "reviews/decide")]
pub async fn decide_item(
    id: String,
    decision: String,
    comment: Option<String>,
    to: Option<String>,
    at: Option<String>,
    entitlements: Option<Vec<String>>,
) -> Result<ReviewItem, AppError> {
    use steward_domain::campaigns::decision_from_form;
    let ports = crate::session::ports()?;
    let decision = decision_from_form(
        &decision,
        comment,
        to,
        at.as_deref(),
        &entitlements.unwrap_or_default(),
    )?;
    Ok(ports
        .campaigns
        .decide(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("review item", &id)?,
            &decision,
        )
        .await?)
}

/// One decision for the selected items (confirmed in the form).
#[server(prefix = "/rpc", endpoint = "reviews/bulk")]
pub async fn decide_selected(
    decision: String,
    comment: Option<String>,
    items: Option<Vec<String>>,
    confirm: Option<String>,
) -> Result<BulkOutcome, AppError> {
    use steward_domain::campaigns::{decision_from_form, BulkDecision};
    let ports = crate::session::ports()?;
    let items = items
        .unwrap_or_default()
        .iter()
        .map(|i| crate::error::parse_uuid("review item", i))
        .collect::<Result<Vec<_>, _>>()?;
    let request = BulkDecision {
        items,
        decision: decision_from_form(&decision, comment, None, None, &[])?,
        confirm: confirm.is_some(),
    };
    Ok(ports
        .campaigns
        .decide_many(crate::session::principal().as_ref(), &request)
        .await?)
}
