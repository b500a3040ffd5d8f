//! The Markdown report, for CI job summaries: totals, a table per severity, the top findings.

use std::fmt::Write as _;

use super::{severity_counts, Report};

/// Findings listed in full; the rest are counted.
const TOP: usize = 50;

pub fn render(report: &Report) -> String {
    let ev = report.evaluation;
    let mut out = String::new();
    let shown: Vec<_> = ev.findings.iter().filter(|f| !f.suppressed).collect();
    let _ = writeln!(
        out,
        "## credwarden: {} finding{}\n",
        shown.len(),
        if shown.len() == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "Input `{}` evaluated at {} with {} rules.\n",
        report.input_uri(),
        ev.evaluated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ev.rules.len()
    );
    out.push_str("| severity | findings |\n|---|---:|\n");
    for (s, n) in severity_counts(ev) {
        let _ = writeln!(out, "| {s} | {n} |");
    }
    let suppressed = ev.findings.len() - shown.len();
    if suppressed > 0 {
        let _ = writeln!(out, "\n{suppressed} finding(s) suppressed by exceptions.");
    }
    let expired: Vec<_> = ev
        .exceptions
        .iter()
        .filter(|e| e.status == "expired")
        .collect();
    for e in expired {
        let _ = writeln!(
            out,
            "\n> **Expired exception:** {} on `{}` (owner {}) expired {}.",
            e.exception.rule, e.exception.resource, e.exception.owner, e.exception.expires
        );
    }
    if shown.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\n### Top findings\n\n| severity | rule | account | resource | message |\n|---|---|---|---|---|");
    for f in shown.iter().take(TOP) {
        let _ = writeln!(
            out,
            "| {} | {} `{}` | {} | `{}` | {} |",
            f.severity,
            f.rule_id,
            f.slug,
            f.account_id,
            cell(&f.resource.id),
            cell(&f.message)
        );
    }
    if shown.len() > TOP {
        let _ = writeln!(
            out,
            "\n…and {} more (see the JSON or SARIF report).",
            shown.len() - TOP
        );
    }
    out
}

/// Table cells cannot hold `|` or newlines.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
