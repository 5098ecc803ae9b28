//! The dashboard's charts, drawn on the server with `plotters` into SVG. Each chart
//! carries a title and a description for assistive technology, and every bar, cell
//! or point is a link to the inventory filtered to the identities behind it (an
//! invisible `<a>` laid over the drawn shape, at the pixels the shape was drawn at).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::number_text as number;

/// One bar (or cell, or point) of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub label: String,
    pub value: f64,
    /// Where clicking it leads.
    pub href: Option<String>,
}

/// A link laid over a drawn shape: its pixel box and what it says.
struct Hotspot {
    x: i32,
    y: i32,
    width: i32,
    height: i32,
    href: String,
    title: String,
}

const WIDTH: u32 = 640;
const BAR: i32 = 24;
const GAP: i32 = 8;
const LABEL_WIDTH: i32 = 200;
const FONT: (&str, u32) = ("sans-serif", 13);
const INK: RGBColor = RGBColor(33, 37, 41);
const ACCENT: RGBColor = RGBColor(37, 99, 235);
const GRID: RGBColor = RGBColor(222, 226, 230);

use crate::format::escape_html as escape;

/// Turns plotters' SVG into an accessible, linked chart.
fn finish(svg: String, id: &str, title: &str, description: &str, hotspots: &[Hotspot]) -> String {
    let mut links = String::new();
    for h in hotspots {
        links.push_str(&format!(
            "<a href=\"{}\" class=\"hotspot\"><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"transparent\"/></a>\n",
            escape(&h.href),
            escape(&h.title),
            h.x,
            h.y,
            h.width.max(4),
            h.height.max(4)
        ));
    }
    let header = format!(
        " id=\"{id}\" aria-labelledby=\"{id}-title {id}-desc\" class=\"chart\"><title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(description)
    );
    // The first `>` closes plotters' opening <svg …> tag.
    let svg = match svg.find('>') {
        Some(end) => format!("{}{}{}", &svg[..end], header, &svg[end + 1..]),
        None => svg,
    };
    match svg.rfind("</svg>") {
        Some(end) => format!("{}{}{}", &svg[..end], links, &svg[end..]),
        None => svg,
    }
}

fn text_style(anchor: Pos) -> TextStyle<'static> {
    TextStyle::from(FONT.into_font()).color(&INK).pos(anchor)
}

fn clip_label(label: &str) -> String {
    if label.chars().count() > 28 {
        label.chars().take(27).collect::<String>() + "…"
    } else {
        label.to_owned()
    }
}

/// Horizontal bars, one per datum, longest scale first-come.
pub fn bar_chart(id: &str, title: &str, description: &str, data: &[Datum], unit: &str) -> String {
    let height = (data.len() as i32 * (BAR + GAP) + 2 * GAP).max(60) as u32;
    let mut svg = String::new();
    let mut hotspots = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let max = data.iter().map(|d| d.value).fold(0.0, f64::max).max(1.0);
        let span = WIDTH as i32 - LABEL_WIDTH - 90;
        for (n, datum) in data.iter().enumerate() {
            let y = GAP + n as i32 * (BAR + GAP);
            let length = ((datum.value / max) * f64::from(span)).round() as i32;
            let _ = root.draw(&Text::new(
                clip_label(&datum.label),
                (LABEL_WIDTH - 8, y + BAR / 2),
                text_style(Pos::new(HPos::Right, VPos::Center)),
            ));
            let _ = root.draw(&Rectangle::new(
                [(LABEL_WIDTH, y), (LABEL_WIDTH + span, y + BAR)],
                GRID.filled(),
            ));
            if length > 0 {
                let _ = root.draw(&Rectangle::new(
                    [(LABEL_WIDTH, y), (LABEL_WIDTH + length, y + BAR)],
                    ACCENT.filled(),
                ));
            }
            let _ = root.draw(&Text::new(
                format!("{}{unit}", number(datum.value)),
                (LABEL_WIDTH + span + 8, y + BAR / 2),
                text_style(Pos::new(HPos::Left, VPos::Center)),
            ));
            if let Some(href) = &datum.href {
                hotspots.push(Hotspot {
                    x: 0,
                    y,
                    width: WIDTH as i32,
                    height: BAR,
                    href: href.clone(),
                    title: format!("{}: {}{unit}", datum.label, number(datum.value)),
                });
            }
        }
        let _ = root.present();
    }
    finish(svg, id, title, description, &hotspots)
}

/// Rows of cells (one row per group), each cell shaded by its value.
pub fn heat_map(id: &str, title: &str, description: &str, rows: &[(String, Vec<Datum>)]) -> String {
    const CELL: i32 = 62;
    const ROW: i32 = 40;
    const ROW_LABEL: i32 = 150;
    let columns = rows.iter().map(|(_, cells)| cells.len()).max().unwrap_or(1) as i32;
    let width = (ROW_LABEL + columns * (CELL + 4) + GAP) as u32;
    let height = (rows.len() as i32 * (ROW + 4) + 2 * GAP).max(60) as u32;
    let max = rows
        .iter()
        .flat_map(|(_, cells)| cells.iter().map(|c| c.value))
        .fold(0.0, f64::max)
        .max(1.0);
    let mut svg = String::new();
    let mut hotspots = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let _ = root.fill(&WHITE);
        for (r, (group, cells)) in rows.iter().enumerate() {
            let y = GAP + r as i32 * (ROW + 4);
            let _ = root.draw(&Text::new(
                clip_label(group),
                (ROW_LABEL - 8, y + ROW / 2),
                text_style(Pos::new(HPos::Right, VPos::Center)),
            ));
            for (c, cell) in cells.iter().enumerate() {
                let x = ROW_LABEL + c as i32 * (CELL + 4);
                let shade = heat(cell.value / max);
                let _ = root.draw(&Rectangle::new(
                    [(x, y), (x + CELL, y + ROW)],
                    shade.filled(),
                ));
                let ink = if cell.value / max > 0.55 { WHITE } else { INK };
                let small = TextStyle::from(("sans-serif", 11).into_font()).color(&ink);
                let _ = root.draw(&Text::new(
                    clip_label(&cell.label),
                    (x + CELL / 2, y + 12),
                    small.pos(Pos::new(HPos::Center, VPos::Center)),
                ));
                let _ = root.draw(&Text::new(
                    number(cell.value),
                    (x + CELL / 2, y + 28),
                    TextStyle::from(("sans-serif", 13).into_font())
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ));
                if let Some(href) = &cell.href {
                    hotspots.push(Hotspot {
                        x,
                        y,
                        width: CELL,
                        height: ROW,
                        href: href.clone(),
                        title: format!("{}: {} open findings", cell.label, number(cell.value)),
                    });
                }
            }
        }
        let _ = root.present();
    }
    finish(svg, id, title, description, &hotspots)
}

/// From pale (nothing) to deep red (the most).
fn heat(share: f64) -> RGBColor {
    let share = share.clamp(0.0, 1.0);
    if share == 0.0 {
        return RGBColor(233, 245, 236);
    }
    let blend = |from: f64, to: f64| (from + (to - from) * share).round() as u8;
    RGBColor(blend(254.0, 153.0), blend(224.0, 27.0), blend(210.0, 27.0))
}

/// A line over days (oldest first); days without a value are gaps.
pub fn line_chart(id: &str, title: &str, description: &str, points: &[Datum]) -> String {
    let height = 240u32;
    let mut svg = String::new();
    let mut hotspots = Vec::new();
    {
        let root: DrawingArea<SVGBackend, Shift> =
            SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let max = points.iter().map(|p| p.value).fold(0.0, f64::max).max(1.0) * 1.1;
        let count = points.len().max(2);
        let built = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(0usize..count - 1, 0f64..max);
        if let Ok(mut chart) = built {
            let labels: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
            let _ = chart
                .configure_mesh()
                .light_line_style(GRID)
                .x_labels(6)
                .x_label_formatter(&|x| labels.get(*x).cloned().unwrap_or_default())
                .y_label_formatter(&|y| number(y.round()))
                .label_style(FONT.into_font().color(&INK))
                .draw();
            // Consecutive days with values form one line segment each.
            let mut run: Vec<(usize, f64)> = Vec::new();
            let mut runs = Vec::new();
            for (n, point) in points.iter().enumerate() {
                if point.value.is_nan() {
                    if !run.is_empty() {
                        runs.push(std::mem::take(&mut run));
                    }
                } else {
                    run.push((n, point.value));
                }
            }
            if !run.is_empty() {
                runs.push(run);
            }
            for run in runs {
                let _ = chart.draw_series(LineSeries::new(run.clone(), ACCENT.stroke_width(2)));
                let _ = chart.draw_series(
                    run.iter()
                        .map(|(x, y)| Circle::new((*x, *y), 4, ACCENT.filled())),
                );
            }
            for (n, point) in points.iter().enumerate() {
                if point.value.is_nan() {
                    continue;
                }
                if let Some(href) = &point.href {
                    let (x, y) = chart.backend_coord(&(n, point.value));
                    hotspots.push(Hotspot {
                        x: x - 8,
                        y: y - 8,
                        width: 16,
                        height: 16,
                        href: href.clone(),
                        title: format!("{}: {}", point.label, number(point.value)),
                    });
                }
            }
        }
        let _ = root.present();
    }
    finish(svg, id, title, description, &hotspots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datum(label: &str, value: f64, href: &str) -> Datum {
        Datum {
            label: label.into(),
            value,
            href: Some(href.into()),
        }
    }

    #[test]
    fn a_bar_chart_is_titled_described_linked_and_escaped() {
        let svg = bar_chart(
            "teams",
            "Open findings by team",
            "Payments has the most",
            &[
                datum("payments", 12.0, "/inventory?team=payments&finding=any"),
                datum("<script>", 3.0, "/inventory?team=%3Cscript%3E"),
            ],
            "",
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<title id=\"teams-title\">Open findings by team</title>"));
        assert!(svg.contains("aria-labelledby=\"teams-title teams-desc\""));
        assert_eq!(svg.matches("class=\"hotspot\"").count(), 2);
        assert!(svg.contains("href=\"/inventory?team=payments&amp;finding=any\""));
        assert!(!svg.contains("<script>"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn a_heat_map_links_every_cell_and_a_line_chart_every_point_with_a_value() {
        let svg = heat_map(
            "heat",
            "Open findings by control",
            "NHI1 has the most",
            &[(
                "OWASP NHI".into(),
                vec![
                    datum("NHI1", 5.0, "/inventory?control=NHI1"),
                    datum("NHI2", 0.0, "/inventory?control=NHI2"),
                ],
            )],
        );
        assert_eq!(svg.matches("class=\"hotspot\"").count(), 2);
        assert!(svg.contains("/inventory?control=NHI1"));
        let line = line_chart(
            "trend",
            "Open findings, last 3 days",
            "Falling",
            &[
                datum("11-27", 9.0, "/posture/report?day=2026-11-27"),
                Datum {
                    label: "11-28".into(),
                    value: f64::NAN,
                    href: None,
                },
                datum("11-29", 7.0, "/posture/report?day=2026-11-29"),
            ],
        );
        assert_eq!(line.matches("class=\"hotspot\"").count(), 2);
    }
}
