//! The Markdown report, for CI job summaries: totals, a table per severity, the top findings.

use std::fmt::Write as _;

use super::{severity_counts, Report};

/// Findings listed in full; the rest are counted.
const TOP: usize = 50;

/// The findings [`render`] needs of an evaluation: the first 50 open ones (`TOP`) (the rest are
/// counted in its tally). `scan` keeps only these as the evaluation streams
/// ([`super::kept::evaluate_kept`]).
pub const KEPT: usize = TOP;

pub fn render(report: &Report) -> String {
    let ev = report.evaluation;
    let mut out = String::new();
    let open = ev.tally.open();
    let _ = writeln!(
        out,
        "## credwarden: {} finding{}\n",
        open,
        if open == 1 { "" } else { "s" }
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
    let suppressed = ev.tally.suppressed();
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
    if open == 0 {
        return out;
    }
    let _ = writeln!(out, "\n### Top findings\n\n| severity | rule | account | resource | message |\n|---|---|---|---|---|");
    for f in ev.findings.iter().filter(|f| !f.suppressed).take(TOP) {
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
    if open > TOP {
        let _ = writeln!(
            out,
            "\n…and {} more (see the JSON or SARIF report).",
            open - TOP
        );
    }
    out
}

/// Table cells cannot hold `|` or newlines.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
