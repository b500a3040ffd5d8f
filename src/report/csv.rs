//! The CSV report, for spreadsheets: one row per finding, suppressed ones included and marked.

use super::Report;

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
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER).expect("writing to memory");
    for f in &report.evaluation.findings {
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
    String::from_utf8(writer.into_inner().expect("writing to memory")).expect("CSV of UTF-8 text")
}
