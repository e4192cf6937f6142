//! The plan as a Gantt chart in SVG, drawn on the server: bars with progress, milestones as
//! diamonds, the critical path marked, finish-to-start arrows, and lines for today, the target
//! date and the forecast finish. Colours come from the page's CSS custom properties, so the
//! chart follows the theme; every bar has a `<title>` for hover and screen readers.

use super::svg::escape;
use anchora_core::project::plan::{Dependency, Schedule, Task};
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;
use std::fmt::Write;

const ROW: i64 = 24;
const LABELS: i64 = 220;
const HEADER: i64 = 28;
const MAX_WIDTH: i64 = 1400;

/// Words the chart needs, already in the user's language.
pub struct GanttText {
    pub title: String,
    pub today: String,
    pub target: String,
    pub forecast: String,
    /// Formats a date for the user's locale choice (`locale`, e.g. "en-GB").
    pub date: fn(&str, NaiveDate) -> String,
    /// Names a month on the axis.
    pub month: fn(&str, NaiveDate) -> String,
    pub locale: &'static str,
}

pub struct GanttDates {
    pub today: NaiveDate,
    pub target: Option<NaiveDate>,
    pub forecast: Option<NaiveDate>,
}

pub fn render(
    tasks: &[Task],
    deps: &[Dependency],
    schedule: &Schedule,
    dates: &GanttDates,
    text: &GanttText,
) -> String {
    let mut svg = String::with_capacity(tasks.len() * 400 + 2000);
    let first = tasks.iter().map(|t| t.start).min();
    let last = tasks
        .iter()
        .map(|t| t.finish)
        .chain(dates.target)
        .chain(dates.forecast)
        .max();
    let (Some(first), Some(last)) = (first, last) else {
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="gantt" role="img" aria-label="{}" width="400" height="40"></svg>"#,
            escape(&text.title)
        );
        return svg;
    };
    let span = (last - first).num_days() + 1;
    // Whole pixels per day, at least 2, so 18 months still fit.
    let per_day = ((MAX_WIDTH - LABELS) / span.max(1)).clamp(2, 28);
    let width = LABELS + span * per_day + 8;
    let height = HEADER + ROW * i64::try_from(tasks.len()).unwrap_or(i64::MAX / ROW) + 8;
    let x = |d: NaiveDate| LABELS + (d - first).num_days() * per_day;
    let critical: std::collections::HashSet<u32> = schedule.critical.iter().copied().collect();
    let row_of: HashMap<u32, i64> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id, HEADER + ROW * i64::try_from(i).unwrap_or(0)))
        .collect();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="gantt" role="img" aria-label="{}" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#,
        escape(&text.title)
    );
    // Month grid and labels; a month begun less than ten days before the chart is not named,
    // or its label would run into the next one.
    let mut month = NaiveDate::from_ymd_opt(first.year(), first.month(), 1).unwrap_or(first);
    while month <= last {
        let mx = x(month.max(first));
        let named = month >= first
            || (month.checked_add_months(chrono::Months::new(1)).unwrap_or(month) - first).num_days() * per_day >= 80;
        let _ = write!(svg, r#"<line class="grid" x1="{mx}" y1="0" x2="{mx}" y2="{height}"/>"#);
        if named {
            let _ = write!(
                svg,
                r#"<text class="month" x="{}" y="16">{}</text>"#,
                mx + 4,
                escape(&(text.month)(text.locale, month))
            );
        }
        match month.checked_add_months(chrono::Months::new(1)) {
            Some(next) => month = next,
            None => break,
        }
    }
    // Dependencies under the bars.
    let by_id: HashMap<u32, &Task> = tasks.iter().map(|t| (t.id, t)).collect();
    for d in deps {
        let (Some(ya), Some(yb)) = (row_of.get(&d.before), row_of.get(&d.after)) else {
            continue;
        };
        let (Some(a), Some(b)) = (by_id.get(&d.before), by_id.get(&d.after)) else {
            continue;
        };
        let x1 = x(a.finish) + if a.milestone { 0 } else { per_day };
        let x2 = x(b.start);
        let _ = write!(
            svg,
            r#"<path class="dep" d="M{x1} {} H{} V{} H{x2}"/>"#,
            ya + ROW / 2,
            x1 + 4,
            yb + ROW / 2
        );
    }
    for t in tasks {
        let Some(&y) = row_of.get(&t.id) else { continue };
        let crit = if critical.contains(&t.id) { " critical" } else { "" };
        let tip = format!(
            "{} · {} – {} · {}%",
            t.name,
            (text.date)(text.locale, t.start),
            (text.date)(text.locale, t.finish),
            t.percent_done.round()
        );
        let _ = write!(
            svg,
            r#"<text class="label" x="4" y="{}">{}</text>"#,
            y + 16,
            escape(&t.name.chars().take(32).collect::<String>())
        );
        if t.milestone {
            let cx = x(t.start) + per_day / 2;
            let cy = y + ROW / 2;
            let _ = write!(
                svg,
                r#"<path class="milestone{crit}" d="M{cx} {} L{} {cy} L{cx} {} L{} {cy} Z"><title>{}</title></path>"#,
                cy - 7,
                cx + 7,
                cy + 7,
                cx - 7,
                escape(&tip)
            );
        } else {
            let bx = x(t.start);
            let bw = (t.days() * per_day).max(2);
            #[allow(clippy::cast_possible_truncation)]
            let done = ((bw as f64) * t.percent_done.clamp(0.0, 100.0) / 100.0).round() as i64;
            let _ = write!(
                svg,
                r#"<g class="bar{crit}"><title>{}</title><rect x="{bx}" y="{}" width="{bw}" height="{}" rx="3"/><rect class="done" x="{bx}" y="{}" width="{done}" height="{}" rx="3"/></g>"#,
                escape(&tip),
                y + 5,
                ROW - 10,
                y + 5,
                ROW - 10
            );
        }
    }
    let mut line = |class: &str, d: NaiveDate, label: &str| {
        if d < first || d > last {
            return;
        }
        let lx = x(d);
        let _ = write!(
            svg,
            r#"<line class="{class}" x1="{lx}" y1="{HEADER}" x2="{lx}" y2="{height}"><title>{} {}</title></line>"#,
            escape(label),
            escape(&(text.date)(text.locale, d))
        );
    };
    line("today", dates.today, &text.today);
    if let Some(t) = dates.target {
        line("target", t, &text.target);
    }
    if let Some(f) = dates.forecast {
        line("forecast", f, &text.forecast);
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchora_core::project::plan::schedule;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn text() -> GanttText {
        GanttText {
            title: "Plan".into(),
            today: "Today".into(),
            target: "Target".into(),
            forecast: "Forecast".into(),
            date: crate::ui::format::date,
            month: crate::ui::format::month,
            locale: "sv",
        }
    }

    #[test]
    fn bars_milestones_critical_path_and_lines() {
        let tasks = vec![
            Task {
                id: 1,
                name: "Workshops <sales & service>".into(),
                start: d("2026-01-05"),
                finish: d("2026-01-09"),
                planned_hours: 40.0,
                percent_done: 50.0,
                milestone: false,
            },
            Task {
                id: 2,
                name: "Go-live".into(),
                start: d("2026-01-10"),
                finish: d("2026-01-10"),
                planned_hours: 0.0,
                percent_done: 0.0,
                milestone: true,
            },
        ];
        let deps = [Dependency { before: 1, after: 2 }];
        let s = schedule(&tasks, &deps).unwrap();
        let svg = render(
            &tasks,
            &deps,
            &s,
            &GanttDates {
                today: d("2026-01-07"),
                target: Some(d("2026-01-12")),
                forecast: Some(d("2026-01-14")),
            },
            &text(),
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(
            svg.contains("Workshops &lt;sales &amp; service&gt;"),
            "names are escaped"
        );
        assert!(svg.contains(r#"class="bar critical""#));
        assert!(svg.contains(r#"class="milestone critical""#));
        assert!(svg.contains(r#"class="dep""#));
        assert!(svg.contains(r#"class="today""#) && svg.contains(r#"class="target""#));
        assert!(
            svg.contains("2026-01-05 – 2026-01-09 · 50%"),
            "dates in the locale: {svg}"
        );
    }

    #[test]
    fn two_thousand_tasks_render() {
        let tasks: Vec<Task> = (0..2000u32)
            .map(|i| {
                let s = d("2026-01-01") + chrono::Duration::days(i64::from(i / 5));
                Task {
                    id: i,
                    name: format!("Task {i}"),
                    start: s,
                    finish: s + chrono::Duration::days(3),
                    planned_hours: 8.0,
                    percent_done: 0.0,
                    milestone: false,
                }
            })
            .collect();
        let deps: Vec<Dependency> = (0..1999u32)
            .map(|i| Dependency {
                before: i,
                after: i + 1,
            })
            .collect();
        let s = schedule(&tasks, &deps).unwrap();
        let svg = render(
            &tasks,
            &deps,
            &s,
            &GanttDates {
                today: d("2026-03-01"),
                target: None,
                forecast: None,
            },
            &text(),
        );
        assert_eq!(svg.matches("<g class=\"bar").count(), 2000);
    }
}
