//! The state of each catalog control as the latest snapshot evidences it.

use serde::{Deserialize, Serialize};

use crate::posture::catalog::Catalog;

use super::Snapshot;

/// How a control stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ControlState {
    /// No check covers it: Steward cannot say.
    NotCovered,
    /// Covered, and no finding is open against it.
    Met,
    /// Covered, and findings are open against it.
    Attention,
}

impl ControlState {
    pub fn label(self) -> &'static str {
        match self {
            ControlState::NotCovered => "not covered",
            ControlState::Met => "met",
            ControlState::Attention => "needs attention",
        }
    }
}

/// One control of the catalog with the checks that cover it and how it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ControlStatus {
    pub framework: String,
    pub framework_name: String,
    pub id: String,
    pub title: String,
    pub summary: String,
    pub checks: Vec<String>,
    pub open: u64,
    pub accepted: u64,
    pub state: ControlState,
}

/// Every control of the catalog, in catalog order, as the snapshot sees it (without a
/// snapshot, covered controls count as met: nothing has been found yet).
pub fn control_statuses(catalog: &Catalog, snapshot: Option<&Snapshot>) -> Vec<ControlStatus> {
    let mut out = Vec::new();
    for framework in &catalog.frameworks {
        for control in &framework.controls {
            let checks: Vec<String> = catalog
                .checks_for(&control.id)
                .map(|c| c.id.clone())
                .collect();
            let open = snapshot.map_or(0, |s| s.open_for_control(catalog, &control.id));
            let accepted = snapshot.map_or(0, |s| s.accepted_for_control(catalog, &control.id));
            let state = if checks.is_empty() {
                ControlState::NotCovered
            } else if open > 0 {
                ControlState::Attention
            } else {
                ControlState::Met
            };
            out.push(ControlStatus {
                framework: framework.framework.clone(),
                framework_name: framework.name.clone(),
                id: control.id.clone(),
                title: control.title.clone(),
                summary: control.summary.clone(),
                checks,
                open,
                accepted,
                state,
            });
        }
    }
    out
}
