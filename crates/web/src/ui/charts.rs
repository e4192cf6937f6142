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

/// A series of a line chart: its name in the legend and a value per point.
pub struct Plot {
    pub name: String,
    pub values: Vec<f64>,
}

/// A series of a stacked bar chart: a value per bar, and that value as shown.
pub struct Stack {
    pub name: String,
    pub values: Vec<f64>,
    pub texts: Vec<String>,
}

/// The colours a chart's series take, in order (CSS classes `c0`…`c7`).
const COLOURS: usize = 8;

fn open_svg(svg: &mut String, class: &str, title: &str, width: f64, height: f64) {
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="report-chart {class}" role="img" aria-label="{}" viewBox="0 0 {width:.0} {height:.0}" width="100%">"#,
        escape(title)
    );
}

/// A legend of coloured swatches, one per name, from `x`; wraps within `width`. Returns the
/// SVG and the height it takes.
fn legend(names: &[(&str, usize)], x0: f64, y0: f64, width: f64) -> (String, f64) {
    let mut svg = String::new();
    let (mut x, mut y) = (x0, y0);
    for (name, colour) in names {
        let shown: String = name.chars().take(30).collect();
        #[allow(clippy::cast_precision_loss)]
        let w = 28.0 + 7.0 * shown.chars().count() as f64;
        if x > x0 && x + w > x0 + width {
            x = x0;
            y += 20.0;
        }
        let _ = write!(
            svg,
            r#"<g class="key"><rect class="c{}" x="{x:.0}" y="{:.0}" width="12" height="12" rx="2"/><text class="label" x="{:.0}" y="{:.0}">{}<title>{}</title></text></g>"#,
            colour % COLOURS,
            y - 10.0,
            x + 17.0,
            y,
            escape(&shown),
            escape(name)
        );
        x += w;
    }
    (svg, y - y0 + 20.0)
}

/// Horizontal bars of stacked series, one bar per row, the row's total after it; a legend
/// above names the series drawn (a series with nothing in any row is left out of both).
pub fn stacked_bars(title: &str, rows: &[String], stacks: &[Stack], totals: &[String]) -> String {
    const LABEL: f64 = 200.0;
    const WIDTH: f64 = 420.0;
    const ROW: f64 = 26.0;
    let drawn: Vec<(usize, &Stack)> = stacks
        .iter()
        .enumerate()
        .filter(|(_, s)| s.values.iter().any(|v| *v > 0.0))
        .collect();
    let sums: Vec<f64> = (0..rows.len())
        .map(|r| drawn.iter().map(|(_, s)| s.values.get(r).copied().unwrap_or(0.0)).sum())
        .collect();
    let max = sums.iter().copied().fold(0.0_f64, f64::max);
    let names: Vec<(&str, usize)> = drawn.iter().map(|(i, s)| (s.name.as_str(), *i)).collect();
    let (keys, top) = legend(&names, 0.0, 14.0, LABEL + WIDTH + 140.0);
    let mut body = String::new();
    for (r, label) in rows.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let y = top + 4.0 + ROW * r as f64;
        let name: String = label.chars().take(28).collect();
        let _ = write!(
            body,
            r#"<text class="label" x="0" y="{:.0}">{}<title>{}</title></text>"#,
            y + 14.0,
            escape(&name),
            escape(label)
        );
        let mut x = LABEL;
        for (i, s) in &drawn {
            let v = s.values.get(r).copied().unwrap_or(0.0);
            if v <= 0.0 || max <= 0.0 {
                continue;
            }
            let w = v / max * WIDTH;
            let _ = write!(
                body,
                r#"<rect class="c{}" x="{x:.1}" y="{y:.0}" width="{w:.1}" height="18"><title>{} · {}: {}</title></rect>"#,
                i % COLOURS,
                escape(label),
                escape(&s.name),
                escape(s.texts.get(r).map_or("", String::as_str))
            );
            x += w;
        }
        let _ = write!(
            body,
            r#"<text class="figure" x="{:.1}" y="{:.0}">{}</text>"#,
            x + 6.0,
            y + 14.0,
            escape(totals.get(r).map_or("", String::as_str))
        );
    }
    let mut svg = String::new();
    #[allow(clippy::cast_precision_loss)]
    let height = top + ROW * rows.len() as f64 + 8.0;
    open_svg(&mut svg, "stacked", title, LABEL + WIDTH + 140.0, height);
    svg.push_str(&keys);
    svg.push_str(&body);
    svg.push_str("</svg>");
    svg
}

/// Lines over evenly spaced points (periods in order), one per series, a dot per point with
/// its figure on hover; a legend names the series.
pub fn lines(title: &str, points: &[String], plots: &[Plot], fmt: &dyn Fn(f64) -> String) -> String {
    const LEFT: f64 = 90.0;
    const WIDTH: f64 = 620.0;
    const HEIGHT: f64 = 180.0;
    let names: Vec<(&str, usize)> = plots.iter().enumerate().map(|(k, p)| (p.name.as_str(), k)).collect();
    let (keys, legend_h) = legend(&names, LEFT, 14.0, WIDTH);
    let top = legend_h + 8.0;
    let max = plots
        .iter()
        .flat_map(|p| p.values.iter().copied())
        .fold(0.0_f64, f64::max);
    let max = if max > 0.0 { max } else { 1.0 };
    #[allow(clippy::cast_precision_loss)]
    let n = points.len().max(1) as f64;
    #[allow(clippy::cast_precision_loss)]
    let x = |i: usize| {
        if n > 1.0 {
            LEFT + WIDTH * i as f64 / (n - 1.0)
        } else {
            LEFT + WIDTH / 2.0
        }
    };
    let y = |v: f64| top + HEIGHT * (1.0 - (v / max).clamp(0.0, 1.0));
    let mut svg = String::new();
    open_svg(&mut svg, "lines", title, LEFT + WIDTH + 40.0, top + HEIGHT + 30.0);
    svg.push_str(&keys);
    for v in [0.0, max / 2.0, max] {
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" x2="{:.0}" y1="{y0:.1}" y2="{y0:.1}"/><text class="axis" x="{:.0}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT + WIDTH,
            LEFT - 6.0,
            y(v) + 4.0,
            escape(&fmt(v)),
            y0 = y(v)
        );
    }
    // At most about eight labels under the axis, the first and the last always.
    let step = points.len().div_ceil(8).max(1);
    for (i, p) in points.iter().enumerate() {
        if i % step == 0 || i + 1 == points.len() {
            let _ = write!(
                svg,
                r#"<text class="axis" x="{:.1}" y="{:.0}" text-anchor="middle">{}</text>"#,
                x(i),
                top + HEIGHT + 18.0,
                escape(p)
            );
        }
    }
    for (k, plot) in plots.iter().enumerate() {
        let _ = write!(svg, r#"<g class="series c{}">"#, k % COLOURS);
        if plot.values.len() > 1 {
            let path: Vec<String> = (plot.values.iter().enumerate())
                .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
                .collect();
            let _ = write!(svg, r#"<polyline points="{}"/>"#, path.join(" "));
        }
        for (i, v) in plot.values.iter().enumerate() {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3"><title>{} · {}: {}</title></circle>"#,
                x(i),
                y(*v),
                escape(points.get(i).map_or("", String::as_str)),
                escape(&plot.name),
                escape(&fmt(*v))
            );
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

/// Each group's share of the whole as a ring; the legend names the slices drawn (groups with
/// nothing are left out of both), with their share. (label, value, value as shown).
pub fn donut(title: &str, slices: &[(String, f64, String)], share: &dyn Fn(f64) -> String) -> String {
    const R: f64 = 90.0;
    const INNER: f64 = 52.0;
    const C: f64 = 100.0;
    let drawn: Vec<&(String, f64, String)> = slices.iter().filter(|s| s.1 > 0.0).take(COLOURS).collect();
    let rest: f64 = slices.iter().filter(|s| s.1 > 0.0).skip(COLOURS).map(|s| s.1).sum();
    let total: f64 = drawn.iter().map(|s| s.1).sum::<f64>() + rest;
    let mut svg = String::new();
    #[allow(clippy::cast_precision_loss)]
    let height = (2.0 * C).max(24.0 * drawn.len() as f64 + 12.0);
    open_svg(&mut svg, "donut", title, 640.0, height);
    if total <= 0.0 {
        svg.push_str("</svg>");
        return svg;
    }
    let point = |a: f64, r: f64| (C + r * a.sin(), C - r * a.cos());
    let mut start = 0.0_f64;
    for (i, (label, value, text)) in drawn.iter().enumerate() {
        let sweep = (value / total * std::f64::consts::TAU).min(std::f64::consts::TAU - 0.0001);
        let end = start + sweep;
        let large = i32::from(sweep > std::f64::consts::PI);
        let (x1, y1) = point(start, R);
        let (x2, y2) = point(end, R);
        let (x3, y3) = point(end, INNER);
        let (x4, y4) = point(start, INNER);
        let _ = write!(
            svg,
            r#"<path class="c{}" d="M{x1:.2},{y1:.2} A{R},{R} 0 {large} 1 {x2:.2},{y2:.2} L{x3:.2},{y3:.2} A{INNER},{INNER} 0 {large} 0 {x4:.2},{y4:.2} Z"><title>{}: {} ({})</title></path>"#,
            i % COLOURS,
            escape(label),
            escape(text),
            escape(&share(value / total))
        );
        #[allow(clippy::cast_precision_loss)]
        let ky = 24.0 * i as f64 + 20.0;
        let name: String = label.chars().take(32).collect();
        let _ = write!(
            svg,
            r#"<g class="key"><rect class="c{}" x="230" y="{:.0}" width="12" height="12" rx="2"/><text class="label" x="248" y="{ky:.0}">{} · {} ({})</text></g>"#,
            i % COLOURS,
            ky - 10.0,
            escape(&name),
            escape(text),
            escape(&share(value / total))
        );
        start = end;
    }
    svg.push_str("</svg>");
    svg
}

/// Bars centred one under the other in the groups' order, each as wide as its figure: a
/// funnel when each stage holds fewer. (label, value, value as shown).
pub fn funnel(title: &str, bars: &[(String, f64, String)]) -> String {
    const LABEL: f64 = 200.0;
    const WIDTH: f64 = 420.0;
    const ROW: f64 = 30.0;
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max);
    let mut svg = String::new();
    #[allow(clippy::cast_precision_loss)]
    let height = ROW * bars.len() as f64 + 8.0;
    open_svg(&mut svg, "funnel", title, LABEL + WIDTH + 140.0, height);
    for (i, (label, value, text)) in bars.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let y = 4.0 + ROW * i as f64;
        let w = if max > 0.0 { (value / max * WIDTH).max(1.0) } else { 1.0 };
        let name: String = label.chars().take(28).collect();
        let _ = write!(
            svg,
            r#"<text class="label" x="0" y="{:.0}">{}</text><rect x="{:.1}" y="{y:.0}" width="{w:.1}" height="22" rx="3"><title>{}: {}</title></rect><text class="figure" x="{:.0}" y="{:.0}">{}</text>"#,
            y + 16.0,
            escape(&name),
            LABEL + (WIDTH - w) / 2.0,
            escape(label),
            escape(text),
            LABEL + WIDTH + 8.0,
            y + 16.0,
            escape(text)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A band of a marked stacked bar chart: its name, colour (`c0`…`c7`), a pattern over the
/// colour (`hatch`, `dots`, `cross`: the bands differ in greyscale and print too), a value per
/// bar and that value as shown.
pub struct Band {
    pub name: String,
    pub colour: usize,
    pub pattern: Option<&'static str>,
    pub values: Vec<f64>,
    pub texts: Vec<String>,
}

/// A figure marked on each bar (a target, a weighted sum): a line across the bar at its value,
/// drawn with its CSS class (`mark quota`, `mark weighted`).
pub struct Mark {
    pub name: String,
    pub class: &'static str,
    pub values: Vec<Option<f64>>,
    pub texts: Vec<String>,
}

/// Horizontal stacked bars, one per row, with marks across them (a quota, a weighted figure)
/// and the row's total after the bar. The legend names only the bands and marks drawn, each
/// drawn as it is in the bars (colour, pattern, line). The patterns are `pattern` elements
/// with fixed ids (`chart-hatch`, `chart-dots`, `chart-cross`): one such chart per page.
pub fn marked_bars(title: &str, rows: &[String], bands: &[Band], marks: &[Mark], totals: &[String]) -> String {
    const LABEL: f64 = 110.0;
    const WIDTH: f64 = 480.0;
    const ROW: f64 = 30.0;
    const FULL: f64 = LABEL + WIDTH + 170.0;
    let drawn: Vec<&Band> = bands.iter().filter(|b| b.values.iter().any(|v| *v > 0.0)).collect();
    let marked: Vec<&Mark> = marks.iter().filter(|m| m.values.iter().any(Option::is_some)).collect();
    let sums = (0..rows.len()).map(|r| {
        drawn
            .iter()
            .map(|b| b.values.get(r).copied().unwrap_or(0.0).max(0.0))
            .sum()
    });
    let mark_values = marked.iter().flat_map(|m| m.values.iter().flatten().copied());
    let max = sums.chain(mark_values).fold(0.0_f64, f64::max);
    let scale = |v: f64| if max > 0.0 { v.max(0.0) / max * WIDTH } else { 0.0 };
    // The legend: a swatch per band, a short line per mark, wrapped within the width.
    let mut keys = String::new();
    let (mut x, mut y) = (0.0_f64, 14.0_f64);
    let mut place = |name: &str| {
        #[allow(clippy::cast_precision_loss)]
        let w = 30.0 + 7.0 * name.chars().count() as f64;
        if x > 0.0 && x + w > FULL {
            x = 0.0;
            y += 20.0;
        }
        let at = (x, y);
        x += w;
        at
    };
    for b in &drawn {
        let (kx, ky) = place(&b.name);
        let _ = write!(
            keys,
            r#"<g class="key"><rect class="c{}" x="{kx:.0}" y="{:.0}" width="14" height="14" rx="2"/>"#,
            b.colour % COLOURS,
            ky - 11.0
        );
        if let Some(p) = b.pattern {
            let _ = write!(
                keys,
                r#"<rect class="p-{p}" x="{kx:.0}" y="{:.0}" width="14" height="14" rx="2"/>"#,
                ky - 11.0
            );
        }
        let _ = write!(
            keys,
            r#"<text class="label" x="{:.0}" y="{ky:.0}">{}</text></g>"#,
            kx + 19.0,
            escape(&b.name)
        );
    }
    for m in &marked {
        let (kx, ky) = place(&m.name);
        let _ = write!(
            keys,
            r#"<g class="key"><line class="{}" x1="{:.0}" x2="{:.0}" y1="{:.0}" y2="{:.0}"/><text class="label" x="{:.0}" y="{ky:.0}">{}</text></g>"#,
            m.class,
            kx + 7.0,
            kx + 7.0,
            ky - 13.0,
            ky + 3.0,
            kx + 19.0,
            escape(&m.name)
        );
    }
    let top = y + 14.0;
    let mut body = String::new();
    for (r, label) in rows.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let y = top + 6.0 + ROW * r as f64;
        let _ = write!(
            body,
            r#"<text class="label" x="0" y="{:.0}">{}</text>"#,
            y + 14.0,
            escape(label)
        );
        let mut x = LABEL;
        for b in &drawn {
            let v = b.values.get(r).copied().unwrap_or(0.0);
            let w = scale(v);
            if w <= 0.0 {
                continue;
            }
            let tip = format!(
                "{} · {}: {}",
                escape(label),
                escape(&b.name),
                escape(b.texts.get(r).map_or("", String::as_str))
            );
            let _ = write!(
                body,
                r#"<rect class="c{}" x="{x:.1}" y="{y:.0}" width="{w:.1}" height="20"><title>{tip}</title></rect>"#,
                b.colour % COLOURS
            );
            if let Some(p) = b.pattern {
                let _ = write!(
                    body,
                    r#"<rect class="p-{p}" x="{x:.1}" y="{y:.0}" width="{w:.1}" height="20"><title>{tip}</title></rect>"#
                );
            }
            x += w;
        }
        let _ = write!(
            body,
            r#"<text class="figure" x="{:.1}" y="{:.0}">{}</text>"#,
            x.max(
                LABEL
                    + marked
                        .iter()
                        .filter_map(|m| m.values.get(r).copied().flatten())
                        .map(&scale)
                        .fold(0.0, f64::max)
            ) + 8.0,
            y + 14.0,
            escape(totals.get(r).map_or("", String::as_str))
        );
        for m in &marked {
            let Some(v) = m.values.get(r).copied().flatten() else {
                continue;
            };
            let mx = LABEL + scale(v);
            let _ = write!(
                body,
                r#"<line class="{}" x1="{mx:.1}" x2="{mx:.1}" y1="{:.0}" y2="{:.0}"><title>{} · {}: {}</title></line>"#,
                m.class,
                y - 4.0,
                y + 24.0,
                escape(label),
                escape(&m.name),
                escape(m.texts.get(r).map_or("", String::as_str))
            );
        }
    }
    let mut svg = String::new();
    #[allow(clippy::cast_precision_loss)]
    let height = top + ROW * rows.len() as f64 + 10.0;
    open_svg(&mut svg, "marked", title, FULL, height);
    svg.push_str(
        r#"<defs><pattern id="chart-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line class="pattern-line" x1="0" y1="0" x2="0" y2="6"/></pattern><pattern id="chart-dots" width="5" height="5" patternUnits="userSpaceOnUse"><circle class="pattern-dot" cx="2.5" cy="2.5" r="1.2"/></pattern><pattern id="chart-cross" width="6" height="6" patternUnits="userSpaceOnUse"><path class="pattern-line" d="M0 3H6M3 0V6"/></pattern></defs>"#,
    );
    svg.push_str(&keys);
    svg.push_str(&body);
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
    fn marked_bars_name_only_what_they_draw() {
        let bands = [
            Band {
                name: "Closed".into(),
                colour: 2,
                pattern: None,
                values: vec![5.0, 0.0],
                texts: vec!["5".into(), "0".into()],
            },
            Band {
                name: "Commit".into(),
                colour: 0,
                pattern: Some("hatch"),
                values: vec![0.0, 0.0],
                texts: vec![String::new(); 2],
            },
        ];
        let marks = [
            Mark {
                name: "Quota".into(),
                class: "mark quota",
                values: vec![Some(10.0), None],
                texts: vec!["10".into(), String::new()],
            },
            Mark {
                name: "Weighted".into(),
                class: "mark weighted",
                values: vec![None, None],
                texts: vec![String::new(); 2],
            },
        ];
        let svg = marked_bars(
            "Forecast",
            &["Q4".into(), "Q1".into()],
            &bands,
            &marks,
            &["5".into(), "0".into()],
        );
        assert_eq!(svg.matches(r#"class="key""#).count(), 2, "{svg}");
        assert!(svg.contains(">Closed<") && svg.contains(">Quota<"));
        assert!(!svg.contains(">Commit<") && !svg.contains(">Weighted<"));
        // The quota is the longest figure: the closed band is half the width.
        assert!(
            svg.contains(r#"<rect class="c2" x="110.0" y="34" width="240.0""#),
            "{svg}"
        );
        assert!(svg.contains(r#"<line class="mark quota" x1="590.0""#), "{svg}");
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
