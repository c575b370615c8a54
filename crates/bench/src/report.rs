//! Output: medians, markdown tables, and the throughput-vs-clients SVG (plain strings).

use std::fmt::Write as _;

use serde::Serialize;

use crate::load::Stats;

/// The median of `xs` (the mean of the two middle values for an even count; 0 if empty).
pub fn median(xs: &[f64]) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The per-field medians of several runs.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Runs taken.
    pub runs: usize,
    /// Median requests per second.
    pub throughput: f64,
    /// Median p50, µs.
    pub p50_us: f64,
    /// Median p99, µs.
    pub p99_us: f64,
    /// Median p99.9, µs.
    pub p999_us: f64,
    /// Errors over all runs.
    pub errors: u64,
}

impl Summary {
    /// Medians of `runs`.
    pub fn of(runs: &[Stats]) -> Self {
        let m = |f: fn(&Stats) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
        Self {
            runs: runs.len(),
            throughput: m(|s| s.throughput),
            p50_us: m(|s| s.p50_us as f64),
            p99_us: m(|s| s.p99_us as f64),
            p999_us: m(|s| s.p999_us as f64),
            errors: runs.iter().map(|s| s.errors).sum(),
        }
    }
}

/// A markdown table with a title.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// `### title`
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// Cells.
    pub rows: Vec<Vec<String>>,
    /// Lines printed under the table.
    pub notes: Vec<String>,
}

impl Table {
    /// An empty table.
    pub fn new(title: &str, header: &[&str]) -> Self {
        Self {
            title: title.to_owned(),
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as markdown.
    pub fn markdown(&self) -> String {
        let mut s = format!("### {}\n\n| {} |\n|", self.title, self.header.join(" | "));
        for (i, _) in self.header.iter().enumerate() {
            s.push_str(if i == 0 { "---|" } else { "---:|" });
        }
        s.push('\n');
        for r in &self.rows {
            let _ = writeln!(s, "| {} |", r.join(" | "));
        }
        for n in &self.notes {
            let _ = write!(s, "\n{n}\n");
        }
        s
    }
}

/// `a / b` with two decimals and a `×`, or `n/a`.
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() {
        format!("{:.2}×", a / b)
    } else {
        "n/a".to_owned()
    }
}

/// Requests per second, rounded.
pub fn rate(x: f64) -> String {
    format!("{x:.0}")
}

/// µs as milliseconds with two decimals.
pub fn ms(us: f64) -> String {
    format!("{:.2}", us / 1000.0)
}

/// KiB as MiB with one decimal.
pub fn mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

/// One line of the plot: a name and (clients, requests/s) points.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// Legend.
    pub name: String,
    /// Points, in increasing client count.
    pub points: Vec<(usize, f64)>,
}

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// An SVG line plot of throughput against clients (log2 x axis).
pub fn svg(title: &str, series: &[Series]) -> String {
    let (w, h, left, right, top, bottom) = (720.0, 420.0, 80.0, 200.0, 40.0, 50.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let xs: Vec<usize> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    let xmax = xs.iter().copied().max().unwrap_or(1).max(2) as f64;
    let ymax = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(1.0_f64, f64::max)
        * 1.1;
    let x = |c: usize| left + pw * (c.max(1) as f64).log2() / xmax.log2();
    let y = |v: f64| top + ph - ph * v / ymax;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="{w}" height="{h}" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="15">{title}</text>
<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="black"/>
<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="black"/>
<text x="{}" y="{}" text-anchor="middle">clients (log scale)</text>
<text x="18" y="{}" transform="rotate(-90 18 {})" text-anchor="middle">requests/s</text>
"#,
        left + pw / 2.0,
        top + ph,
        left + pw,
        top + ph,
        top + ph,
        left + pw / 2.0,
        h - 10.0,
        top + ph / 2.0,
        top + ph / 2.0,
    );
    let mut ticks: Vec<usize> = xs.clone();
    ticks.sort_unstable();
    ticks.dedup();
    for t in ticks {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{t}</text>"#,
            x(t),
            top + ph + 18.0
        );
    }
    for i in 0..=4 {
        let v = ymax * f64::from(i) / 4.0;
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{:.1}" text-anchor="end">{v:.0}</text><line x1="{left}" y1="{:.1}" x2="{}" y2="{:.1}" stroke="#ddd"/>"##,
            left - 6.0,
            y(v) + 4.0,
            y(v),
            left + pw,
            y(v)
        );
    }
    for (i, se) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let pts: Vec<String> = se
            .points
            .iter()
            .map(|&(c, v)| format!("{:.1},{:.1}", x(c), y(v)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        for &(c, v) in &se.points {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#,
                x(c),
                y(v)
            );
        }
        let ly = top + 10.0 + 20.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
            left + pw + 15.0,
            left + pw + 35.0,
            left + pw + 40.0,
            ly + 4.0,
            se.name
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn table_renders_markdown_with_right_aligned_numbers() {
        let mut t = Table::new("PUT", &["case", "Praetor", "etcd"]);
        t.row(vec!["1 client".into(), "10".into(), "5".into()]);
        let md = t.markdown();
        assert!(md.contains("| case | Praetor | etcd |\n|---|---:|---:|\n| 1 client | 10 | 5 |"));
    }

    #[test]
    fn svg_has_one_polyline_per_series() {
        let s = svg(
            "t",
            &[
                Series {
                    name: "a".into(),
                    points: vec![(1, 10.0), (64, 100.0)],
                },
                Series {
                    name: "b".into(),
                    points: vec![(1, 5.0), (64, 50.0)],
                },
            ],
        );
        assert_eq!(s.matches("<polyline").count(), 2);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>\n"));
    }

    #[test]
    fn ratio_handles_zero() {
        assert_eq!(ratio(3.0, 2.0), "1.50×");
        assert_eq!(ratio(3.0, 0.0), "n/a");
    }
}
