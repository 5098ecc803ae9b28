//! The home page (`/`): what needs the caller's attention, by role. The security team
//! sees what needs action today (orphans, expired and expiring identities, approvals
//! waiting, overdue reviews, disputed ownership); an owner their identities, approvals
//! and reviews; a manager the posture; an auditor the trail and the evidence.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorNotice};

/// One card of the home page: a number (when there is one), what it means, where to act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeCard {
    pub id: String,
    pub title: String,
    pub count: Option<u64>,
    pub text: String,
    pub href: String,
    pub action: String,
}

/// The home page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeData {
    pub name: String,
    /// The heading for the caller's role.
    pub heading: String,
    pub cards: Vec<HomeCard>,
}

/// Whether a card with this count asks for attention (a number above zero).
pub fn needs_attention(card: &HomeCard) -> bool {
    card.count.is_some_and(|n| n > 0)
}

#[server(prefix = "/rpc", endpoint = "home/summary")]
pub async fn home_summary() -> Result<HomeData, AppError> {
    use steward_domain::auth::Role;
    use steward_domain::grants::GrantList;
    use steward_domain::inventory::IdentityQuery;
    use steward_domain::ownership::AssignmentState;
    use steward_domain::DomainError;
    fn card(
        id: &str,
        title: &str,
        count: Option<u64>,
        text: &str,
        href: &str,
        action: &str,
    ) -> HomeCard {
        HomeCard {
            id: id.into(),
            title: title.into(),
            count,
            text: text.into(),
            href: href.into(),
            action: action.into(),
        }
    }
    let ports = crate::session::ports()?;
    let principal = crate::session::principal().ok_or(DomainError::Unauthenticated)?;
    let me = Some(&principal);
    let count = |query: &str| {
        let ports = ports.clone();
        let query = query.to_owned();
        async move {
            let query = IdentityQuery::from_query_string(&query)?;
            Ok::<u64, DomainError>(ports.inventory.facets(me, &query).await?.total)
        }
    };
    let mut mine = IdentityQuery::new();
    mine.owner = Some(principal.email.clone());
    let mine_href = crate::format::inventory_href(&mine);
    let owner_filter = mine_href.trim_start_matches("/inventory?").to_owned();
    let (heading, cards) = match principal.role {
        Role::Admin => {
            let approvals = ports.grants.list(me, GrantList::ToApprove).await?.len() as u64;
            let overdue = ports.campaigns.overview(me).await?.overdue.len() as u64;
            let disputed = ports
                .ownership
                .list_assignments(me, Some(AssignmentState::Disputed))
                .await?
                .len() as u64;
            (
                "What needs action today",
                vec![
                    card("orphaned", "Orphaned identities", Some(count("orphaned=true").await?),
                        "No owner, or an owner who has left: nobody answers for them.", "/inventory?orphaned=true", "Assign owners"),
                    card("expired", "Expired identities", Some(count("expired=true").await?),
                        "Past their expiry date: retire or renew them.", "/inventory?expired=true", "Review them"),
                    card("expiring", "Expiring within 30 days", Some(count("expiring=30").await?),
                        "Renew or retire them before they lapse.", "/inventory?expiring=30", "See which"),
                    card("approvals", "Grants waiting for you", Some(approvals),
                        "Just-in-time requests you can approve or deny.", "/grants", "Decide"),
                    card("overdue", "Overdue review items", Some(overdue),
                        "Undecided items of open campaigns past their due date.", "/campaigns", "Follow up"),
                    card("disputed", "Disputed ownership", Some(disputed),
                        "Owners who said an identity is not theirs.", "/ownership", "Resolve"),
                ],
            )
        }
        Role::Owner => {
            let inbox = ports.ownership.inbox(me).await?;
            let approvals = ports.grants.list(me, GrantList::ToApprove).await?.len() as u64;
            let reviews = ports.campaigns.my_reviews(me).await?.len() as u64;
            (
                "Your identities, approvals and reviews",
                vec![
                    card("mine", "Identities you own", Some(count(&owner_filter).await?),
                        "Keep their expiry, credentials and access in order.", &mine_href, "Open them"),
                    card("inbox", "Waiting in your inbox", Some(inbox.assignments.len() as u64),
                        "Ownership assigned to you: accept it or say it is not yours.", "/inbox", "Answer"),
                    card("approvals", "Grants waiting for you", Some(approvals),
                        "Short-lived access requested for your identities.", "/grants", "Decide"),
                    card("reviews", "Your reviews", Some(reviews),
                        "Access review items for you to certify, reduce or revoke.", "/reviews", "Review"),
                ],
            )
        }
        Role::Viewer => (
            "Compliance posture",
            vec![
                card("posture", "Posture dashboard", None,
                    "Findings per control (OWASP NHI and Agentic, NIST) and per team, with the 30-day trend.", "/posture", "Open the dashboard"),
                card("orphaned", "Orphaned identities", Some(count("orphaned=true").await?),
                    "Identities nobody answers for.", "/inventory?orphaned=true", "See which"),
                card("controls", "Controls", None,
                    "Every control of the catalog with its status.", "/controls", "Open the controls"),
            ],
        ),
        Role::Auditor => (
            "Evidence",
            vec![
                card("audit", "Audit trail", None,
                    "Every change, hash-chained; verify the chain and export it.", "/audit", "Open the trail"),
                card("campaigns", "Access reviews", None,
                    "Campaigns with their evidence packs.", "/campaigns", "Open the campaigns"),
                card("report", "Posture report", None,
                    "The printable posture of a day.", "/posture/report", "Open the report"),
            ],
        ),
    };
    Ok(HomeData {
        name: principal.display_name.clone(),
        heading: heading.into(),
        cards,
    })
}

/// The home page.
#[component]
pub fn HomePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| home_summary());
    view! {
        <Title text="Home" />
        <Transition fallback=|| {
            view! {
                <p class="loading" aria-busy="true">
                    "Loading…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(home) => {
                        view! {
                            <h1>{home.heading.clone()}</h1>
                            <p class="lede">{format!("Welcome, {}.", home.name)}</p>
                            <ul class="home-cards" id="home">
                                {home
                                    .cards
                                    .into_iter()
                                    .map(|c| {
                                        let attention = needs_attention(&c);
                                        view! {
                                            <li
                                                class=if attention {
                                                    "card home-card attention"
                                                } else {
                                                    "card home-card"
                                                }
                                                id=format!("home-{}", c.id)
                                            >
                                                <h2>{c.title.clone()}</h2>
                                                {c
                                                    .count
                                                    .map(|n| {
                                                        view! { <p class="home-count">{n.to_string()}</p> }
                                                    })}
                                                <p class="muted">{c.text.clone()}</p>
                                                <a href=c.href.clone()>{c.action.clone()}</a>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
