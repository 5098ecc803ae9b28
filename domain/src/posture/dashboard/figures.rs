//! The dashboard and the posture report as figures: each number with its chart, label
//! and drill-down link, and their CSV export.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::csv::csv_field;
use crate::inventory::{ActorClass, FindingFilter, IdentityQuery};
use crate::posture::catalog::Catalog;

use super::{age_bucket_label, ControlStatus, Snapshot, TrendPoint, AGE_BUCKETS};

/// What the dashboard shows: the latest snapshot, the trend and the controls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub snapshot: Option<Snapshot>,
    pub trend: Vec<TrendPoint>,
    pub controls: Vec<ControlStatus>,
}

/// The posture of one day, for the printable report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostureReport {
    pub day: NaiveDate,
    pub snapshot: Snapshot,
    pub controls: Vec<ControlStatus>,
}

/// One number of a snapshot, for the dashboard's tables and its CSV: the chart it
/// belongs to, what it counts, the value, and the inventory filter that lists the
/// identities behind it (a URL query string; `None` when no filter can).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figure {
    pub chart: String,
    pub label: String,
    pub value: f64,
    pub drill_down: Option<String>,
}

fn drill(query: IdentityQuery) -> Option<String> {
    Some(query.to_query_string())
}

/// Every number of the snapshot, chart by chart, with its drill-down.
pub fn figures(snapshot: &Snapshot, catalog: &Catalog) -> Vec<Figure> {
    let mut out = Vec::new();
    let mut push = |chart: &str, label: String, value: f64, drill_down: Option<String>| {
        out.push(Figure {
            chart: chart.to_owned(),
            label,
            value,
            drill_down,
        })
    };
    for class in ActorClass::ALL {
        let base = IdentityQuery {
            actor_class: Some(*class),
            ..IdentityQuery::new()
        };
        push(
            "governed",
            format!("{} identities governed (%)", class.label()),
            snapshot.governed_percent(Some(*class)),
            drill(IdentityQuery {
                ungoverned: true,
                ..base.clone()
            }),
        );
        push(
            "governed",
            format!("{} identities", class.label()),
            snapshot.identities.get(*class) as f64,
            drill(base.clone()),
        );
        push(
            "stale",
            format!("{} identities unused", class.label()),
            snapshot.stale.get(*class) as f64,
            drill(IdentityQuery {
                finding: Some(FindingFilter::Check("unused".into())),
                ..base
            }),
        );
    }
    for framework in &catalog.frameworks {
        for control in &framework.controls {
            let open = snapshot.open_for_control(catalog, &control.id);
            if catalog.checks_for(&control.id).next().is_none() {
                continue;
            }
            out.push(Figure {
                chart: format!("controls:{}", framework.framework),
                label: control.id.clone(),
                value: open as f64,
                drill_down: drill(IdentityQuery {
                    control: Some(control.id.clone()),
                    ..IdentityQuery::new()
                }),
            });
        }
    }
    for check in &catalog.checks {
        out.push(Figure {
            chart: "checks".into(),
            label: check.id.clone(),
            value: snapshot.open_by_check.get(&check.id).copied().unwrap_or(0) as f64,
            drill_down: drill(IdentityQuery {
                finding: Some(FindingFilter::Check(check.id.clone())),
                ..IdentityQuery::new()
            }),
        });
    }
    for (team, open) in &snapshot.open_by_team {
        out.push(Figure {
            chart: "teams".into(),
            label: if team.is_empty() {
                "(no team)".into()
            } else {
                team.clone()
            },
            value: *open as f64,
            // Identities without a team cannot be filtered for; all with findings are.
            drill_down: drill(IdentityQuery {
                team: (!team.is_empty()).then(|| team.clone()),
                finding: Some(FindingFilter::Any),
                ..IdentityQuery::new()
            }),
        });
    }
    for (owner, open) in &snapshot.open_by_owner {
        out.push(Figure {
            chart: "owners".into(),
            label: if owner.is_empty() {
                "(no owner)".into()
            } else {
                owner.clone()
            },
            value: *open as f64,
            drill_down: drill(if owner.is_empty() {
                IdentityQuery {
                    finding: Some(FindingFilter::Check("no-owner".into())),
                    ..IdentityQuery::new()
                }
            } else {
                IdentityQuery {
                    owner: Some(owner.clone()),
                    finding: Some(FindingFilter::Any),
                    ..IdentityQuery::new()
                }
            }),
        });
    }
    for (bucket, count) in AGE_BUCKETS.iter().zip(&snapshot.credential_age) {
        out.push(Figure {
            chart: "credential_age".into(),
            label: age_bucket_label(*bucket),
            value: *count as f64,
            drill_down: drill(IdentityQuery {
                credential_age: Some(*bucket),
                ..IdentityQuery::new()
            }),
        });
    }
    out
}

/// The header row of [`figures_csv`].
pub const FIGURES_CSV_HEADER: &str = "taken_at,chart,label,value,drill_down\n";

/// The figures as CSV (`chart,label,value,drill_down`), with the snapshot's time.
pub fn figures_csv(snapshot: &Snapshot, catalog: &Catalog) -> String {
    let mut csv = String::from(FIGURES_CSV_HEADER);
    let taken = snapshot.taken_at.to_rfc3339();
    for figure in figures(snapshot, catalog) {
        csv.push_str(&format!(
            "{},{},{},{},{}\n",
            taken,
            csv_field(&figure.chart),
            csv_field(&figure.label),
            figure.value,
            csv_field(
                &figure
                    .drill_down
                    .map(|q| format!("/inventory?{q}"))
                    .unwrap_or_default()
            )
        ));
    }
    csv
}
