//! Access review pages: the campaigns (templates to launch, progress per control, the
//! overdue list), one campaign (progress by reviewer and team, its items, closing), the
//! printable evidence report, and the reviewer's **Reviews** inbox.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};
use steward_domain::campaigns::{
    BulkOutcome, Campaign, CampaignDetail, CampaignOverview, CampaignState, CloseOutcome, Decision,
    Evidence, ItemFilter, ItemPage, Progress, Remediation, ReviewItem, TEMPLATES,
};

use crate::error::{AppError, ErrorNotice};
use crate::format;
use crate::toast::Toast;

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

/// `3 of 10 decided (30%)`.
pub fn progress_text(progress: &Progress) -> String {
    format!(
        "{} of {} decided ({}%)",
        format::count(progress.decided),
        format::count(progress.total),
        progress.percent()
    )
}

/// A decision as a sentence: `Revoke — not needed since the migration`.
pub fn decision_text(decision: &Decision) -> String {
    let name = match decision {
        Decision::Certify { .. } => "Certified".to_owned(),
        Decision::Revoke { .. } => "Revoked".to_owned(),
        Decision::Reduce { entitlements, .. } => {
            format!("Reduced ({} entitlements removed)", entitlements.len())
        }
        Decision::Reassign { to, .. } => format!("Reassigned to {to}"),
        Decision::Expire { at, .. } => format!("Expires {}", at.format("%Y-%m-%d")),
    };
    match decision.comment() {
        Some(comment) => format!("{name} — {comment}"),
        None => name,
    }
}

/// An item's outcome as shown in tables.
pub fn outcome_text(item: &ReviewItem) -> String {
    match (&item.decision, item.close_outcome) {
        (Some(decision), _) => decision_text(decision),
        (None, Some(CloseOutcome::Kept)) => "Kept at close (undecided)".to_owned(),
        (None, Some(CloseOutcome::Revoked)) => "Revoked at close (undecided)".to_owned(),
        (None, None) => "Undecided".to_owned(),
    }
}

/// The link to a page of a campaign's items.
pub fn items_href(campaign: uuid::Uuid, filter: ItemFilter, offset: u64) -> String {
    let mut href = format!("/campaigns/{campaign}?filter={filter}");
    if offset > 0 {
        href.push_str(&format!("&offset={offset}"));
    }
    href.push_str("#items");
    href
}

fn state_badge(state: CampaignState) -> impl IntoView {
    view! { <span class=format!("badge campaign-{state}")>{state.as_str()}</span> }
}

fn remediation_badge(remediation: Remediation) -> impl IntoView {
    let label = match remediation {
        Remediation::NotNeeded => "—",
        Remediation::Pending => "pending",
        Remediation::Done => "done",
        Remediation::Failed => "failed",
    };
    view! { <span class=format!("badge remediation-{remediation}")>{label}</span> }
}

fn chart_view(chart: ProgressChart) -> impl IntoView {
    view! {
        <section class="card chart-card" aria-labelledby=format!("{}-h", chart.id)>
            <h2 id=format!("{}-h", chart.id)>{chart.title.clone()}</h2>
            <p class="muted">{chart.description.clone()}</p>
            <div class="chart-frame" id=chart.id.clone() inner_html=chart.svg></div>
        </section>
    }
}

fn progress_table(id: &'static str, caption: &'static str, rows: Vec<Progress>) -> impl IntoView {
    view! {
        <table class="data-table" id=id>
            <caption>{caption}</caption>
            <thead><tr><th scope="col">"Who"</th><th scope="col">"Decided"</th><th scope="col">"Items"</th><th scope="col">"Done"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|p| view! {
                    <tr>
                        <th scope="row">{p.label.clone()}</th>
                        <td>{format::count(p.decided)}</td>
                        <td>{format::count(p.total)}</td>
                        <td><progress max="100" value=p.percent().to_string()></progress>" "{format!("{}%", p.percent())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn overdue_table(items: Vec<ReviewItem>) -> AnyView {
    if items.is_empty() {
        return view! { <p class="muted">"Nothing is overdue."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data-table" id="overdue">
                <thead><tr><th scope="col">"Identity"</th><th scope="col">"Campaign"</th><th scope="col">"Reviewer"</th><th scope="col">"Due"</th><th scope="col">"Escalated"</th></tr></thead>
                <tbody>
                    {items.into_iter().map(|i| view! {
                        <tr>
                            <th scope="row"><a href=format!("/identities/{}", i.identity_id)>{i.snapshot.name.clone()}</a></th>
                            <td><a href=format!("/campaigns/{}", i.campaign_id)>{i.campaign_name.clone()}</a></td>
                            <td>{i.reviewer.label()}</td>
                            <td>{format::date(Some(i.due_at))}</td>
                            <td>{i.escalated_at.map_or_else(|| "no".to_owned(), |t| format!("yes, {}", format::date(Some(t))))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn CampaignsPage() -> impl IntoView {
    let launch = ServerAction::<LaunchTemplate>::new();
    let create = ServerAction::<CreateCampaign>::new();
    let data = Resource::new(
        move || (launch.version().get(), create.version().get()),
        |_| campaigns_overview(),
    );
    let outcome = move || {
        let launched = launch.value().get();
        let created = create.value().get();
        launched.or(created).map(|r| match r {
            Ok(c) => view! {
                <Toast message=format!("Campaign \"{}\" is {}: {} items to review. ", c.draft.name, c.state, c.items)>
                    <a href=format!("/campaigns/{}", c.id)>"Open it"</a>"."
                </Toast>
            }
            .into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <Title text="Access reviews" />
        <h1>"Access reviews"</h1>
        <p class="lede">"Campaigns in which owners confirm or remove access, mapped to the controls they evidence."</p>
        {outcome}
        <Transition fallback=|| view! { <p class="loading">"Loading campaigns…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <CampaignsView data launch create /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CampaignsView(
    data: CampaignsData,
    launch: ServerAction<LaunchTemplate>,
    create: ServerAction<CreateCampaign>,
) -> impl IntoView {
    let CampaignsData {
        overview,
        now,
        control_chart,
        can_manage,
    } = data;
    let templates = can_manage.then(|| {
        view! {
            <section>
                <h2>"Start a campaign"</h2>
                <div class="template-grid">
                    {TEMPLATES.iter().map(|t| view! {
                        <article class="card template" id=format!("template-{}", t.id)>
                            <h3>{t.name}</h3>
                            <p>{t.description}</p>
                            <p class="sub">{format!("Controls: {} · {} days · undecided at close: {} · {}", t.controls.join(", "), t.days, t.close_policy, t.recurrence)}</p>
                            <p class="sub">"Scope: "<a href=format!("/inventory?{}", t.scope)>{t.scope}</a></p>
                            <ActionForm action=launch>
                                <input type="hidden" name="template" value=t.id />
                                <button type="submit" aria-label=format!("Launch now: {}", t.name)>"Launch now"</button>
                            </ActionForm>
                        </article>
                    }).collect_view()}
                </div>
                <details class="card">
                    <summary>"Custom campaign…"</summary>
                    <NewCampaignForm create today=now.date_naive() />
                </details>
            </section>
        }
    });
    let campaigns = if overview.campaigns.is_empty() {
        view! {
            <div class="empty-state"><p>
                {if can_manage { "No campaigns yet. Launch a template above to start the first review." } else { "No campaigns yet. The security team starts them; your items will show under Reviews." }}
            </p></div>
        }
        .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data-table" id="campaigns">
                    <thead><tr><th scope="col">"Campaign"</th><th scope="col">"State"</th><th scope="col">"Controls"</th>
                        <th scope="col">"Starts"</th><th scope="col">"Due"</th><th scope="col">"Progress"</th><th scope="col">"Changes pending"</th></tr></thead>
                    <tbody>
                        {overview.campaigns.into_iter().map(|c| {
                            let progress = c.progress();
                            let overdue = c.is_overdue(now);
                            view! {
                                <tr>
                                    <th scope="row"><a href=format!("/campaigns/{}", c.id)>{c.draft.name.clone()}</a>
                                        <span class="sub">{c.draft.recurrence.to_string()}</span></th>
                                    <td>{state_badge(c.state)}{overdue.then(|| view! { " " <span class="badge severity-high">"overdue"</span> })}</td>
                                    <td>{c.draft.controls.join(", ")}</td>
                                    <td>{format::date(Some(c.draft.starts_at))}</td>
                                    <td>{format::date(Some(c.draft.due_at))}</td>
                                    <td>{if c.state == CampaignState::Scheduled { "not launched".to_owned() } else { progress_text(&progress) }}</td>
                                    <td>{format::count(c.remediation_open)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let by_control = (!overview.by_control.is_empty()).then(|| {
        view! {
            {control_chart.map(chart_view)}
            <details>
                <summary>"The numbers"</summary>
                {progress_table("progress-by-control", "Items decided per control (open campaigns)", overview.by_control)}
            </details>
        }
    });
    view! {
        {templates}
        <section>
            <h2>"Campaigns"</h2>
            {campaigns}
        </section>
        {by_control}
        <section>
            <h2>"Overdue"</h2>
            {overdue_table(overview.overdue)}
        </section>
    }
    .into_any()
}

#[component]
fn NewCampaignForm(
    create: ServerAction<CreateCampaign>,
    today: chrono::NaiveDate,
) -> impl IntoView {
    let due = today + chrono::Duration::days(21);
    view! {
        <ActionForm action=create attr:class="stacked" attr:id="new-campaign">
            <label>"Name" <input type="text" name="name" required=true maxlength="200" /></label>
            <label>"Scope (an inventory filter, as in the inventory's address)"
                <input type="text" name="scope" required=true placeholder="class=ai&env=prod" /></label>
            <label>"Controls it evidences (ids, comma-separated)"
                <input type="text" name="controls" required=true placeholder="NHI1, GV.RR-02" /></label>
            <fieldset>
                <legend>"What is reviewed"</legend>
                <label class="check"><input type="checkbox" name="review_ownership" value="on" checked=true />"Ownership and whether it is still needed"</label>
                <label class="check"><input type="checkbox" name="review_entitlements" value="on" />"Entitlements"</label>
                <label class="check"><input type="checkbox" name="review_credentials" value="on" />"Credentials"</label>
            </fieldset>
            <label>"Starts (today launches now)" <input type="date" name="starts_on" required=true value=today.to_string() /></label>
            <label>"Due" <input type="date" name="due_on" required=true value=due.to_string() /></label>
            <label>"Remind every (days)" <input type="number" name="remind_every_days" min="1" max="30" value="7" required=true /></label>
            <label>"After the due date"
                <select name="escalation">
                    <option value="sponsor" selected=true>"Escalate to the sponsor (else the security team)"</option>
                    <option value="security_team">"Reassign to the security team"</option>
                </select></label>
            <label>"Undecided at close"
                <select name="close_policy">
                    <option value="keep" selected=true>"Keep the access (recorded as an exception)"</option>
                    <option value="revoke">"Revoke it"</option>
                </select></label>
            <label>"Recurrence"
                <select name="recurrence">
                    <option value="once">"Once"</option>
                    <option value="monthly">"Monthly"</option>
                    <option value="quarterly" selected=true>"Quarterly"</option>
                    <option value="yearly">"Yearly"</option>
                </select></label>
            <button type="submit">"Create campaign"</button>
        </ActionForm>
    }
    .into_any()
}

#[component]
pub fn CampaignPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let filter = Memo::new(move |_| query.with(|q| q.get("filter").unwrap_or_default()));
    let offset = Memo::new(move |_| {
        query.with(|q| {
            q.get("offset")
                .and_then(|o| o.parse::<u64>().ok())
                .unwrap_or(0)
        })
    });
    let close = ServerAction::<CloseCampaign>::new();
    let retry = ServerAction::<RetryItem>::new();
    let data = Resource::new(
        move || {
            (
                id.get(),
                filter.get(),
                offset.get(),
                close.version().get(),
                retry.version().get(),
            )
        },
        |(id, filter, offset, _, _)| campaign_page(id, filter, offset),
    );
    let outcome = move || {
        let closed = close.value().get().map(|r| {
            r.map(|c| {
                format!(
                    "Campaign \"{}\" is closed; its evidence pack is final.",
                    c.draft.name
                )
            })
        });
        let retried = retry
            .value()
            .get()
            .map(|r| r.map(|i| format!("{}: remediation {}.", i.snapshot.name, i.remediation)));
        closed.or(retried).map(|r| match r {
            Ok(message) => view! { <Toast message /> }.into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <Title text="Campaign" />
        {outcome}
        <Transition fallback=|| view! { <p class="loading">"Loading the campaign…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <CampaignView data close retry /> }.into_any(),
                    Err(error) => view! { <h1>"Campaign"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CampaignView(
    data: CampaignPageData,
    close: ServerAction<CloseCampaign>,
    retry: ServerAction<RetryItem>,
) -> impl IntoView {
    let CampaignPageData {
        detail,
        items,
        filter,
        charts,
        can_manage,
        can_export,
    } = data;
    let CampaignDetail {
        campaign,
        by_reviewer,
        by_team,
        overdue,
    } = detail;
    let id = campaign.id;
    let draft = campaign.draft.clone();
    let undecided = campaign.items - campaign.decided;
    let reviewed: Vec<&str> = [
        (draft.reviewed.ownership, "ownership"),
        (draft.reviewed.entitlements, "entitlements"),
        (draft.reviewed.credentials, "credentials"),
    ]
    .into_iter()
    .filter_map(|(on, what)| on.then_some(what))
    .collect();
    let name = draft.name.clone();
    let close_form = (can_manage && campaign.state == CampaignState::Open).then(|| {
        let consequence = match draft.close_policy {
            steward_domain::campaigns::ClosePolicy::Keep => format!("the {undecided} undecided items keep their access (listed as exceptions)"),
            steward_domain::campaigns::ClosePolicy::Revoke => format!("the access of the {undecided} undecided items is revoked"),
        };
        view! {
            <details class="card danger-zone">
                <summary>"Close the campaign…"</summary>
                <ActionForm action=close>
                    <input type="hidden" name="id" value=id.to_string() />
                    <label class="check"><input type="checkbox" name="confirm" value="yes" required=true />
                        {format!("I confirm: close \"{name}\" now; {consequence}.")}</label>
                    <button type="submit" class="danger">"Close campaign"</button>
                </ActionForm>
            </details>
        }
    });
    let evidence = can_export.then(|| view! {
        <p class="actions">
            <a class="button" href=format!("/campaigns/{id}/evidence")>"Evidence report"</a>" "
            <a class="button secondary" href=format!("/api/v1/campaigns/{id}/evidence.csv") download=format!("steward-evidence-{id}.csv")>"Evidence (CSV)"</a>
        </p>
    });
    let tabs = ItemFilter::ALL.iter().map(|f| {
        let current = *f == filter;
        view! { <a href=items_href(id, *f, 0) aria-current=current.then_some("page")>{f.as_str()}</a> }
    }).collect_view();
    let pager = {
        let prev = (items.offset > 0).then(|| view! { <a href=items_href(id, filter, items.offset.saturating_sub(items.limit))>"← Previous"</a> });
        let next = (items.offset + items.limit < items.total).then(
            || view! { <a href=items_href(id, filter, items.offset + items.limit)>"Next →"</a> },
        );
        view! {
            <nav class="pager" aria-label="Item pages">
                {prev}
                <span>{format!("{}–{} of {}", if items.total == 0 { 0 } else { items.offset + 1 }, (items.offset + items.limit).min(items.total), format::count(items.total))}</span>
                {next}
            </nav>
        }
    };
    let item_rows = if items.items.is_empty() {
        view! { <p class="muted">"No items here."</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data-table" id="items">
                    <thead><tr><th scope="col">"Identity"</th><th scope="col">"Reviewer"</th><th scope="col">"Outcome"</th>
                        <th scope="col">"Decided"</th><th scope="col">"Change"</th></tr></thead>
                    <tbody>
                        {items.items.into_iter().map(|i| {
                            let retry_label = format!("Retry the change for {}", i.snapshot.name);
                            let retry_label = format!("Retry: {retry_label}");
                            let retry_form = (can_manage && matches!(i.remediation, Remediation::Failed | Remediation::Pending)).then(|| view! {
                                <ActionForm action=retry>
                                    <input type="hidden" name="id" value=i.id.to_string() />
                                    <button type="submit" class="secondary small" aria-label=retry_label>"Retry"</button>
                                </ActionForm>
                            });
                            view! {
                                <tr>
                                    <th scope="row"><a href=format!("/identities/{}", i.identity_id)>{i.snapshot.name.clone()}</a>
                                        <span class="sub">{format!("{} · {}", i.snapshot.kind.label(), i.snapshot.environment)}</span></th>
                                    <td>{i.reviewer.label()}{i.previous_reviewer.clone().map(|p| view! { <span class="sub">{format!("before: {p}")}</span> })}</td>
                                    <td>{outcome_text(&i)}</td>
                                    <td>{i.decided_by.clone().unwrap_or_default()}<span class="sub">{i.decided_at.map(|t| format::date(Some(t))).unwrap_or_default()}</span></td>
                                    <td>{remediation_badge(i.remediation)}{i.remediation_note.clone().map(|n| view! { <span class="sub">{n}</span> })}{retry_form}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <Title text=draft.name.clone() />
        <h1>{draft.name.clone()}" "{state_badge(campaign.state)}</h1>
        <dl class="facts">
            <dt>"Scope"</dt><dd><a href=format!("/inventory?{}", draft.scope)>{if draft.scope.is_empty() { "every identity".to_owned() } else { draft.scope.clone() }}</a></dd>
            <dt>"Controls"</dt><dd>{draft.controls.join(", ")}</dd>
            <dt>"Reviewed"</dt><dd>{reviewed.join(", ")}</dd>
            <dt>"Runs"</dt><dd>{format!("{} to {}", format::date(Some(draft.starts_at)), format::date(Some(draft.due_at)))}</dd>
            <dt>"Reminders"</dt><dd>{format!("every {} days; after the due date: {}", draft.remind_every_days, draft.escalation)}</dd>
            <dt>"Undecided at close"</dt><dd>{draft.close_policy.to_string()}</dd>
            <dt>"Recurrence"</dt><dd>{draft.recurrence.to_string()}</dd>
            <dt>"Progress"</dt><dd id="campaign-progress">{progress_text(&campaign.progress())}</dd>
            <dt>"Changes pending"</dt><dd>{format::count(campaign.remediation_open)}</dd>
            {campaign.closed_at.map(|t| view! { <dt>"Closed"</dt><dd>{format::date(Some(t))}</dd> })}
        </dl>
        {evidence}
        {close_form}
        <div class="chart-grid">{charts.into_iter().map(chart_view).collect_view()}</div>
        <details>
            <summary>"Progress in numbers"</summary>
            {progress_table("progress-by-reviewer", "By reviewer", by_reviewer)}
            {progress_table("progress-by-team", "By team", by_team)}
        </details>
        <section>
            <h2>"Overdue"</h2>
            {overdue_table(overdue)}
        </section>
        <section id="items">
            <h2>"Items"</h2>
            <nav class="tabs" aria-label="Which items">{tabs}</nav>
            {item_rows}
            {pager}
        </section>
    }
    .into_any()
}

#[component]
pub fn EvidencePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let evidence = Resource::new(move || id.get(), campaign_evidence);
    view! {
        <Title text="Evidence report" />
        <Transition fallback=|| view! { <p class="loading">"Loading the evidence…"</p> }>
            {move || Suspend::new(async move {
                match evidence.await {
                    Ok(evidence) => view! { <EvidenceView evidence /> }.into_any(),
                    Err(error) => view! { <h1>"Evidence report"</h1><ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn EvidenceView(evidence: Evidence) -> impl IntoView {
    let campaign = &evidence.campaign;
    let draft = campaign.draft.clone();
    let progress = campaign.progress();
    let counts = evidence.outcome_counts();
    let exceptions: Vec<_> = evidence.exceptions().cloned().collect();
    let row = |r: steward_domain::campaigns::EvidenceRow| {
        let i = r.item;
        view! {
            <tr>
                <th scope="row">{i.snapshot.name.clone()}<span class="sub">{format!("{} · {}", i.snapshot.kind.label(), i.snapshot.environment)}</span></th>
                <td>{i.reviewer.label()}</td>
                <td>{outcome_text(&i)}</td>
                <td>{i.decided_by.clone().unwrap_or_default()}<span class="sub">{i.decided_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()}</span></td>
                <td>{i.remediation.to_string()}{i.remediation_note.clone().map(|n| view! { <span class="sub">{n}</span> })}</td>
                <td class="hash">{r.audit_seq.map(|s| format!("#{s} ")).unwrap_or_default()}<code>{r.audit_hash.clone().unwrap_or_default()}</code></td>
            </tr>
        }
    };
    let head = || {
        view! {
            <thead><tr><th scope="col">"Identity"</th><th scope="col">"Reviewer"</th><th scope="col">"Outcome"</th>
                <th scope="col">"Decided by"</th><th scope="col">"Change"</th><th scope="col">"Audit event"</th></tr></thead>
        }
    };
    view! {
        <article class="evidence-report">
            <h1>{format!("Evidence: {}", draft.name)}</h1>
            <p class="muted">{format!("Generated {} · campaign {} · {}", evidence.generated_at.format("%Y-%m-%d %H:%M UTC"), campaign.id, campaign.state)}
                {(campaign.state != CampaignState::Closed).then_some(" · the campaign is not closed: this is an interim report")}</p>
            <p class="no-print"><a href=format!("/api/v1/campaigns/{}/evidence.csv", campaign.id)>"Download the CSV"</a>" · print this page for a PDF."</p>
            <section>
                <h2>"Scope and controls"</h2>
                <dl class="facts">
                    <dt>"Scope"</dt><dd>{if draft.scope.is_empty() { "every identity".to_owned() } else { draft.scope.clone() }}</dd>
                    <dt>"Ran"</dt><dd>{format!("{} to {} (due {})", format::date(campaign.launched_at), campaign.closed_at.map_or_else(|| "still open".to_owned(), |t| format::date(Some(t))), format::date(Some(draft.due_at)))}</dd>
                    <dt>"Created by"</dt><dd>{campaign.created_by.clone()}</dd>
                    <dt>"Undecided at close"</dt><dd>{draft.close_policy.to_string()}</dd>
                </dl>
                <ul class="controls">
                    {evidence.controls.iter().map(|(id, title)| view! { <li><strong>{id.clone()}</strong>" "{title.clone()}</li> }).collect_view()}
                </ul>
            </section>
            <section>
                <h2>"Completion"</h2>
                <p id="evidence-completion">{progress_text(&progress)}</p>
                <table class="data-table" id="outcomes">
                    <thead><tr><th scope="col">"Outcome"</th><th scope="col">"Items"</th></tr></thead>
                    <tbody>{counts.into_iter().map(|(k, n)| view! { <tr><th scope="row">{k}</th><td>{format::count(n)}</td></tr> }).collect_view()}</tbody>
                </table>
            </section>
            <section>
                <h2>"Exceptions"</h2>
                {if exceptions.is_empty() {
                    view! { <p class="muted">"None: every item was certified."</p> }.into_any()
                } else {
                    view! { <div class="table-wrap"><table class="data-table" id="exceptions">{head()}<tbody>{exceptions.into_iter().map(row).collect_view()}</tbody></table></div> }.into_any()
                }}
            </section>
            <section>
                <h2>"Every item"</h2>
                <div class="table-wrap"><table class="data-table" id="evidence-items">{head()}<tbody>{evidence.rows.clone().into_iter().map(row).collect_view()}</tbody></table></div>
            </section>
        </article>
    }
    .into_any()
}

#[component]
pub fn ReviewsPage() -> impl IntoView {
    let decide = ServerAction::<DecideItem>::new();
    let bulk = ServerAction::<DecideSelected>::new();
    let reviews = Resource::new(
        move || (decide.version().get(), bulk.version().get()),
        |_| my_reviews(),
    );
    let outcome = move || {
        let single = decide.value().get().map(|r| {
            r.map(|i| {
                let change = match i.remediation {
                    Remediation::Done => {
                        format!(" Done: {}.", i.remediation_note.clone().unwrap_or_default())
                    }
                    Remediation::Failed => format!(
                        " The change failed ({}); the security team can retry it.",
                        i.remediation_note.clone().unwrap_or_default()
                    ),
                    _ => String::new(),
                };
                let what = if i.decision.is_some() {
                    outcome_text(&i)
                } else {
                    format!("Reassigned to {}", i.reviewer.label())
                };
                format!("{}: {}.{change}", i.snapshot.name, what)
            })
        });
        let many = bulk.value().get().map(|r| {
            r.map(|o| {
                let mut text = format!("{} items decided.", o.decided.len());
                if !o.refused.is_empty() {
                    text.push_str(&format!(
                        " {} refused: {}",
                        o.refused.len(),
                        o.refused
                            .iter()
                            .map(|(_, why)| why.clone())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
                text
            })
        });
        single.or(many).map(|r| match r {
            Ok(message) => view! { <Toast message /> }.into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <Title text="Reviews" />
        <h1>"Reviews"</h1>
        <p class="lede">"Identities waiting for your decision: is it still needed, and is its access right?"</p>
        {outcome}
        <Transition fallback=|| view! { <p class="loading">"Loading your reviews…"</p> }>
            {move || Suspend::new(async move {
                match reviews.await {
                    Ok(data) => view! { <ReviewsView items=data.items now=data.now decide bulk /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ReviewsView(
    items: Vec<ReviewItem>,
    now: chrono::DateTime<chrono::Utc>,
    decide: ServerAction<DecideItem>,
    bulk: ServerAction<DecideSelected>,
) -> impl IntoView {
    if items.is_empty() {
        return view! {
            <div class="empty-state"><p>"Nothing waits for your review. When a campaign names you, its items show here."</p></div>
        }
        .into_any();
    }
    let count = items.len();
    view! {
        <section class="card" aria-labelledby="bulk-h">
            <h2 id="bulk-h">"Decide several at once"</h2>
            <p class="muted">"Tick items below, then decide them all the same way. Reducing entitlements is decided item by item."</p>
            <ActionForm action=bulk attr:id="bulk-form">
                <label>"Decision"
                    <select name="decision">
                        <option value="certify">"Certify"</option>
                        <option value="revoke">"Revoke"</option>
                    </select></label>
                <label>"Comment (required to revoke, and to certify items with a high-severity finding)" <input type="text" name="comment" maxlength="2000" /></label>
                <label class="check"><input type="checkbox" name="confirm" value="yes" required=true />"I confirm this decision for every ticked item"</label>
                <button type="submit">"Decide ticked items"</button>
            </ActionForm>
        </section>
        <p class="muted">{format!("{count} item{} to review.", if count == 1 { "" } else { "s" })}</p>
        <ol class="review-list">
            {items.into_iter().map(|item| view! { <li><ReviewCard item decide now /></li> }.into_any()).collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
fn ReviewCard(
    item: ReviewItem,
    decide: ServerAction<DecideItem>,
    now: chrono::DateTime<chrono::Utc>,
) -> impl IntoView {
    let s = item.snapshot.clone();
    let high = s
        .worst_finding()
        .is_some_and(|sev| sev >= steward_domain::posture::catalog::Severity::High);
    let heading_id = format!("item-{}", item.id);
    let overdue = item.due_at < now;
    let findings = if s.findings.is_empty() {
        view! { <p class="muted">"No open findings."</p> }.into_any()
    } else {
        view! {
            <ul class="findings">
                {s.findings.iter().map(|f| view! {
                    <li><span class=format!("badge severity-{}", f.severity)>{f.severity.to_string()}</span>" "{f.title.clone()}</li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let entitlements = view! {
        <ul class="entitlements">
            {if s.entitlements.is_empty() { Some(view! { <li class="muted">"No active entitlements."</li> }) } else { None }}
            {s.entitlements.iter().map(|e| view! {
                <li>
                    {item.reviewed.entitlements.then(|| view! {
                        <label class="check"><input type="checkbox" name="entitlements[]" value=e.id.to_string() form=format!("decide-{}", item.id) />
                            <span class="visually-hidden">{format!("Remove {}", e.permission())}</span></label>
                    })}
                    <code>{e.permission()}</code>" "<span class=format!("badge privilege-{}", e.privilege)>{e.privilege.to_string()}</span>
                    <span class="sub">{format!("{} · since {}", e.grant_type, format::date(Some(e.created_at)))}</span>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any();
    let credentials = view! {
        <ul class="credentials">
            {if s.credentials.is_empty() { Some(view! { <li class="muted">"No active credentials."</li> }) } else { None }}
            {s.credentials.iter().map(|c| {
                let set = c.last_rotated_at.unwrap_or(c.created_at);
                view! { <li><code>{c.key_id.clone()}</code>" "<span class="sub">{format!("{} · secret set {} ({} days ago) · last used {}", c.kind, format::date(Some(set)), (now - set).num_days(), format::date(c.last_used_at))}</span></li> }
            }).collect_view()}
        </ul>
    }
    .into_any();
    let delegation = (!s.delegates_to.is_empty() || s.delegated_from > 0).then(|| view! {
        <p class="sub">
            {s.delegates_to.iter().map(|p| format!("{} {} ({})", p.delegation, p.name, if p.permissions.is_empty() { "no permissions".to_owned() } else { p.permissions.join(", ") })).collect::<Vec<_>>().join("; ")}
            {(s.delegated_from > 0).then(|| format!(" · {} identities act through it", s.delegated_from))}
        </p>
    }.into_any());
    let choices: Vec<(&str, &str)> = [
        Some(("certify", "Certify: still needed, access is right")),
        Some((
            "revoke",
            if item.reviewed.ownership {
                "Revoke: not needed, retire the identity"
            } else {
                "Revoke: remove the reviewed access"
            },
        )),
        item.reviewed
            .entitlements
            .then_some(("reduce", "Reduce: remove the ticked entitlements")),
        Some(("expire", "Let it expire on a date")),
        Some(("reassign", "Reassign to someone else")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let form_id = format!("decide-{}", item.id);
    view! {
        <article class="card review-item" aria-labelledby=heading_id.clone() id=format!("review-{}", item.identity_id)>
            <header>
                <label class="check bulk-pick"><input type="checkbox" name="items[]" value=item.id.to_string() form="bulk-form" />
                    <span class="visually-hidden">{format!("Select {}", s.name)}</span></label>
                <h2 id=heading_id.clone()><a href=format!("/identities/{}", item.identity_id)>{s.name.clone()}</a></h2>
                <span class="sub">{format!("{} · {} · {} · team {}", s.actor_class, s.kind.label(), s.environment, s.team.clone().unwrap_or_else(|| "—".into()))}</span>
                <p class="sub">{format!("{} · due {}", item.campaign_name, format::date(Some(item.due_at)))}
                    {overdue.then(|| view! { " " <span class="badge severity-high">"overdue"</span> })}
                    {item.previous_reviewer.clone().map(|p| format!(" · handed over by {p}"))}</p>
            </header>
            <dl class="facts compact">
                <dt>"Owner"</dt><dd>{s.owner.as_ref().map_or_else(|| "none".to_owned(), |o| o.display_name.clone())}</dd>
                <dt>"Sponsor"</dt><dd>{s.sponsor.as_ref().map_or_else(|| "none".to_owned(), |o| o.display_name.clone())}</dd>
                <dt>"Purpose"</dt><dd>{s.purpose.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Last used"</dt><dd>{s.last_used_at.map_or_else(|| "never".to_owned(), |t| format!("{} ({} days ago)", format::date(Some(t)), (now - t).num_days()))}</dd>
                <dt>"Expires"</dt><dd>{format::date(s.expires_at)}</dd>
            </dl>
            <div class="review-context">
                <section><h3>"Findings"</h3>{findings}</section>
                <section><h3>"Entitlements"</h3>{entitlements}</section>
                <section><h3>"Credentials"</h3>{credentials}</section>
            </div>
            {delegation}
            <ActionForm action=decide attr:id=form_id attr:class="decision-form">
                <input type="hidden" name="id" value=item.id.to_string() />
                <fieldset>
                    <legend>"Your decision"</legend>
                    {choices.into_iter().map(|(value, label)| view! {
                        <label class="check"><input type="radio" name="decision" value=value required=true />{label}</label>
                    }).collect_view()}
                </fieldset>
                <label>{if high { "Comment (required to certify: it has a high-severity finding)" } else { "Comment (required to revoke or reassign)" }}
                    <input type="text" name="comment" maxlength="2000" /></label>
                <div class="inline-fields">
                    <label>"Expires on (to let it expire)" <input type="date" name="at" /></label>
                    <label>"Reassign to (email)" <input type="email" name="to" /></label>
                </div>
                <button type="submit" aria-label=format!("Submit decision for {}", s.name)>"Submit decision"</button>
            </ActionForm>
        </article>
    }
    .into_any()
}
