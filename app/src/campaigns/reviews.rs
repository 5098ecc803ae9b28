//! The reviewer's **Reviews** inbox: the items waiting for the caller's decision.

use leptos::prelude::*;
use leptos_meta::Title;
use steward_domain::campaigns::{Remediation, ReviewItem};

use crate::error::ErrorNotice;
use crate::format;
use crate::toast::Toast;

use super::{my_reviews, outcome_text, DecideItem, DecideSelected};

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
            Err(e) => view! {
                <p class="notice error" role="alert">
                    {e.to_string()}
                </p>
            }
            .into_any(),
        })
    };
    view! {
        <Title text="Reviews" />
        <h1>"Reviews"</h1>
        <p class="lede">
            "Identities waiting for your decision: is it still needed, and is its access right?"
        </p>
        {outcome}
        <Transition fallback=|| {
            view! { <p class="loading">"Loading your reviews…"</p> }
        }>
            {move || Suspend::new(async move {
                match reviews.await {
                    Ok(data) => {
                        view! { <ReviewsView items=data.items now=data.now decide bulk /> }
                            .into_any()
                    }
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
            <div class="empty-state">
                <p>
                    "Nothing waits for your review. When a campaign names you, its items show here."
                </p>
            </div>
        }
        .into_any();
    }
    let count = items.len();
    view! {
        <section class="card" aria-labelledby="bulk-h">
            <h2 id="bulk-h">"Decide several at once"</h2>
            <p class="muted">
                "Tick items below, then decide them all the same way. Reducing entitlements is decided item by item."
            </p>
            <ActionForm action=bulk attr:id="bulk-form">
                <label>
                    "Decision" <select name="decision">
                        <option value="certify">"Certify"</option>
                        <option value="revoke">"Revoke"</option>
                    </select>
                </label>
                <label>
                    "Comment (required to revoke, and to certify items with a high-severity finding)"
                    <input type="text" name="comment" maxlength="2000" />
                </label>
                <label class="check">
                    <input type="checkbox" name="confirm" value="yes" required=true />
                    "I confirm this decision for every ticked item"
                </label>
                <button type="submit">"Decide ticked items"</button>
            </ActionForm>
        </section>
        <p class="muted">
            {format!("{count} item{} to review.", if count == 1 { "" } else { "s" })}
        </p>
        <ol class="review-list">
            {items
                .into_iter()
                .map(|item| {
                    view! {
                        <li>
                            <ReviewCard item decide now />
                        </li>
                    }
                        .into_any()
                })
                .collect_view()}
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
                {s
                    .findings
                    .iter()
                    .map(|f| {
                        view! {
                            <li>
                                <span class=format!(
                                    "badge severity-{}",
                                    f.severity,
                                )>{f.severity.to_string()}</span>
                                " "
                                {f.title.clone()}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let entitlements = view! {
        <ul class="entitlements">
            {if s.entitlements.is_empty() {
                Some(view! { <li class="muted">"No active entitlements."</li> })
            } else {
                None
            }}
            {s
                .entitlements
                .iter()
                .map(|e| {
                    view! {
                        <li>
                            {item
                                .reviewed
                                .entitlements
                                .then(|| {
                                    view! {
                                        <label class="check">
                                            <input
                                                type="checkbox"
                                                name="entitlements[]"
                                                value=e.id.to_string()
                                                form=format!("decide-{}", item.id)
                                            />
                                            <span class="visually-hidden">
                                                {format!("Remove {}", e.permission())}
                                            </span>
                                        </label>
                                    }
                                })} <code>{e.permission()}</code>" "
                            <span class=format!(
                                "badge privilege-{}",
                                e.privilege,
                            )>{e.privilege.to_string()}</span>
                            <span class="sub">
                                {format!(
                                    "{} · since {}",
                                    e.grant_type,
                                    format::date(Some(e.created_at)),
                                )}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any();
    let credentials = view! {
        <ul class="credentials">
            {if s.credentials.is_empty() {
                Some(view! { <li class="muted">"No active credentials."</li> })
            } else {
                None
            }}
            {s
                .credentials
                .iter()
                .map(|c| {
                    let set = c.last_rotated_at.unwrap_or(c.created_at);
                    view! {
                        <li>
                            <code>{c.key_id.clone()}</code>
                            " "
                            <span class="sub">
                                {format!(
                                    "{} · secret set {} ({} days ago) · last used {}",
                                    c.kind,
                                    format::date(Some(set)),
                                    (now - set).num_days(),
                                    format::date(c.last_used_at),
                                )}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any();
    let delegation = (!s.delegates_to.is_empty() || s.delegated_from > 0).then(|| {
        view! {
            <p class="sub">
                {s
                    .delegates_to
                    .iter()
                    .map(|p| {
                        format!(
                            "{} {} ({})",
                            p.delegation,
                            p.name,
                            if p.permissions.is_empty() {
                                "no permissions".to_owned()
                            } else {
                                p.permissions.join(", ")
                            },
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")}
                {(s.delegated_from > 0)
                    .then(|| format!(" · {} identities act through it", s.delegated_from))}
            </p>
        }
        .into_any()
    });
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
        <article
            class="card review-item"
            aria-labelledby=heading_id.clone()
            id=format!("review-{}", item.identity_id)
        >
            <header>
                <label class="check bulk-pick">
                    <input
                        type="checkbox"
                        name="items[]"
                        value=item.id.to_string()
                        form="bulk-form"
                    />
                    <span class="visually-hidden">{format!("Select {}", s.name)}</span>
                </label>
                <h2 id=heading_id.clone()>
                    <a href=format!("/identities/{}", item.identity_id)>{s.name.clone()}</a>
                </h2>
                <span class="sub">
                    {format!(
                        "{} · {} · {} · team {}",
                        s.actor_class,
                        s.kind.label(),
                        s.environment,
                        s.team.clone().unwrap_or_else(|| "—".into()),
                    )}
                </span>
                <p class="sub">
                    {format!("{} · due {}", item.campaign_name, format::date(Some(item.due_at)))}
                    {overdue
                        .then(|| {
                            view! {
                                " "
                                <span class="badge severity-high">"overdue"</span>
                            }
                        })}
                    {item.previous_reviewer.clone().map(|p| format!(" · handed over by {p}"))}
                </p>
            </header>
            <dl class="facts compact">
                <dt>"Owner"</dt>
                <dd>
                    {s.owner.as_ref().map_or_else(|| "none".to_owned(), |o| o.display_name.clone())}
                </dd>
                <dt>"Sponsor"</dt>
                <dd>
                    {s
                        .sponsor
                        .as_ref()
                        .map_or_else(|| "none".to_owned(), |o| o.display_name.clone())}
                </dd>
                <dt>"Purpose"</dt>
                <dd>{s.purpose.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Last used"</dt>
                <dd>
                    {s
                        .last_used_at
                        .map_or_else(
                            || "never".to_owned(),
                            |t| {
                                format!(
                                    "{} ({} days ago)",
                                    format::date(Some(t)),
                                    (now - t).num_days(),
                                )
                            },
                        )}
                </dd>
                <dt>"Expires"</dt>
                <dd>{format::date(s.expires_at)}</dd>
            </dl>
            <div class="review-context">
                <section>
                    <h3>"Findings"</h3>
                    {findings}
                </section>
                <section>
                    <h3>"Entitlements"</h3>
                    {entitlements}
                </section>
                <section>
                    <h3>"Credentials"</h3>
                    {credentials}
                </section>
            </div>
            {delegation}
            <ActionForm action=decide attr:id=form_id attr:class="decision-form">
                <input type="hidden" name="id" value=item.id.to_string() />
                <fieldset>
                    <legend>"Your decision"</legend>
                    {choices
                        .into_iter()
                        .map(|(value, label)| {
                            view! {
                                <label class="check">
                                    <input type="radio" name="decision" value=value required=true />
                                    {label}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <label>
                    {if high {
                        "Comment (required to certify: it has a high-severity finding)"
                    } else {
                        "Comment (required to revoke or reassign)"
                    }} <input type="text" name="comment" maxlength="2000" />
                </label>
                <div class="inline-fields">
                    <label>"Expires on (to let it expire)" <input type="date" name="at" /></label>
                    <label>"Reassign to (email)" <input type="email" name="to" /></label>
                </div>
                <button type="submit" aria-label=format!("Submit decision for {}", s.name)>
                    "Submit decision"
                </button>
            </ActionForm>
        </article>
    }
    .into_any()
}
