//! What the posture pages load and do on the server: the dashboard's data, its charts
//! (drawn on the server, `ssr` only) and the `#[server]` functions (their `/rpc/...`
//! endpoints are named explicitly, so they do not depend on this file's place).

// Form server functions take one argument per form field.
#![allow(clippy::too_many_arguments)]

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use steward_domain::posture::dashboard::{ControlStatus, Dashboard, Figure, PostureReport};
use steward_domain::posture::findings::EvaluationReport;

use crate::error::AppError;

// Only the server functions' bodies (server side) use this.
#[cfg(feature = "ssr")]
use super::end_of_day;

/// One chart, drawn on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub svg: String,
    /// Which figures (by `chart`) the chart's table lists.
    pub figures: String,
}

/// The dashboard as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    pub dashboard: Dashboard,
    pub charts: Vec<ChartView>,
    pub figures: Vec<Figure>,
    pub can_evaluate: bool,
}

/// Every chart of the dashboard and the figures behind them (server only: the
/// benchmark times them with the dashboard).
#[cfg(feature = "ssr")]
pub use imp::charts as dashboard_charts;

#[cfg(feature = "ssr")]
mod imp {
    use steward_domain::posture::catalog::Catalog;
    use steward_domain::posture::dashboard::{figures, Dashboard, Figure};

    use super::ChartView;
    use crate::charts::{bar_chart, heat_map, line_chart, Datum};

    fn data(figures: &[Figure], chart: &str) -> Vec<Datum> {
        figures
            .iter()
            .filter(|f| f.chart == chart)
            .map(|f| Datum {
                label: f.label.clone(),
                value: f.value,
                href: f.drill_down.as_ref().map(|q| format!("/inventory?{q}")),
            })
            .collect()
    }

    /// Every chart of the dashboard, and the figures behind them.
    pub fn charts(dashboard: &Dashboard) -> (Vec<ChartView>, Vec<Figure>) {
        let catalog = Catalog::shipped();
        let Some(snapshot) = &dashboard.snapshot else {
            return (Vec::new(), Vec::new());
        };
        let all = figures(snapshot, catalog);
        let mut charts = Vec::new();
        let mut chart = |id: &str, title: &str, description: String, svg: String, figures: &str| {
            charts.push(ChartView {
                id: id.into(),
                title: title.into(),
                description,
                svg,
                figures: figures.into(),
            })
        };

        // A bar leads to the identities of its class that are not governed.
        let governed: Vec<Datum> = data(&all, "governed")
            .into_iter()
            .filter(|d| d.label.ends_with("(%)"))
            .collect();
        let description = format!(
            "{:.1}% of machine and {:.1}% of AI identities have an active owner, an expiry and a revocation path.",
            snapshot.governed_percent(Some(steward_domain::inventory::ActorClass::Machine)),
            snapshot.governed_percent(Some(steward_domain::inventory::ActorClass::Ai))
        );
        chart(
            "chart-governed",
            "Governed identities: owner, expiry and revocation path",
            description.clone(),
            bar_chart(
                "chart-governed",
                "Governed identities",
                &description,
                &governed,
                "%",
            ),
            "governed",
        );

        let rows: Vec<(String, Vec<Datum>)> = catalog
            .frameworks
            .iter()
            .map(|f| {
                (
                    f.name.clone(),
                    data(&all, &format!("controls:{}", f.framework)),
                )
            })
            .filter(|(_, cells)| !cells.is_empty())
            .collect();
        let worst = all
            .iter()
            .filter(|f| f.chart.starts_with("controls:"))
            .max_by(|a, b| a.value.total_cmp(&b.value));
        let description = match worst {
            Some(w) if w.value > 0.0 => format!(
                "Open findings per control covered by a check; {} has the most ({}).",
                w.label, w.value
            ),
            _ => "No open findings against any control.".into(),
        };
        chart(
            "chart-controls",
            "Open findings by framework and control",
            description.clone(),
            heat_map(
                "chart-controls",
                "Open findings by control",
                &description,
                &rows,
            ),
            "controls:",
        );

        for (id, title, source, empty) in [
            (
                "chart-checks",
                "Open findings by check",
                "checks",
                "No open findings.",
            ),
            (
                "chart-teams",
                "Open findings by team",
                "teams",
                "No team has open findings.",
            ),
            (
                "chart-owners",
                "Open findings by owner",
                "owners",
                "No owner has open findings.",
            ),
        ] {
            let mut bars = data(&all, source);
            if source == "checks" {
                bars.retain(|d| d.value > 0.0);
                bars.sort_by(|a, b| b.value.total_cmp(&a.value));
            }
            let description = match bars.first() {
                Some(top) => format!(
                    "{} bars; the largest is {} ({}).",
                    bars.len(),
                    top.label,
                    top.value
                ),
                None => empty.to_owned(),
            };
            let svg = bar_chart(&format!("{id}-svg"), title, &description, &bars, "");
            chart(id, title, description, svg, source);
        }

        let ages = data(&all, "credential_age");
        let description = format!(
            "Active credentials by days since their secret was last set: {}.",
            ages.iter()
                .map(|d| format!("{} {}", d.label, d.value))
                .collect::<Vec<_>>()
                .join(", ")
        );
        chart(
            "chart-credential-age",
            "Credential age",
            description.clone(),
            bar_chart(
                "chart-credential-age-svg",
                "Credential age",
                &description,
                &ages,
                "",
            ),
            "credential_age",
        );

        let stale = data(&all, "stale");
        let description = format!(
            "Identities unused for 90 days or more: {}.",
            stale
                .iter()
                .map(|d| format!("{} {}", d.label, d.value))
                .collect::<Vec<_>>()
                .join(", ")
        );
        chart(
            "chart-stale",
            "Stale identities",
            description.clone(),
            bar_chart(
                "chart-stale-svg",
                "Stale identities",
                &description,
                &stale,
                "",
            ),
            "stale",
        );

        let points: Vec<Datum> = dashboard
            .trend
            .iter()
            .map(|p| Datum {
                label: p.day.format("%m-%d").to_string(),
                value: p.open.map_or(f64::NAN, |o| o as f64),
                href: p.open.map(|_| format!("/posture/report?day={}", p.day)),
            })
            .collect();
        let known: Vec<u64> = dashboard.trend.iter().filter_map(|p| p.open).collect();
        let description = match (known.first(), known.last()) {
            (Some(first), Some(last)) => format!(
                "Open findings per day over the last {} days, from {first} to {last}; days without an evaluation are gaps.",
                dashboard.trend.len()
            ),
            _ => "No daily snapshots yet.".into(),
        };
        chart(
            "chart-trend",
            "Open findings over time",
            description.clone(),
            line_chart(
                "chart-trend-svg",
                "Open findings over time",
                &description,
                &points,
            ),
            "trend",
        );
        (charts, all)
    }
}

#[server(prefix = "/rpc", endpoint = "posture/dashboard")]
pub async fn get_dashboard() -> Result<DashboardView, AppError> {
    use steward_domain::auth::Action;
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let dashboard = ports.posture.dashboard(principal.as_ref()).await?;
    let (charts, figures) = imp::charts(&dashboard);
    Ok(DashboardView {
        dashboard,
        charts,
        figures,
        can_evaluate: principal
            .as_ref()
            .is_some_and(|p| p.can(Action::ManagePosture)),
    })
}

/// Every control's status, as of the latest evaluation (when one has run) — the
/// dashboard's data without its charts.
#[server(prefix = "/rpc", endpoint = "posture/controls")]
pub async fn get_controls() -> Result<(Option<DateTime<Utc>>, Vec<ControlStatus>), AppError> {
    let ports = crate::session::ports()?;
    let dashboard = ports
        .posture
        .dashboard(crate::session::principal().as_ref())
        .await?;
    Ok((dashboard.snapshot.map(|s| s.taken_at), dashboard.controls))
}

#[server(prefix = "/rpc", endpoint = "posture/evaluate")]
pub async fn evaluate_now() -> Result<EvaluationReport, AppError> {
    let ports = crate::session::ports()?;
    Ok(ports
        .posture
        .evaluate(crate::session::principal().as_ref())
        .await?)
}

#[server(prefix = "/rpc", endpoint = "posture/report")]
pub async fn get_report(day: String) -> Result<PostureReport, AppError> {
    let ports = crate::session::ports()?;
    // No day: today, by the server's clock (the browser build has none).
    let day = match day.trim() {
        "" => Utc::now().date_naive(),
        day => steward_domain::posture::dashboard::parse_day(day)?,
    };
    Ok(ports
        .posture
        .report(crate::session::principal().as_ref(), day)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "posture/accept")]
pub async fn accept_finding(
    id: String,
    check: String,
    justification: String,
    until: String,
) -> Result<String, AppError> {
    use steward_domain::posture::findings::AcceptRiskRequest;
    let ports = crate::session::ports()?;
    let until = steward_domain::posture::dashboard::parse_day(&until).map_err(|_| {
        steward_domain::DomainError::invalid("until", "choose the date the acceptance ends")
    })?;
    let finding = ports
        .posture
        .accept_risk(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("identity", &id)?,
            &check,
            &AcceptRiskRequest {
                justification,
                expires_at: end_of_day(until),
            },
        )
        .await?;
    Ok(format!(
        "Risk accepted for “{}” until {}.",
        finding.title,
        until.format("%Y-%m-%d")
    ))
}

#[server(prefix = "/rpc", endpoint = "posture/reopen")]
pub async fn reopen_finding(id: String, check: String, reason: String) -> Result<String, AppError> {
    use steward_domain::posture::findings::ReopenRequest;
    let ports = crate::session::ports()?;
    let finding = ports
        .posture
        .reopen(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("identity", &id)?,
            &check,
            &ReopenRequest { reason },
        )
        .await?;
    Ok(format!("“{}” is open again.", finding.title))
}
