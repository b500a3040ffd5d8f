//! SARIF 2.1.0 for GitHub code scanning.
//!
//! GitHub rejects files that break its rules, and a rejected upload means no alerts at all, so
//! this reporter never writes one: every result has a physical location (the input file, a
//! non-empty relative URI, and the line where the resource stands), a stable
//! `partialFingerprints` entry (the same rule and resource give the same alert across runs),
//! rules carry `security-severity`, and the run has `automationDetails.id`. Over GitHub's
//! upload limits (25,000 results a run, 10 MB gzipped) the most severe results are kept and the
//! truncation is said, in a warning and in the run's notifications.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::json;
use serde_sarif::sarif;

use crate::evaluate::{Finding, RuleMetadata, Severity};

use super::Report;

/// GitHub's limit of results per run.
pub const MAX_RESULTS: usize = 25_000;
/// GitHub's limit of a gzipped upload.
pub const MAX_GZIP_BYTES: usize = 10 * 1024 * 1024;
/// GitHub shows at most this many tags per rule.
const MAX_TAGS: usize = 20;
/// The fingerprint key; bump the suffix only if the fingerprint's meaning changes.
pub const FINGERPRINT_KEY: &str = "credwarden/v1";

/// A rendered SARIF log.
pub struct SarifOutput {
    pub text: String,
    /// Results left out to stay within GitHub's limits, and why.
    pub warnings: Vec<String>,
}

/// Options beyond the report itself.
#[derive(Debug, Clone, Default)]
pub struct SarifOptions<'a> {
    /// The relative path results point at (default: the input file).
    pub artifact: Option<&'a str>,
    /// GitHub's analysis category (`automationDetails.id` up to its last `/`).
    pub category: Option<&'a str>,
}

pub fn render(report: &Report, opts: &SarifOptions) -> SarifOutput {
    render_with_limits(report, opts, MAX_RESULTS, MAX_GZIP_BYTES)
}

/// [`render`] with explicit limits (tests use small ones).
pub fn render_with_limits(
    report: &Report,
    opts: &SarifOptions,
    max_results: usize,
    max_gzip: usize,
) -> SarifOutput {
    // Unsuppressed results first, most severe first (findings are sorted by severity already).
    // The evaluation may hold only those that can be kept (`report::kept`); its tally counts them
    // all.
    let ordered: Vec<&Finding> = report
        .evaluation
        .findings
        .iter()
        .filter(|f| !f.suppressed)
        .chain(report.evaluation.findings.iter().filter(|f| f.suppressed))
        .collect();
    let tally = &report.evaluation.tally;
    let total = (tally.open() + tally.suppressed()).max(ordered.len());
    let mut keep = ordered.len().min(max_results);
    // The results that may be shown are placed once, not once per attempt below.
    let keys: Vec<[&str; 3]> = ordered[..keep].iter().map(|f| line_keys(f)).collect();
    let lines = report.input.lines_of(&keys);
    drop(keys);
    let mut warnings = Vec::new();
    loop {
        let truncated = keep < total;
        let notice = truncated.then(|| {
            format!(
                "SARIF output holds the {keep} most severe of {total} results to stay within GitHub's upload limits \
                 ({max_results} results per run, {} MB gzipped); see --format json for all of them",
                max_gzip / (1024 * 1024)
            )
        });
        let text = serialize(
            report,
            opts,
            &ordered[..keep],
            &lines[..keep],
            notice.as_deref(),
        );
        if fits_gzipped(&text, max_gzip) || keep == 0 {
            if let Some(n) = notice {
                warnings.push(n);
            }
            return SarifOutput { text, warnings };
        }
        keep = keep * 9 / 10;
    }
}

/// Whether `text` gzipped fits in `max` bytes. Text that fits uncompressed is not compressed
/// at all (gzip adds at most a few bytes per 16 KB); larger text is compressed at the fastest
/// level, whose output is no smaller than the levels uploaders use, so the answer errs on the
/// safe side (at 100,000 users the default level was a sixth of a SARIF scan).
fn fits_gzipped(text: &str, max: usize) -> bool {
    text.len() + text.len() / 1024 + 64 <= max || gzipped_len(text) <= max
}

fn gzipped_len(text: &str) -> usize {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).expect("writing to memory");
    enc.finish().expect("writing to memory").len()
}

fn serialize(
    report: &Report,
    opts: &SarifOptions,
    findings: &[&Finding],
    lines: &[u32],
    notice: Option<&str>,
) -> String {
    let ev = report.evaluation;
    let uri = opts
        .artifact
        .map(|a| a.trim_start_matches("./").to_string())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| report.input_uri());
    let driver = sarif::ToolComponent::builder()
        .name("credwarden")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://github.com/credwarden/credwarden")
        .rules(ev.rules.iter().map(rule).collect::<Vec<_>>())
        .build();
    let evaluated = ev
        .evaluated_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut invocation = sarif::Invocation::builder()
        .execution_successful(true)
        .build();
    if let Some(n) = notice {
        invocation.tool_execution_notifications = Some(vec![sarif::Notification::builder()
            .message(sarif::Message::builder().text(n).build())
            .level(json!("warning"))
            .build()]);
    }
    let category = opts.category.unwrap_or("credwarden").trim_end_matches('/');
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .automation_details(
            sarif::RunAutomationDetails::builder()
                .id(format!("{category}/{evaluated}"))
                .build(),
        )
        .artifacts(vec![sarif::Artifact::builder()
            .location(sarif::ArtifactLocation::builder().uri(uri.clone()).build())
            .build()])
        .invocations(vec![invocation])
        // Written apart (below): the results' structures are never held all at once.
        .results(Vec::new())
        .properties(properties(BTreeMap::from([
            ("evaluatedAt".to_string(), json!(evaluated)),
            ("policyDigest".to_string(), json!(ev.policy_digest)),
        ])))
        .build();
    let log = sarif::Sarif::builder()
        .schema(sarif::SCHEMA_URL)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    let log = serde_json::to_string_pretty(&log).expect("SARIF serialises");
    // A key and `[` with nothing between: only the structure can hold it (in a JSON string
    // the quotes would be escaped). The run's members before its results are strings and our
    // own properties; the first such text is the run's results (a rule's properties, after
    // them under `tool`, could hold another).
    let at = log
        .find(EMPTY_RESULTS)
        .expect("a run's results are written");
    let (before, after) = (&log[..at], &log[at + EMPTY_RESULTS.len()..]);
    let mut text = Vec::with_capacity(log.len() + findings.len() * 1800);
    text.extend_from_slice(before.as_bytes());
    write_results(&mut text, report, &uri, findings, lines);
    text.extend_from_slice(after.as_bytes());
    text.push(b'\n');
    String::from_utf8(text).expect("serde_json writes UTF-8")
}

/// The empty results array of the run, as the log is first written, at its depth.
const EMPTY_RESULTS: &str = "\"results\": []";

/// Depth of a result in the log: `{ "runs": [ { "results": [ result`.
const RESULT_DEPTH: usize = 4;

/// Results serialised at a time by a core.
const RESULTS_PER_BATCH: usize = 512;

/// Write `"results": [ … ]` as `serde_json`'s pretty printer writes it inside the log, each
/// result made and serialised on one of the cores, a batch at a time, and dropped (at 25,000
/// results their structures took about 6 KB each, several times their text).
fn write_results(
    out: &mut Vec<u8>,
    report: &Report,
    uri: &str,
    findings: &[&Finding],
    lines: &[u32],
) {
    use super::json::nested::{indent, Nested};
    use serde::Serialize;

    let rule_index: BTreeMap<&str, usize> = report
        .evaluation
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let batches = findings.len().div_ceil(RESULTS_PER_BATCH);
    let make = |_: &mut (), b: usize| {
        let from = b * RESULTS_PER_BATCH;
        let to = (from + RESULTS_PER_BATCH).min(findings.len());
        let mut text = Vec::with_capacity((to - from) * 2048);
        for (i, (f, line)) in findings[from..to].iter().zip(&lines[from..to]).enumerate() {
            text.extend_from_slice(if from + i == 0 { b"\n" } else { b",\n" });
            indent(&mut text, RESULT_DEPTH).expect("writing to memory");
            let result = result(f, uri, *line, rule_index.get(f.rule_id.as_str()).copied());
            let mut ser =
                serde_json::Serializer::with_formatter(&mut text, Nested::at(RESULT_DEPTH));
            result.serialize(&mut ser).expect("SARIF serialises");
        }
        text
    };
    out.extend_from_slice(b"\"results\": [");
    crate::parallel::in_order(batches, || (), make, &mut |text: Vec<u8>| {
        out.extend_from_slice(&text);
        Ok(())
    })
    .expect("writing to memory");
    if !findings.is_empty() {
        out.push(b'\n');
        indent(out, RESULT_DEPTH - 1).expect("writing to memory");
    }
    out.push(b']');
}

fn line_keys(f: &Finding) -> [&str; 3] {
    [
        f.resource.id.as_str(),
        f.resource.arn.as_str(),
        f.account_id.as_str(),
    ]
}

fn properties(map: BTreeMap<String, serde_json::Value>) -> sarif::PropertyBag {
    sarif::PropertyBag::builder()
        .additional_properties(map)
        .build()
}

fn level(s: Severity) -> sarif::ResultLevel {
    match s {
        Severity::Critical | Severity::High => sarif::ResultLevel::Error,
        Severity::Medium => sarif::ResultLevel::Warning,
        Severity::Low | Severity::Info => sarif::ResultLevel::Note,
    }
}

fn rule(r: &RuleMetadata) -> sarif::ReportingDescriptor {
    let mut tags = vec!["security".to_string(), "aws".to_string(), "iam".to_string()];
    for (framework, ids) in &r.controls {
        for id in ids {
            tags.push(format!("{framework}:{id}"));
        }
    }
    tags.truncate(MAX_TAGS);
    let help_text = match &r.remediation {
        Some(fix) => format!("{}\n\nRemediation: {fix}", r.description),
        None => r.description.clone(),
    };
    let controls: Vec<String> = r
        .controls
        .iter()
        .map(|(f, ids)| format!("- {f}: {}", ids.join(", ")))
        .collect();
    let help_markdown = format!(
        "**{}** ({}, {})\n\n{}\n\n{}{}",
        r.title,
        r.id,
        r.severity,
        r.description,
        r.remediation
            .as_ref()
            .map(|f| format!("**Remediation.** {f}\n\n"))
            .unwrap_or_default(),
        if controls.is_empty() {
            String::new()
        } else {
            format!("**Controls**\n{}\n", controls.join("\n"))
        }
    );
    let mut props = BTreeMap::new();
    props.insert(
        "security-severity".to_string(),
        json!(r.severity.security_severity()),
    );
    props.insert("precision".to_string(), json!("very-high"));
    props.insert(
        "problem.severity".to_string(),
        json!(problem_severity(r.severity)),
    );
    props.insert("severity".to_string(), json!(r.severity));
    let mut bag = properties(props);
    bag.tags = Some(tags);
    sarif::ReportingDescriptor::builder()
        .id(r.id.clone())
        .name(pascal_case(&r.slug))
        .short_description(
            sarif::MultiformatMessageString::builder()
                .text(r.title.clone())
                .build(),
        )
        .full_description(
            sarif::MultiformatMessageString::builder()
                .text(non_empty(&r.description, &r.title))
                .build(),
        )
        .help(
            sarif::MultiformatMessageString::builder()
                .text(non_empty(&help_text, &r.title))
                .markdown(help_markdown)
                .build(),
        )
        .default_configuration(
            sarif::ReportingConfiguration::builder()
                .level(json!(level(r.severity)))
                .build(),
        )
        .properties(bag)
        .build()
}

fn problem_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "recommendation",
    }
}

fn non_empty(text: &str, fallback: &str) -> String {
    if text.trim().is_empty() {
        fallback.to_string()
    } else {
        text.to_string()
    }
}

fn pascal_case(slug: &str) -> String {
    slug.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn result(f: &Finding, uri: &str, line: u32, rule_index: Option<usize>) -> sarif::Result {
    let account = match &f.account_alias {
        Some(alias) => format!("{} ({alias})", f.account_id),
        None => f.account_id.to_string(),
    };
    let location = sarif::Location::builder()
        .physical_location(
            sarif::PhysicalLocation::builder()
                .artifact_location(
                    sarif::ArtifactLocation::builder()
                        .uri(uri.to_string())
                        .build(),
                )
                .region(
                    sarif::Region::builder()
                        .start_line(i64::from(line.max(1)))
                        .build(),
                )
                .build(),
        )
        .logical_locations(vec![sarif::LogicalLocation::builder()
            .fully_qualified_name(f.resource.arn.clone())
            .name(f.resource.id.clone())
            .kind("resource")
            .build()])
        .build();
    let mut props = BTreeMap::new();
    props.insert("account_id".to_string(), json!(f.account_id));
    props.insert("resource".to_string(), json!(f.resource));
    props.insert("severity".to_string(), json!(f.severity));
    if let Some(r) = &f.remediation {
        props.insert("remediation".to_string(), json!(r));
    }
    let mut result = sarif::Result::builder()
        .rule_id(f.rule_id.to_string())
        .level(level(f.severity))
        .message(
            sarif::Message::builder()
                .text(format!("{} [account {account}]", f.message))
                .build(),
        )
        .locations(vec![location])
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT_KEY.to_string(),
            f.fingerprint.clone(),
        )]))
        .properties(properties(props))
        .build();
    result.rule_index = rule_index.map(|i| i as i64);
    if let Some(e) = f.exception.as_ref().filter(|_| f.suppressed) {
        result.suppressions = Some(vec![sarif::Suppression::builder()
            .kind(json!("external"))
            .status(json!("accepted"))
            .justification(format!(
                "{} (owner {}, expires {})",
                e.reason, e.owner, e.expires
            ))
            .build()]);
    }
    result
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;
    use crate::evaluate::{Context, Evaluator, PolicySet};
    use crate::snapshot::load::load_snapshot;

    /// The results, written apart from the log and in batches on every core, make the text
    /// `serde_json`'s pretty printer makes of the whole log: no results, one batch, many.
    #[test]
    fn the_log_is_the_pretty_printers_text() {
        let dir = tempfile::tempdir().unwrap();
        let synthetic = crate::synthetic::generate(crate::synthetic::Spec {
            seed: 5,
            accounts: 2,
            users: 400,
        });
        let path = dir.path().join("s.json");
        std::fs::write(&path, serde_json::to_string_pretty(&synthetic).unwrap()).unwrap();
        let mut evaluator = Evaluator::new(PolicySet::load(&[]).unwrap()).unwrap();
        let ctx = Context {
            now: "2026-11-21T00:00:00Z".parse().unwrap(),
            config: Config::default(),
        };
        for input in [Path::new("fixtures/demo/snapshot.json"), &path] {
            let input = load_snapshot(input).unwrap();
            let mut evaluation = evaluator.evaluate(&input.snapshot, &ctx).unwrap();
            let many = evaluation.findings.len();
            for keep in [many, 1, 0] {
                evaluation.findings.truncate(keep);
                let report = Report {
                    evaluation: &evaluation,
                    input: &input,
                    config_path: None,
                    policy_dirs: vec![],
                };
                let text = render(&report, &SarifOptions::default()).text;
                let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                let results = value["runs"][0]["results"].as_array().unwrap().len();
                assert_eq!(results, keep.min(MAX_RESULTS));
                assert!(
                    text == serde_json::to_string_pretty(&value).unwrap() + "\n",
                    "{keep} results"
                );
            }
            assert!(input.path.ends_with("snapshot.json") || many > RESULTS_PER_BATCH * 2);
        }
    }
}
