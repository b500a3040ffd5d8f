//! The CSV report, for spreadsheets: one row per finding, suppressed ones included and marked.

use super::Report;
use crate::evaluate::{Evaluation, Finding, FindingStream};

const HEADER: [&str; 14] = [
    "rule_id",
    "slug",
    "severity",
    "account_id",
    "account_alias",
    "resource_type",
    "resource_id",
    "resource_arn",
    "user",
    "message",
    "remediation_action",
    "suppressed",
    "exception_status",
    "fingerprint",
];

pub fn render(report: &Report) -> String {
    let mut text = header();
    text.extend(rows(&report.evaluation.findings));
    String::from_utf8(text).expect("CSV of UTF-8 text")
}

/// Write the CSV of the evaluation `stream` makes — the same bytes [`render`] makes of it whole,
/// masked by [`super::redact::redact`] when `redact` — and return the evaluation (without its
/// findings). Rows are written a section at a time, made on the core that made the section.
pub fn write_streamed<W: std::io::Write + ?Sized>(
    stream: FindingStream,
    redact: bool,
    out: &mut W,
) -> std::io::Result<Evaluation> {
    // Every piece ends a record, and so a line.
    let mut emit = |text: Vec<u8>| {
        let text = String::from_utf8(text).expect("CSV of UTF-8 text");
        super::redact::write_piece(out, &text, redact)
    };
    emit(header())?;
    stream.run(|section| rows(&section), emit)
}

fn header() -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER).expect("writing to memory");
    writer.into_inner().expect("writing to memory")
}

/// One record per finding (each record is quoted on its own, so rows of consecutive findings
/// concatenate into the rows of them all).
fn rows(findings: &[Finding]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(findings.len() * 400));
    for f in findings {
        let action = f
            .remediation
            .as_ref()
            .and_then(|r| r.action.clone())
            .unwrap_or_default();
        writer
            .write_record([
                f.rule_id.as_str(),
                &f.slug,
                f.severity.as_str(),
                &f.account_id,
                f.account_alias.as_deref().unwrap_or(""),
                &f.resource.kind,
                &f.resource.id,
                &f.resource.arn,
                f.resource.user.as_deref().unwrap_or(""),
                &f.message,
                &action,
                if f.suppressed { "true" } else { "false" },
                f.exception.as_ref().map_or("", |e| e.status),
                &f.fingerprint,
            ])
            .expect("writing to memory");
    }
    writer.into_inner().expect("writing to memory")
}
