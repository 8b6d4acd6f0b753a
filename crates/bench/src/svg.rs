//! A grouped bar chart of ratios to native, written by hand as SVG: one group
//! per workload, one bar per sandbox column, a log-scale y axis with native
//! as the 1× line, a legend and axis labels.

use std::fmt::Write as _;

/// One bar: a ratio, or the short reason there is none ("not supported yet").
#[derive(Debug, Clone)]
pub(crate) enum Bar {
    Ratio(f64),
    Missing(String),
}

/// One workload's bars, one per series.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) label: String,
    pub(crate) bars: Vec<Bar>,
}

const COLORS: [&str; 6] = [
    "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02",
];
const BAR: f64 = 16.0;
const GAP: f64 = 18.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 96.0;
const PLOT_H: f64 = 340.0;
const BOTTOM: f64 = 150.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The decades the y axis spans: always includes 1×, and every ratio.
#[allow(
    clippy::cast_possible_truncation,
    reason = "log10 of a finite f64 is within i32"
)]
fn decades(groups: &[Group]) -> (i32, i32) {
    let ratios = groups.iter().flat_map(|g| &g.bars).filter_map(|b| match b {
        Bar::Ratio(r) if *r > 0.0 && r.is_finite() => Some(*r),
        _ => None,
    });
    let (lo, hi) = ratios.fold((1.0_f64, 1.0_f64), |(lo, hi), r| (lo.min(r), hi.max(r)));
    let lo = (lo / 1.5).log10().floor() as i32;
    let hi = ((hi * 1.5).log10().ceil() as i32).max(lo + 1).max(1);
    (lo.min(-1), hi)
}

fn ratio_label(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}×")
    } else if r >= 10.0 {
        format!("{r:.1}×")
    } else {
        format!("{r:.2}×")
    }
}

fn tick_label(exp: i32) -> String {
    if exp >= 0 {
        format!("{}×", 10_u64.pow(exp.unsigned_abs()))
    } else {
        format!("{}×", 10f64.powi(exp))
    }
}

/// The whole SVG document.
pub(crate) fn chart(
    title: &str,
    subtitle: &str,
    series: &[String],
    groups: &[Group],
    footnote: &str,
) -> String {
    let nseries = series.len().max(1);
    #[allow(
        clippy::cast_precision_loss,
        reason = "a handful of columns and workloads"
    )]
    let (group_w, ngroups) = (nseries as f64 * BAR + GAP, groups.len().max(1) as f64);
    let plot_w = (group_w * ngroups).max(520.0);
    let (width, height) = (LEFT + plot_w + RIGHT, TOP + PLOT_H + BOTTOM);
    let (lo, hi) = decades(groups);
    let y = |r: f64| TOP + PLOT_H * (f64::from(hi) - r.log10()) / f64::from(hi - lo);
    let base = y(1.0);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="24" font-size="16" font-weight="bold">{}</text>"#,
        esc(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="42" font-size="11" fill="#555">{}</text>"##,
        esc(subtitle)
    );

    // Grid and y axis: a labelled line per decade, faint lines at 2× and 5×.
    for exp in lo..=hi {
        let v = 10f64.powi(exp);
        let yy = y(v);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ccc"/>"##,
            LEFT + plot_w
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            yy + 4.0,
            tick_label(exp)
        );
        if exp < hi {
            for m in [2.0, 5.0] {
                let ym = y(v * m);
                let _ = writeln!(
                    s,
                    r##"<line x1="{LEFT}" y1="{ym:.1}" x2="{:.1}" y2="{ym:.1}" stroke="#eee"/>"##,
                    LEFT + plot_w
                );
            }
        }
    }
    let _ = writeln!(
        s,
        r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{:.1}" stroke="black"/>"#,
        TOP + PLOT_H
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(22 {:.1}) rotate(-90)" text-anchor="middle">time relative to native (log scale)</text>"#,
        TOP + PLOT_H / 2.0
    );

    // Bars grow from the native line: up when slower, down when faster.
    for (gi, group) in groups.iter().enumerate() {
        #[allow(clippy::cast_precision_loss, reason = "a handful of workloads")]
        let x0 = LEFT + GAP / 2.0 + gi as f64 * group_w;
        for (bi, bar) in group.bars.iter().enumerate() {
            #[allow(clippy::cast_precision_loss, reason = "a handful of columns")]
            let x = x0 + bi as f64 * BAR;
            let color = COLORS[bi % COLORS.len()];
            let name = series.get(bi).map_or("", String::as_str);
            match bar {
                Bar::Ratio(r) => {
                    let yr = y(*r);
                    let (top, h) = if yr < base {
                        (yr, base - yr)
                    } else {
                        (base, yr - base)
                    };
                    let _ = writeln!(
                        s,
                        r#"<rect x="{x:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{}, {}: {}</title></rect>"#,
                        BAR - 2.0,
                        h.max(1.0),
                        esc(&group.label),
                        esc(name),
                        ratio_label(*r)
                    );
                    let ty = if yr < base { top - 4.0 } else { top + h + 4.0 };
                    let _ = writeln!(
                        s,
                        r#"<text transform="translate({:.1} {ty:.1}) rotate(-90)" font-size="10" text-anchor="{}">{}</text>"#,
                        x + BAR / 2.0 + 3.0,
                        if yr < base { "start" } else { "end" },
                        ratio_label(*r)
                    );
                }
                Bar::Missing(why) => {
                    let _ = writeln!(
                        s,
                        r##"<text transform="translate({:.1} {:.1}) rotate(-90)" font-size="10" fill="#888">{}<title>{}, {}: {}</title></text>"##,
                        x + BAR / 2.0 + 3.0,
                        base - 4.0,
                        esc(why),
                        esc(&group.label),
                        esc(name),
                        esc(why)
                    );
                }
            }
        }
        let lx = x0 + group_w / 2.0 - GAP / 2.0;
        let _ = writeln!(
            s,
            r#"<text transform="translate({lx:.1} {:.1}) rotate(-40)" text-anchor="end">{}</text>"#,
            TOP + PLOT_H + 16.0,
            esc(&group.label)
        );
    }
    // The native line on top of the bars.
    let _ = writeln!(
        s,
        r#"<line x1="{LEFT}" y1="{base:.1}" x2="{:.1}" y2="{base:.1}" stroke="black" stroke-width="1.5" stroke-dasharray="6 3"/>"#,
        LEFT + plot_w
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">workload</text>"#,
        LEFT + plot_w / 2.0,
        height - 28.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="{:.1}" font-size="10" fill="#555">{}</text>"##,
        height - 8.0,
        esc(footnote)
    );

    // Legend.
    let mut lx = LEFT;
    let ly = 62.0;
    let _ = writeln!(
        s,
        r#"<line x1="{lx}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke="black" stroke-width="1.5" stroke-dasharray="6 3"/>"#,
        lx + 24.0
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}">native = 1×</text>"#,
        lx + 30.0,
        ly + 4.0
    );
    lx += 130.0;
    for (i, name) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let _ = writeln!(
            s,
            r#"<rect x="{lx:.1}" y="{:.1}" width="14" height="14" fill="{color}"/>"#,
            ly - 7.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 20.0,
            ly + 4.0,
            esc(name)
        );
        #[allow(clippy::cast_precision_loss, reason = "short names")]
        let advance = 40.0 + 7.5 * name.chars().count() as f64;
        lx += advance;
    }
    s += "</svg>\n";
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_spans_one_and_every_ratio() {
        let g = |bars| {
            vec![Group {
                label: "w".into(),
                bars,
            }]
        };
        assert_eq!(decades(&g(vec![Bar::Ratio(78.0)])), (-1, 3));
        assert_eq!(
            decades(&g(vec![Bar::Ratio(0.02), Bar::Missing("x".into())])),
            (-2, 1)
        );
        assert_eq!(decades(&g(vec![])), (-1, 1));
    }

    #[test]
    fn chart_has_bars_legend_and_labels() {
        let groups = vec![
            Group {
                label: "getppid-syscall".into(),
                bars: vec![Bar::Ratio(78.0), Bar::Missing("missing".into())],
            },
            Group {
                label: "a<b".into(),
                bars: vec![Bar::Ratio(0.5), Bar::Ratio(2.0)],
            },
        ];
        let svg = chart("t", "s", &["ptrace".into(), "runsc".into()], &groups, "f");
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(
            svg.matches("<rect x=").count(),
            3 + 2,
            "three bars and two legend swatches"
        );
        assert!(svg.contains("78.0×") && svg.contains("a&lt;b") && svg.contains("native = 1×"));
        assert!(svg.contains("time relative to native (log scale)"));
    }
}
