//! The **Campaigns** page: templates to launch, the custom-campaign form, progress per
//! control and the overdue list.

use leptos::prelude::*;
use leptos_meta::Title;
use steward_domain::campaigns::{CampaignState, TEMPLATES};

use crate::error::ErrorNotice;
use crate::format;
use crate::toast::Toast;

use super::parts::{chart_view, overdue_table, progress_table, state_badge};
use super::{campaigns_overview, progress_text, CampaignsData, CreateCampaign, LaunchTemplate};

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
                <Toast message=format!(
                    "Campaign \"{}\" is {}: {} items to review. ",
                    c.draft.name,
                    c.state,
                    c.items,
                )>
                    <a href=format!("/campaigns/{}", c.id)>"Open it"</a>
                    "."
                </Toast>
            }
            .into_any(),
            Err(e) => view! {
                <p class="notice error" role="alert">
                    {e.to_string()}
                </p>
            }
            .into_any(),
        })
    };
    view! {
        <Title text="Access reviews" />
        <h1>"Access reviews"</h1>
        <p class="lede">
            "Campaigns in which owners confirm or remove access, mapped to the controls they evidence."
        </p>
        {outcome}
        <Transition fallback=|| {
            view! { <p class="loading">"Loading campaigns…"</p> }
        }>
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
                    {TEMPLATES
                        .iter()
                        .map(|t| {
                            view! {
                                <article class="card template" id=format!("template-{}", t.id)>
                                    <h3>{t.name}</h3>
                                    <p>{t.description}</p>
                                    <p class="sub">
                                        {format!(
                                            "Controls: {} · {} days · undecided at close: {} · {}",
                                            t.controls.join(", "),
                                            t.days,
                                            t.close_policy,
                                            t.recurrence,
                                        )}
                                    </p>
                                    <p class="sub">
                                        "Scope: "
                                        <a href=format!("/inventory?{}", t.scope)>{t.scope}</a>
                                    </p>
                                    <ActionForm action=launch>
                                        <input type="hidden" name="template" value=t.id />
                                        <button
                                            type="submit"
                                            aria-label=format!("Launch now: {}", t.name)
                                        >
                                            "Launch now"
                                        </button>
                                    </ActionForm>
                                </article>
                            }
                        })
                        .collect_view()}
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
            <div class="empty-state">
                <p>
                    {if can_manage {
                        "No campaigns yet. Launch a template above to start the first review."
                    } else {
                        "No campaigns yet. The security team starts them; your items will show under Reviews."
                    }}
                </p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data-table" id="campaigns">
                    <thead>
                        <tr>
                            <th scope="col">"Campaign"</th>
                            <th scope="col">"State"</th>
                            <th scope="col">"Controls"</th>
                            <th scope="col">"Starts"</th>
                            <th scope="col">"Due"</th>
                            <th scope="col">"Progress"</th>
                            <th scope="col">"Changes pending"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {overview
                            .campaigns
                            .into_iter()
                            .map(|c| {
                                let progress = c.progress();
                                let overdue = c.is_overdue(now);
                                view! {
                                    <tr>
                                        <th scope="row">
                                            <a href=format!(
                                                "/campaigns/{}",
                                                c.id,
                                            )>{c.draft.name.clone()}</a>
                                            <span class="sub">{c.draft.recurrence.to_string()}</span>
                                        </th>
                                        <td>
                                            {state_badge(c.state)}
                                            {overdue
                                                .then(|| {
                                                    view! {
                                                        " "
                                                        <span class="badge severity-high">"overdue"</span>
                                                    }
                                                })}
                                        </td>
                                        <td>{c.draft.controls.join(", ")}</td>
                                        <td>{format::date(Some(c.draft.starts_at))}</td>
                                        <td>{format::date(Some(c.draft.due_at))}</td>
                                        <td>
                                            {if c.state == CampaignState::Scheduled {
                                                "not launched".to_owned()
                                            } else {
                                                progress_text(&progress)
                                            }}
                                        </td>
                                        <td>{format::count(c.remediation_open)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
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
                {progress_table(
                    "progress-by-control",
                    "Items decided per control (open campaigns)",
                    overview.by_control,
                )}
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
            <label>
                "Scope (an inventory filter, as in the inventory's address)"
                <input type="text" name="scope" required=true placeholder="class=ai&env=prod" />
            </label>
            <label>
                "Controls it evidences (ids, comma-separated)"
                <input type="text" name="controls" required=true placeholder="NHI1, GV.RR-02" />
            </label>
            <fieldset>
                <legend>"What is reviewed"</legend>
                <label class="check">
                    <input type="checkbox" name="review_ownership" value="on" checked=true />
                    "Ownership and whether it is still needed"
                </label>
                <label class="check">
                    <input type="checkbox" name="review_entitlements" value="on" />
                    "Entitlements"
                </label>
                <label class="check">
                    <input type="checkbox" name="review_credentials" value="on" />
                    "Credentials"
                </label>
            </fieldset>
            <label>
                "Starts (today launches now)"
                <input type="date" name="starts_on" required=true value=today.to_string() />
            </label>
            <label>
                "Due" <input type="date" name="due_on" required=true value=due.to_string() />
            </label>
            <label>
                "Remind every (days)"
                <input
                    type="number"
                    name="remind_every_days"
                    min="1"
                    max="30"
                    value="7"
                    required=true
                />
            </label>
            <label>
                "After the due date" <select name="escalation">
                    <option value="sponsor" selected=true>
                        "Escalate to the sponsor (else the security team)"
                    </option>
                    <option value="security_team">"Reassign to the security team"</option>
                </select>
            </label>
            <label>
                "Undecided at close" <select name="close_policy">
                    <option value="keep" selected=true>
                        "Keep the access (recorded as an exception)"
                    </option>
                    <option value="revoke">"Revoke it"</option>
                </select>
            </label>
            <label>
                "Recurrence" <select name="recurrence">
                    <option value="once">"Once"</option>
                    <option value="monthly">"Monthly"</option>
                    <option value="quarterly" selected=true>
                        "Quarterly"
                    </option>
                    <option value="yearly">"Yearly"</option>
                </select>
            </label>
            <button type="submit">"Create campaign"</button>
        </ActionForm>
    }
    .into_any()
}
