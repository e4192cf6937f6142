//! Charts drawn on the server as SVG, so they need no script and print as they look: bars for
//! figures per group, lines for figures over days.

use super::svg::escape;
use chrono::NaiveDate;
use std::fmt::Write;

/// One bar per group, its length by the measure: (label, value, value as shown).
pub fn bars(title: &str, bars: &[(String, f64, String)]) -> String {
    const LABEL: i64 = 200;
    const WIDTH: i64 = 420;
    const ROW: i64 = 26;
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max);
    let height = ROW * i64::try_from(bars.len()).unwrap_or(0) + 8;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" aria-label="{}" viewBox="0 0 {} {height}" width="100%">"#,
        escape(title),
        LABEL + WIDTH + 140
    );
    for (i, (label, value, text)) in bars.iter().enumerate() {
        let y = 4 + ROW * i64::try_from(i).unwrap_or(0);
        #[allow(clippy::cast_possible_truncation)]
        let w = if max > 0.0 {
            ((value / max) * WIDTH as f64).round() as i64
        } else {
            0
        };
        let name: String = label.chars().take(28).collect();
        let _ = write!(
            svg,
            r#"<text class="label" x="0" y="{}">{}</text><rect x="{LABEL}" y="{y}" width="{}" height="18" rx="3"><title>{}: {}</title></rect><text class="figure" x="{}" y="{}">{}</text>"#,
            y + 14,
            escape(&name),
            w.max(1),
            escape(label),
            escape(text),
            LABEL + w + 6,
            y + 14,
            escape(text)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A line of shares (0–1) over days.
pub struct Series {
    /// Its name in the legend, and its CSS class.
    pub name: String,
    pub class: &'static str,
    pub points: Vec<(NaiveDate, f64)>,
}

/// Shares over days on a 0–100 % scale: one line per series, a dot per day (its figure on
/// hover), days placed by date so a missing day leaves a gap in time, not a jump.
pub fn shares_over_days(
    title: &str,
    series: &[Series],
    day_label: impl Fn(NaiveDate) -> String,
    percent: impl Fn(f64) -> String,
) -> String {
    const LEFT: f64 = 48.0;
    const TOP: f64 = 28.0;
    const WIDTH: f64 = 600.0;
    const HEIGHT: f64 = 160.0;
    let days: Vec<NaiveDate> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
    let (Some(first), Some(last)) = (days.iter().min().copied(), days.iter().max().copied()) else {
        return String::new();
    };
    #[allow(clippy::cast_precision_loss)] // a span of days
    let span = (last - first).num_days() as f64;
    let x = |d: NaiveDate| {
        if span > 0.0 {
            #[allow(clippy::cast_precision_loss)]
            let offset = (d - first).num_days() as f64;
            LEFT + WIDTH * offset / span
        } else {
            LEFT + WIDTH / 2.0
        }
    };
    let y = |share: f64| TOP + HEIGHT * (1.0 - share.clamp(0.0, 1.0));
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="line-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%">"#,
        escape(title),
        LEFT + WIDTH + 16.0,
        TOP + HEIGHT + 28.0
    );
    for share in [0.0, 0.5, 1.0] {
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{y0:.1}" y2="{y0:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT + WIDTH,
            LEFT - 6.0,
            y(share) + 4.0,
            escape(&percent(share)),
            y0 = y(share)
        );
    }
    let bottom = TOP + HEIGHT + 18.0;
    // One day sits in the middle, its label under it.
    let (first_x, anchor) = if last > first {
        (LEFT, "start")
    } else {
        (x(first), "middle")
    };
    let _ = write!(
        svg,
        r#"<text class="axis" x="{first_x}" y="{bottom}" text-anchor="{anchor}">{}</text>"#,
        escape(&day_label(first))
    );
    if last > first {
        let _ = write!(
            svg,
            r#"<text class="axis" x="{}" y="{bottom}" text-anchor="end">{}</text>"#,
            LEFT + WIDTH,
            escape(&day_label(last))
        );
    }
    let mut legend_x = LEFT;
    for s in series {
        let _ = write!(
            svg,
            r#"<g class="series {}"><line x1="{legend_x}" x2="{}" y1="10" y2="10"/><text class="legend" x="{}" y="14">{}</text>"#,
            s.class,
            legend_x + 18.0,
            legend_x + 24.0,
            escape(&s.name)
        );
        #[allow(clippy::cast_precision_loss)]
        let name_width = s.name.chars().count() as f64;
        legend_x += 40.0 + 7.0 * name_width;
        if s.points.len() > 1 {
            let path: Vec<String> = s
                .points
                .iter()
                .map(|(d, v)| format!("{:.1},{:.1}", x(*d), y(*v)))
                .collect();
            let _ = write!(svg, r#"<polyline points="{}"/>"#, path.join(" "));
        }
        for (d, v) in &s.points {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3"><title>{} · {}: {}</title></circle>"#,
                x(*d),
                y(*v),
                escape(&day_label(*d)),
                escape(&s.name),
                escape(&percent(*v))
            );
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn days_are_placed_by_date_and_text_is_escaped() {
        let series = [Series {
            name: "Score <&>".into(),
            class: "score",
            points: vec![
                (day("2026-11-01"), 0.5),
                (day("2026-11-02"), 0.6),
                (day("2026-11-11"), 1.0),
            ],
        }];
        let svg = shares_over_days("Trend", &series, |d| d.to_string(), |v| format!("{:.0}%", v * 100.0));
        assert!(svg.contains("Score &lt;&amp;&gt;"));
        assert!(!svg.contains("<&>"));
        // 10 days over 600 units: the second day is 60 to the right of the first, the last at the end.
        assert!(svg.contains(r#"points="48.0,108.0 108.0,92.0 648.0,28.0""#), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("2026-11-01") && svg.contains("2026-11-11"));
    }

    #[test]
    fn one_day_is_a_dot_in_the_middle_and_no_days_no_chart() {
        let series = [Series {
            name: "Score".into(),
            class: "score",
            points: vec![(day("2026-11-01"), 0.25)],
        }];
        let svg = shares_over_days("Trend", &series, |d| d.to_string(), |v| format!("{v}"));
        assert!(!svg.contains("<polyline"));
        assert!(svg.contains(r#"<circle cx="348.0" cy="148.0""#), "{svg}");
        let none = [Series {
            name: "Score".into(),
            class: "score",
            points: Vec::new(),
        }];
        assert_eq!(
            shares_over_days("Trend", &none, |d| d.to_string(), |v| format!("{v}")),
            ""
        );
    }
}
