//! The access-key chart: keys by age, each bar split by when the key was last used.
//!
//! Drawn as inline SVG by the host, so the report needs no script or library to show it and
//! prints as it looks on screen.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::escape;
use crate::snapshot::{KeyStatus, Snapshot};

/// Age buckets (upper bound in days, inclusive; `None` is open-ended) and their labels.
pub const AGE_BUCKETS: [(Option<i64>, &str); 6] = [
    (Some(30), "≤ 30 days"),
    (Some(90), "31–90 days"),
    (Some(180), "91–180 days"),
    (Some(365), "181–365 days"),
    (Some(730), "1–2 years"),
    (None, "> 2 years"),
];

/// What a key's last use says, in the order the segments stack (bottom first).
pub const USE_CLASSES: [(&str, &str, &str); 5] = [
    ("recent", "active, used in the last 30 days", "#3b8f5c"),
    ("month", "active, last used 31–90 days ago", "#c9a227"),
    ("stale", "active, last used over 90 days ago", "#d9731c"),
    ("never", "active, never used", "#b8322e"),
    ("inactive", "inactive", "#8a8f98"),
];

/// Key counts: `counts[age_bucket][use_class]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyAges {
    pub counts: [[usize; 5]; 6],
}

impl KeyAges {
    /// Every IAM user access key of the collected accounts, aged at `now`.
    pub fn of(snapshot: &Snapshot, now: DateTime<Utc>) -> KeyAges {
        let mut ages = KeyAges::default();
        let keys = snapshot
            .accounts
            .iter()
            .flat_map(|a| &a.users)
            .flat_map(|u| &u.access_keys);
        for key in keys {
            let age = (now - key.created_at).num_days();
            let bucket = AGE_BUCKETS
                .iter()
                .position(|(max, _)| max.is_none_or(|m| age <= m))
                .expect("the last bucket is open-ended");
            let class = if key.status != KeyStatus::Active {
                4
            } else {
                match key.last_used_at.map(|t| (now - t).num_days()) {
                    None => 3,
                    Some(d) if d <= 30 => 0,
                    Some(d) if d <= 90 => 1,
                    Some(_) => 2,
                }
            };
            ages.counts[bucket][class] += 1;
        }
        ages
    }

    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }
}

const WIDTH: u32 = 720;
const HEIGHT: u32 = 280;
const LEFT: u32 = 56;
const BOTTOM: u32 = 40;
const TOP: u32 = 16;

/// The chart as an `<svg>` element, with a `<title>` on every segment.
pub fn svg(ages: &KeyAges) -> String {
    let max = ages
        .counts
        .iter()
        .map(|b| b.iter().sum::<usize>())
        .max()
        .unwrap_or(0);
    let scale_max = nice_ceiling(max);
    let plot_h = (HEIGHT - BOTTOM - TOP) as f64;
    let slot = (WIDTH - LEFT - 8) as f64 / AGE_BUCKETS.len() as f64;
    let bar_w = slot * 0.62;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg id="key-age-chart" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" aria-labelledby="key-age-chart-title" xmlns="http://www.w3.org/2000/svg"><title id="key-age-chart-title">Access keys by age and last use ({} keys)</title>"#,
        ages.total()
    );
    // Grid lines and y-axis labels.
    for i in 0..=4u32 {
        let value = scale_max * i as usize / 4;
        let y = TOP as f64 + plot_h - plot_h * i as f64 / 4.0;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#d5d8dd" stroke-width="1"/><text x="{}" y="{:.1}" text-anchor="end" class="axis">{value}</text>"##,
            WIDTH - 8,
            LEFT - 6,
            y + 4.0
        );
    }
    for (b, (_, label)) in AGE_BUCKETS.iter().enumerate() {
        let x = LEFT as f64 + slot * b as f64 + (slot - bar_w) / 2.0;
        let mut y = TOP as f64 + plot_h;
        for (c, (class, meaning, colour)) in USE_CLASSES.iter().enumerate() {
            let n = ages.counts[b][c];
            if n == 0 {
                continue;
            }
            let h = plot_h * n as f64 / scale_max.max(1) as f64;
            y -= h;
            let _ = write!(
                out,
                r#"<rect class="bar {class}" data-bucket="{b}" x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{colour}"><title>{}: {n} key{} {}</title></rect>"#,
                escape(label),
                if n == 1 { "" } else { "s" },
                escape(meaning)
            );
        }
        let total: usize = ages.counts[b].iter().sum();
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="total">{total}</text><text x="{:.1}" y="{}" text-anchor="middle" class="axis">{}</text>"#,
            x + bar_w / 2.0,
            y - 4.0,
            x + bar_w / 2.0,
            HEIGHT - BOTTOM + 18,
            escape(label)
        );
    }
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" class="axis-title">key age (since creation)</text></svg>"#,
        LEFT + (WIDTH - LEFT) / 2,
        HEIGHT - 6
    );
    out
}

/// The legend, as HTML beside the chart.
pub fn legend() -> String {
    let mut out = String::from(r#"<ul class="legend">"#);
    for (class, meaning, colour) in USE_CLASSES {
        let _ = write!(
            out,
            r#"<li class="{class}"><span class="swatch" style="background:{colour}"></span>{}</li>"#,
            escape(meaning)
        );
    }
    out.push_str("</ul>");
    out
}

/// The same numbers as a table, for screen readers, print and copying.
pub fn table(ages: &KeyAges) -> String {
    let mut out = String::from(r#"<table class="numbers"><thead><tr><th>age</th>"#);
    for (_, meaning, _) in USE_CLASSES {
        let _ = write!(out, "<th>{}</th>", escape(meaning));
    }
    out.push_str("<th>all</th></tr></thead><tbody>");
    for (b, (_, label)) in AGE_BUCKETS.iter().enumerate() {
        let _ = write!(out, "<tr><th>{}</th>", escape(label));
        for n in ages.counts[b] {
            let _ = write!(out, r#"<td class="num">{n}</td>"#);
        }
        let _ = write!(
            out,
            r#"<td class="num">{}</td></tr>"#,
            ages.counts[b].iter().sum::<usize>()
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// The smallest of 1, 2, 5 × 10ⁿ (and 4 × for even quarters) at or above `n`, so the four grid
/// lines fall on round numbers.
fn nice_ceiling(n: usize) -> usize {
    if n <= 4 {
        return 4;
    }
    let mut step = 1;
    loop {
        for m in [1, 2, 4, 5] {
            if n <= 4 * m * step {
                return 4 * m * step;
            }
        }
        step *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_tops_are_round() {
        assert_eq!(nice_ceiling(0), 4);
        assert_eq!(nice_ceiling(5), 8);
        assert_eq!(nice_ceiling(13), 16);
        assert_eq!(nice_ceiling(17), 20);
        assert_eq!(nice_ceiling(21), 40);
        assert_eq!(nice_ceiling(199), 200);
        assert_eq!(nice_ceiling(20_001), 40_000);
    }
}
