//! Delegation: who acts through whom. An agent acts through its execution identity
//! (`acts_as`) and hands work to sub-agents (`sub_agent`); the edges form a DAG.
//! Along a chain the effective permission narrows: a node can use through delegation
//! only what it holds itself *and* what reached it from the node delegating to it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::inventory::{IdentityKind, IdentityStatus};
use crate::string_enum::string_enum;

string_enum! {
    /// How one identity delegates to another.
    pub enum DelegationKind: "delegation kind" {
        /// An agent acts through an execution identity (service account, workload).
        ActsAs = "acts_as",
        /// An agent hands work to a sub-agent.
        SubAgent = "sub_agent",
    }
}

/// One edge: `from` delegates to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DelegationEdge {
    pub from: Uuid,
    pub to: Uuid,
    pub kind: DelegationKind,
}

/// An identity in a delegation graph with its own permissions (`resource:action`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DelegationNode {
    pub id: Uuid,
    pub name: String,
    pub kind: IdentityKind,
    pub status: IdentityStatus,
    pub permissions: Vec<String>,
}

/// The part of the delegation DAG around one identity: everyone upstream (who
/// delegates to it) and downstream (whom it delegates to), within a bounded depth.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DelegationGraph {
    pub focus: Uuid,
    pub nodes: Vec<DelegationNode>,
    pub edges: Vec<DelegationEdge>,
}

/// A request to add an edge from the identity in the URL to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDelegation {
    pub to: Uuid,
    pub kind: DelegationKind,
}

impl NewDelegation {
    /// Checks the edge against the kinds of its ends: only AI identities delegate, a
    /// sub-agent is an AI identity, and an execution identity is a machine identity.
    pub fn check_kinds(&self, from: IdentityKind, to: IdentityKind) -> Result<(), DomainError> {
        use crate::inventory::ActorClass::{Ai, Machine};
        let ok = match self.kind {
            // An agent acting through its execution identity, or a workload bound to a
            // cloud identity (Kubernetes workload identity): the target is a machine.
            DelegationKind::ActsAs => to.actor_class() == Machine,
            DelegationKind::SubAgent => from.actor_class() == Ai && to.actor_class() == Ai,
        };
        if ok {
            Ok(())
        } else {
            Err(DomainError::invalid(
                "kind",
                match self.kind {
                    DelegationKind::ActsAs => "acts_as goes to a machine identity (the execution or cloud identity acted through)",
                    DelegationKind::SubAgent => "sub_agent goes from an AI identity to another AI identity",
                },
            ))
        }
    }
}

impl DelegationGraph {
    /// What each node can actually exercise when reached through delegation: its own
    /// permissions intersected with what its delegators could exercise (the union over
    /// several delegators). A node nobody delegates to keeps its own permissions.
    /// Nodes are visited in topological order; edges that would close a cycle (which
    /// the service never stores) are ignored.
    pub fn effective_permissions(&self) -> BTreeMap<Uuid, BTreeSet<String>> {
        let own: BTreeMap<Uuid, BTreeSet<String>> = self
            .nodes
            .iter()
            .map(|n| (n.id, n.permissions.iter().cloned().collect()))
            .collect();
        let mut effective: BTreeMap<Uuid, BTreeSet<String>> = BTreeMap::new();
        for id in self.topological_order() {
            let incoming: Vec<&DelegationEdge> = self.edges.iter().filter(|e| e.to == id).collect();
            let mine = own.get(&id).cloned().unwrap_or_default();
            let reached = if incoming.is_empty() {
                mine
            } else {
                let from_delegators: BTreeSet<String> = incoming
                    .iter()
                    .filter_map(|e| effective.get(&e.from))
                    .flatten()
                    .cloned()
                    .collect();
                mine.intersection(&from_delegators).cloned().collect()
            };
            effective.insert(id, reached);
        }
        effective
    }

    /// Kahn's algorithm over the nodes; nodes on a cycle come last in id order.
    pub fn topological_order(&self) -> Vec<Uuid> {
        let mut indegree: BTreeMap<Uuid, usize> = self.nodes.iter().map(|n| (n.id, 0)).collect();
        for edge in &self.edges {
            if let Some(d) = indegree.get_mut(&edge.to) {
                *d += 1;
            }
        }
        let mut ready: Vec<Uuid> = indegree
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(id, _)| *id)
            .collect();
        let mut order = Vec::new();
        while let Some(id) = ready.pop() {
            order.push(id);
            for edge in self.edges.iter().filter(|e| e.from == id) {
                if let Some(d) = indegree.get_mut(&edge.to) {
                    *d -= 1;
                    if *d == 0 {
                        ready.push(edge.to);
                    }
                }
            }
        }
        for node in &self.nodes {
            if !order.contains(&node.id) {
                order.push(node.id);
            }
        }
        order
    }

    /// Column of each node for drawing: the length of the longest delegation path
    /// reaching it, so every edge points rightwards.
    pub fn layers(&self) -> BTreeMap<Uuid, usize> {
        let mut layer: BTreeMap<Uuid, usize> = BTreeMap::new();
        for id in self.topological_order() {
            let depth = self
                .edges
                .iter()
                .filter(|e| e.to == id)
                .filter_map(|e| layer.get(&e.from).map(|d| d + 1))
                .max()
                .unwrap_or(0);
            layer.insert(id, depth);
        }
        layer
    }
}

/// Whether adding `from → to` to `edges` would close a cycle: true when `from` is
/// already reachable from `to` (or they are the same identity).
pub fn would_cycle(edges: &[(Uuid, Uuid)], from: Uuid, to: Uuid) -> bool {
    if from == to {
        return true;
    }
    let mut seen = BTreeSet::new();
    let mut stack = vec![to];
    while let Some(at) = stack.pop() {
        if at == from {
            return true;
        }
        if seen.insert(at) {
            stack.extend(edges.iter().filter(|(f, _)| *f == at).map(|(_, t)| *t));
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: u128, kind: IdentityKind, perms: &[&str]) -> DelegationNode {
        DelegationNode {
            id: Uuid::from_u128(n),
            name: format!("n{n}"),
            kind,
            status: IdentityStatus::Active,
            permissions: perms.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn edge(from: u128, to: u128, kind: DelegationKind) -> DelegationEdge {
        DelegationEdge {
            from: Uuid::from_u128(from),
            to: Uuid::from_u128(to),
            kind,
        }
    }

    #[test]
    fn permissions_narrow_along_the_chain() {
        // orchestrator(1) → agent(2) → service account(3)
        let graph = DelegationGraph {
            focus: Uuid::from_u128(2),
            nodes: vec![
                node(
                    1,
                    IdentityKind::Orchestrator,
                    &["crm:read", "tickets:write"],
                ),
                node(
                    2,
                    IdentityKind::Agent,
                    &["crm:read", "tickets:write", "mail:send"],
                ),
                node(
                    3,
                    IdentityKind::ServiceAccount,
                    &["crm:read", "crm:delete", "billing:read"],
                ),
            ],
            edges: vec![
                edge(1, 2, DelegationKind::SubAgent),
                edge(2, 3, DelegationKind::ActsAs),
            ],
        };
        let eff = graph.effective_permissions();
        let set = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(
            eff[&Uuid::from_u128(1)],
            set(&["crm:read", "tickets:write"])
        );
        // The agent never gains mail:send through the orchestrator's delegation…
        assert_eq!(
            eff[&Uuid::from_u128(2)],
            set(&["crm:read", "tickets:write"])
        );
        // …and never the service account's extra rights.
        assert_eq!(eff[&Uuid::from_u128(3)], set(&["crm:read"]));
        let layers = graph.layers();
        assert_eq!(
            (
                layers[&Uuid::from_u128(1)],
                layers[&Uuid::from_u128(2)],
                layers[&Uuid::from_u128(3)]
            ),
            (0, 1, 2)
        );
    }

    #[test]
    fn cycles_are_detected() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let c = Uuid::from_u128(3);
        let edges = [(a, b), (b, c)];
        assert!(would_cycle(&edges, c, a));
        assert!(would_cycle(&edges, a, a));
        assert!(!would_cycle(&edges, a, c));
    }

    #[test]
    fn edge_kinds_fit_their_ends() {
        let acts = NewDelegation {
            to: Uuid::nil(),
            kind: DelegationKind::ActsAs,
        };
        assert!(acts
            .check_kinds(IdentityKind::Agent, IdentityKind::ServiceAccount)
            .is_ok());
        assert!(acts
            .check_kinds(IdentityKind::Workload, IdentityKind::ServiceAccount)
            .is_ok());
        assert!(acts
            .check_kinds(IdentityKind::ServiceAccount, IdentityKind::Agent)
            .is_err());
        let sub = NewDelegation {
            to: Uuid::nil(),
            kind: DelegationKind::SubAgent,
        };
        assert!(sub
            .check_kinds(IdentityKind::Orchestrator, IdentityKind::Agent)
            .is_ok());
        assert!(sub
            .check_kinds(IdentityKind::Agent, IdentityKind::Workload)
            .is_err());
    }
}
