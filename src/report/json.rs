//! The JSON report: run metadata and every finding (suppressed ones marked, never dropped).

use serde::Serialize;
use serde_json::{json, Value};

use super::{account_summaries, severity_counts, Report};

pub fn render(report: &Report) -> String {
    let mut out = Vec::with_capacity(1024 + report.evaluation.findings.len() * 1200);
    write(report, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Write the report to `out` as it is serialised, straight from the findings (no intermediate
/// JSON tree, no whole text in memory): at 100,000 users a report holds half a million findings.
pub fn write(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report))?;
    out.write_all(b"\n")
}

/// The report document; `findings` and `exceptions` are borrowed from the evaluation.
#[derive(Serialize)]
struct Document<'a> {
    tool: Value,
    evaluated_at: String,
    input: Value,
    accounts: Vec<Value>,
    summary: Value,
    rules: Vec<Value>,
    exceptions: &'a [crate::evaluate::ExceptionStatus],
    findings: &'a [crate::evaluate::Finding],
}

fn document<'a>(report: &'a Report) -> Document<'a> {
    let ev = report.evaluation;
    let snap = &report.input.snapshot;
    let accounts: Vec<Value> = account_summaries(snap)
        .into_iter()
        .map(|a| {
            json!({
                "account_id": a.account_id,
                "alias": a.alias,
                "users": a.users,
                "access_keys": a.access_keys,
                "credential_report_generated_at": a.report_generated_at,
                "credential_report_age_hours": a.report_generated_at.map(|g| ((ev.evaluated_at - g).num_minutes() as f64 / 60.0 * 100.0).round() / 100.0),
                "error": a.error,
            })
        })
        .collect();
    let by_severity: serde_json::Map<String, Value> = severity_counts(ev)
        .into_iter()
        .map(|(s, n)| (s.to_string(), json!(n)))
        .collect();
    let rules: Vec<Value> = ev
        .rules
        .iter()
        .map(|r| json!({"id": r.id, "slug": r.slug, "title": r.title, "severity": r.severity, "controls": r.controls, "source": r.file, "bundled": r.bundled}))
        .collect();
    Document {
        tool: json!({"name": "credwarden", "version": env!("CARGO_PKG_VERSION")}),
        evaluated_at: ev
            .evaluated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        input: json!({
            "kind": report.input.kind.as_str(),
            "path": report.input_uri(),
            "schema": snap.schema,
            "source": snap.source,
            "collected_at": snap.collected_at,
            "config": report.config_path.as_ref().map(|p| super::relative_uri(p)),
            "policy_dirs": report.policy_dirs.iter().map(|p| super::relative_uri(p)).collect::<Vec<_>>(),
            "policy_digest": ev.policy_digest,
        }),
        accounts,
        summary: json!({
            "findings": ev.findings.iter().filter(|f| !f.suppressed).count(),
            "suppressed": ev.findings.iter().filter(|f| f.suppressed).count(),
            "by_severity": by_severity,
        }),
        rules,
        exceptions: &ev.exceptions,
        findings: &ev.findings,
    }
}
