//! Plain functions that turn domain values into text and links for the pages.

use chrono::{DateTime, Utc};
use steward_domain::inventory::{
    ActorClass, FacetCount, Facets, IdentityKind, IdentityQuery, Sort, SortKey,
};

/// `2026-11-29`, or an em dash for "none".
/// Text made safe inside HTML or SVG (element text and quoted attributes).
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn date(value: Option<DateTime<Utc>>) -> String {
    value.map_or_else(|| "—".to_owned(), |at| at.format("%Y-%m-%d").to_string())
}

/// Link to the inventory showing `query`.
pub fn inventory_href(query: &IdentityQuery) -> String {
    let qs = query.to_query_string();
    if qs.is_empty() {
        "/inventory".to_owned()
    } else {
        format!("/inventory?{qs}")
    }
}

/// The actor-class tabs of the inventory: label, link, and whether it is the current one.
pub fn class_tabs(query: &IdentityQuery) -> Vec<(&'static str, String, bool)> {
    let mut tabs = vec![(
        "All",
        inventory_href(&query.with_actor_class(None)),
        query.actor_class.is_none(),
    )];
    for class in ActorClass::ALL {
        tabs.push((
            match class {
                ActorClass::Machine => "Machine",
                ActorClass::Ai => "AI",
            },
            inventory_href(&query.with_actor_class(Some(*class))),
            query.actor_class == Some(*class),
        ));
    }
    tabs
}

/// The CSV export of the same filters and order.
pub fn export_href(query: &IdentityQuery) -> String {
    let export = IdentityQuery {
        cursor: None,
        limit: IdentityQuery::DEFAULT_LIMIT,
        ..query.clone()
    };
    let qs = export.to_query_string();
    if qs.is_empty() {
        "/api/v1/identities/export.csv".to_owned()
    } else {
        format!("/api/v1/identities/export.csv?{qs}")
    }
}

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The orders the sort menu offers: (URL value, label).
pub fn sort_options() -> Vec<(String, String)> {
    let mut options = Vec::new();
    for key in SortKey::ALL {
        for descending in [false, true] {
            let sort = Sort {
                key: *key,
                descending,
            };
            let direction = match (key, descending) {
                (SortKey::Name, false) => "A → Z",
                (SortKey::Name, true) => "Z → A",
                (SortKey::Created, false) => "oldest first",
                (SortKey::Created, true) => "newest first",
                (SortKey::LastUsed, false) => "longest unused first",
                (SortKey::LastUsed, true) => "most recent first",
                (SortKey::Expires, false) => "soonest first",
                (SortKey::Expires, true) => "latest first",
            };
            options.push((sort.as_param(), format!("{}: {direction}", key.label())));
        }
    }
    options
}

/// A sortable column header: the link that sorts by it (toggling the direction when
/// it is already the sort) and its `aria-sort` state.
pub fn sort_header(query: &IdentityQuery, key: SortKey) -> (String, &'static str) {
    let current = query.sort.key == key;
    let state = match (current, query.sort.descending) {
        (false, _) => "none",
        (true, false) => "ascending",
        (true, true) => "descending",
    };
    let next = Sort {
        key,
        descending: current && !query.sort.descending,
    };
    (inventory_href(&query.with_sort(next)), state)
}

pub fn sort_arrow(state: &str) -> &'static str {
    match state {
        "ascending" => " ▲",
        "descending" => " ▼",
        _ => "",
    }
}

/// One group of the facet bar: its title and (label, count, link) per value.
pub type FacetGroup = (&'static str, Vec<(String, u64, String)>);

/// The facet bar: per dimension, (label, count, link narrowing the filter to it).
pub fn facet_groups(facets: &Facets, query: &IdentityQuery) -> Vec<FacetGroup> {
    let link = |f: &dyn Fn(&mut IdentityQuery)| {
        let mut q = query.first_page();
        f(&mut q);
        inventory_href(&q)
    };
    let group = |counts: &[FacetCount],
                 label: &dyn Fn(&str) -> String,
                 apply: &dyn Fn(&mut IdentityQuery, &str)| {
        counts
            .iter()
            .map(|c| (label(&c.value), c.count, link(&|q| apply(q, &c.value))))
            .collect::<Vec<_>>()
    };
    let mut groups = vec![
        (
            "Class",
            group(
                &facets.actor_class,
                &|v| {
                    v.parse::<ActorClass>()
                        .map_or(v.to_owned(), |c| c.label().to_owned())
                },
                &|q, v| q.actor_class = v.parse().ok(),
            ),
        ),
        (
            "Kind",
            group(
                &facets.kind,
                &|v| {
                    v.parse::<IdentityKind>()
                        .map_or(v.to_owned(), |k| k.label().to_owned())
                },
                &|q, v| {
                    q.kind = v.parse().ok();
                    // A kind implies its class; keep the two consistent.
                    q.actor_class = q.kind.map(IdentityKind::actor_class);
                },
            ),
        ),
        (
            "Source",
            group(&facets.source, &|v| v.to_owned(), &|q, v| {
                q.source = v.parse().ok()
            }),
        ),
        (
            "Environment",
            group(&facets.environment, &|v| v.to_owned(), &|q, v| {
                q.environment = Some(v.to_owned())
            }),
        ),
        (
            "Status",
            group(&facets.status, &|v| v.to_owned(), &|q, v| {
                q.status = v.parse().ok()
            }),
        ),
    ];
    groups.push((
        "Attention",
        vec![
            (
                "Orphaned".to_owned(),
                facets.orphaned,
                link(&|q| q.orphaned = true),
            ),
            (
                "Expired".to_owned(),
                facets.expired,
                link(&|q| q.expired = true),
            ),
        ],
    ));
    groups
}

/// CSS modifier for a credential's rotation state.
pub fn rotation_class(state: steward_domain::identity::RotationState) -> &'static str {
    use steward_domain::identity::RotationState::*;
    match state {
        Revoked | Expired | Overdue => "bad",
        DueSoon | NoPolicy => "warn",
        Current => "ok",
    }
}

/// A node of the delegation diagram, placed.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeBox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// The name as drawn (shortened to fit the box) and in full.
    pub name: String,
    pub full_name: String,
    pub kind: String,
    /// What it can exercise through delegation, a few lines at most.
    pub lines: Vec<String>,
    pub focus: bool,
}

/// An arrow of the delegation diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeLine {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DiagramLayout {
    pub width: f64,
    pub height: f64,
    pub nodes: Vec<NodeBox>,
    pub edges: Vec<EdgeLine>,
}

const NODE_W: f64 = 220.0;
const NODE_H: f64 = 96.0;
const GAP_X: f64 = 90.0;
const GAP_Y: f64 = 24.0;
const PERM_LINES: usize = 3;
/// Characters of a name that fit a box.
const NAME_CHARS: usize = 26;

/// `text`, cut to `max` characters with an ellipsis when longer.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// Places the delegation graph: one column per delegation depth, nodes stacked in
/// each column, arrows from the right edge of the delegator to the left edge of the
/// delegate. Each node lists its effective permissions (narrowed along the chain).
pub fn diagram_layout(graph: &steward_domain::delegation::DelegationGraph) -> DiagramLayout {
    let layers = graph.layers();
    let effective = graph.effective_permissions();
    let mut rows_used: std::collections::BTreeMap<usize, usize> = Default::default();
    let mut nodes = Vec::new();
    let mut at: std::collections::BTreeMap<uuid::Uuid, (f64, f64)> = Default::default();
    for node in &graph.nodes {
        let column = layers.get(&node.id).copied().unwrap_or(0);
        let row = rows_used.entry(column).or_default();
        let x = 10.0 + column as f64 * (NODE_W + GAP_X);
        let y = 10.0 + *row as f64 * (NODE_H + GAP_Y);
        *row += 1;
        at.insert(node.id, (x, y));
        let perms: Vec<String> = effective
            .get(&node.id)
            .map(|p| p.iter().cloned().collect())
            .unwrap_or_default();
        let mut lines: Vec<String> = perms.iter().take(PERM_LINES).cloned().collect();
        if perms.is_empty() {
            lines.push("no effective permissions".to_owned());
        } else if perms.len() > PERM_LINES {
            lines[PERM_LINES - 1] = format!("… {} permissions in all", perms.len());
        }
        let narrowed = node.permissions.len().saturating_sub(perms.len());
        let kind = if narrowed > 0 {
            format!(
                "{} · {narrowed} of its own not usable here",
                node.kind.label()
            )
        } else {
            node.kind.label().to_owned()
        };
        nodes.push(NodeBox {
            x,
            y,
            w: NODE_W,
            h: NODE_H,
            name: shorten(&node.name, NAME_CHARS),
            full_name: node.name.clone(),
            kind,
            lines,
            focus: node.id == graph.focus,
        });
    }
    let edges = graph
        .edges
        .iter()
        .filter_map(|e| {
            let (fx, fy) = at.get(&e.from)?;
            let (tx, ty) = at.get(&e.to)?;
            Some(EdgeLine {
                x1: fx + NODE_W,
                y1: fy + NODE_H / 2.0,
                x2: *tx,
                y2: ty + NODE_H / 2.0,
                label: match e.kind {
                    steward_domain::delegation::DelegationKind::ActsAs => "acts as".to_owned(),
                    steward_domain::delegation::DelegationKind::SubAgent => "sub-agent".to_owned(),
                },
            })
        })
        .collect();
    let columns = rows_used.len().max(1) as f64;
    let rows = rows_used.values().copied().max().unwrap_or(1) as f64;
    DiagramLayout {
        width: 20.0 + columns * NODE_W + (columns - 1.0) * GAP_X,
        height: 20.0 + rows * NODE_H + (rows - 1.0) * GAP_Y,
        nodes,
        edges,
    }
}

/// The diagram in words, for screen readers and as its caption.
pub fn describe_delegation(graph: &steward_domain::delegation::DelegationGraph) -> String {
    let name = |id: &uuid::Uuid| {
        graph
            .nodes
            .iter()
            .find(|n| n.id == *id)
            .map_or("?".to_owned(), |n| n.name.clone())
    };
    let effective = graph.effective_permissions();
    graph
        .edges
        .iter()
        .map(|e| {
            let verb = match e.kind {
                steward_domain::delegation::DelegationKind::ActsAs => "acts as",
                steward_domain::delegation::DelegationKind::SubAgent => "hands work to sub-agent",
            };
            let usable = effective.get(&e.to).map_or(0, |p| p.len());
            format!(
                "{} {verb} {} ({usable} permissions usable through this chain)",
                name(&e.from),
                name(&e.to)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// An audit action in words for the timeline.
pub fn describe_event(action: &str) -> String {
    match action {
        "identity.create" => "Created".into(),
        "identity.update" => "Edited".into(),
        "identity.assign_owner" => "Owner assigned".into(),
        "identity.assign_sponsor" => "Sponsor assigned".into(),
        "identity.assignment_accept" => "Assignment accepted".into(),
        "identity.assignment_dispute" => "Assignment disputed".into(),
        "identity.orphaned" => "Orphaned: owner left".into(),
        "identity.suspend" => "Suspended".into(),
        "identity.reactivate" => "Reactivated".into(),
        "identity.retire" => "Retired".into(),
        "credential.add" => "Credential added".into(),
        "credential.revoke" => "Credential revoked".into(),
        "entitlement.add" => "Entitlement granted".into(),
        "entitlement.remove" => "Entitlement removed".into(),
        "identity.expiry" => "Expiry changed".into(),
        "delegation.add" => "Delegation added".into(),
        "delegation.remove" => "Delegation removed".into(),
        other => other.to_owned(),
    }
}

/// The human part of an audit event's details: reason, evidence, person, note.
pub fn event_summary(details: &serde_json::Value) -> Option<String> {
    let text = |key: &str| details.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let mut parts = Vec::new();
    if let Some(person) = text("person") {
        parts.push(format!("to {person}"));
    }
    for key in ["reason", "evidence", "note", "summary"] {
        if let Some(value) = text(key) {
            parts.push(value);
        }
    }
    if let Some(changes) = details.get("changes").and_then(|c| c.as_object()) {
        parts.push(format!(
            "changed: {}",
            changes.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" — "))
}

/// A chart figure as text: whole numbers without decimals, others with one.
pub fn number_text(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// The inventory's finding filter choices: (check id, title).
pub fn finding_options() -> Vec<(String, String)> {
    steward_domain::posture::catalog::Catalog::shipped()
        .checks
        .iter()
        .map(|c| (c.id.clone(), c.title.clone()))
        .collect()
}

/// The inventory's control filter choices — controls some check covers:
/// (id, `id — title`).
pub fn control_options() -> Vec<(String, String)> {
    let catalog = steward_domain::posture::catalog::Catalog::shipped();
    catalog
        .frameworks
        .iter()
        .flat_map(|f| f.controls.iter())
        .filter(|c| catalog.checks_for(&c.id).next().is_some())
        .map(|c| (c.id.clone(), format!("{} — {}", c.id, c.title)))
        .collect()
}

/// The credential age filter choices: (parameter value, label, range).
pub fn credential_age_options() -> Vec<(String, String, (u32, Option<u32>))> {
    steward_domain::posture::dashboard::AGE_BUCKETS
        .iter()
        .map(|bucket| {
            let value = match bucket.1 {
                Some(to) => format!("{}-{to}", bucket.0),
                None => format!("{}-", bucket.0),
            };
            (
                value,
                steward_domain::posture::dashboard::age_bucket_label(*bucket),
                *bucket,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn posture_filter_choices_are_valid_inventory_filters() {
        use steward_domain::inventory::IdentityQuery;
        for (check, _) in super::finding_options() {
            assert!(IdentityQuery::from_query_string(&format!("finding={check}")).is_ok());
        }
        let controls = super::control_options();
        assert!(controls.iter().any(|(id, _)| id == "NHI1"));
        for (id, _) in controls {
            let q = IdentityQuery {
                control: Some(id),
                ..IdentityQuery::new()
            };
            assert!(IdentityQuery::from_query_string(&q.to_query_string()).is_ok());
        }
        for (value, _, range) in super::credential_age_options() {
            let q = IdentityQuery::from_query_string(&format!("cred_age={value}")).unwrap();
            assert_eq!(q.credential_age, Some(range));
        }
    }

    use super::*;
    use chrono::TimeZone;
    use steward_domain::inventory::Cursor;

    #[test]
    fn dates_are_iso_days_or_a_dash() {
        let at = Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap();
        assert_eq!(date(Some(at)), "2026-03-04");
        assert_eq!(date(None), "—");
    }

    #[test]
    fn tabs_keep_search_and_drop_the_cursor() {
        let mut query = IdentityQuery::from_query_string("q=deploy&class=ai").unwrap();
        query.cursor = Some(Cursor {
            sort: "name".into(),
            after_value: Some("a".into()),
            after_id: uuid::Uuid::from_u128(1),
        });
        let tabs = class_tabs(&query);
        assert_eq!(
            tabs,
            vec![
                ("All", "/inventory?q=deploy".to_owned(), false),
                (
                    "Machine",
                    "/inventory?class=machine&q=deploy".to_owned(),
                    false
                ),
                ("AI", "/inventory?class=ai&q=deploy".to_owned(), true),
            ]
        );
        assert_eq!(inventory_href(&IdentityQuery::new()), "/inventory");
    }

    #[test]
    fn sorting_links_toggle_direction_and_keep_filters() {
        let query = IdentityQuery::from_query_string("env=prod&sort=expires").unwrap();
        assert_eq!(
            sort_header(&query, SortKey::Expires),
            ("/inventory?env=prod&sort=-expires".to_owned(), "ascending")
        );
        assert_eq!(
            sort_header(&query, SortKey::Name),
            ("/inventory?env=prod".to_owned(), "none")
        );
        assert_eq!(sort_arrow("descending"), " ▼");
        assert_eq!(sort_options().len(), 8);
        assert_eq!(
            export_href(&query),
            "/api/v1/identities/export.csv?env=prod&sort=expires"
        );
    }

    #[test]
    fn counts_and_facet_links() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1234567), "1,234,567");
        let facets = Facets::from_groups(
            &[(
                ["ai", "agent", "aws", "prod", "active"].map(String::from),
                3,
            )],
            1,
            0,
        );
        let query = IdentityQuery::from_query_string("q=x").unwrap();
        let groups = facet_groups(&facets, &query);
        let kind = &groups[1];
        assert_eq!(
            kind.1[0],
            (
                "Agent".to_owned(),
                3,
                "/inventory?class=ai&kind=agent&q=x".to_owned()
            )
        );
        assert_eq!(
            groups.last().unwrap().1[0].2,
            "/inventory?orphaned=true&q=x"
        );
    }

    #[test]
    fn delegation_diagram_places_columns_and_narrowed_permissions() {
        use steward_domain::delegation::{
            DelegationEdge, DelegationGraph, DelegationKind, DelegationNode,
        };
        use steward_domain::inventory::IdentityStatus;
        let node = |n: u128, kind, perms: &[&str]| DelegationNode {
            id: uuid::Uuid::from_u128(n),
            name: format!("n{n}"),
            kind,
            status: IdentityStatus::Active,
            permissions: perms.iter().map(|p| p.to_string()).collect(),
        };
        let graph = DelegationGraph {
            focus: uuid::Uuid::from_u128(1),
            nodes: vec![
                node(1, IdentityKind::Agent, &["crm:read"]),
                node(2, IdentityKind::ServiceAccount, &["crm:read", "crm:delete"]),
            ],
            edges: vec![DelegationEdge {
                from: uuid::Uuid::from_u128(1),
                to: uuid::Uuid::from_u128(2),
                kind: DelegationKind::ActsAs,
            }],
        };
        let layout = diagram_layout(&graph);
        assert_eq!(layout.nodes.len(), 2);
        assert!(layout.nodes[0].focus);
        assert!(
            layout.nodes[1].x > layout.nodes[0].x,
            "the delegate is to the right"
        );
        assert_eq!(layout.nodes[1].lines, ["crm:read"]);
        assert_eq!(
            layout.nodes[1].kind,
            "Service account · 1 of its own not usable here"
        );
        assert_eq!(layout.edges[0].label, "acts as");
        assert_eq!(
            shorten("code-review-orchestrator-157", 26),
            "code-review-orchestrator-…"
        );
        assert_eq!(shorten("short", 26), "short");
        assert_eq!(
            describe_delegation(&graph),
            "n1 acts as n2 (1 permissions usable through this chain)"
        );
    }

    #[test]
    fn timeline_texts() {
        assert_eq!(describe_event("identity.suspend"), "Suspended");
        let details = serde_json::json!({"person": "a@x.io", "reason": "reorg"});
        assert_eq!(event_summary(&details).unwrap(), "to a@x.io — reorg");
        assert_eq!(event_summary(&serde_json::json!({})), None);
    }
}
