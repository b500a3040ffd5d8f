//! The HTML report: one self-contained file for people, not pipelines.
//!
//! Everything is inline — styles, the filtering script, the chart (SVG drawn here) — so the file
//! opens from an e-mail attachment or an evidence bundle with no network and no other file. It
//! works without the script too: filtering is the only thing that needs it. Output is
//! deterministic, like every format: the same evaluation gives the same bytes.

pub mod chart;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use super::{account_summaries, severity_counts, OpenByAccount, Report};
use crate::evaluate::{Evaluation, Finding, FindingStream, Severity};
use crate::snapshot::LoadedSnapshot;

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

pub fn render(report: &Report) -> String {
    let findings = &report.evaluation.findings;
    let counts = Counts::of(findings);
    let mut out = before_rows(report, &counts);
    out.reserve(findings.len() * 600);
    rows(&mut out, findings);
    out.push_str(&after_rows(report, &counts));
    out
}

/// Write the page of the evaluation `stream` makes — the same bytes [`render`] makes of it
/// whole, masked by [`super::redact::redact`] when `redact` — and return the evaluation
/// (without its findings). The rows are made on the core that made each section and wait as
/// text in an anonymous temporary file (`report::held`) until the counts above them are known: at
/// 100,000 users 240 MB of rows, which held in memory made the peak 0.67–0.79 GB.
pub fn write_streamed<W: std::io::Write + ?Sized>(
    stream: FindingStream,
    input: &LoadedSnapshot,
    redact: bool,
    out: &mut W,
) -> std::io::Result<Evaluation> {
    let mut held = super::held::Held::new();
    let mut sections = Sections::default();
    let evaluation = stream.run(
        |section| Sections::render(&section, redact),
        |rows| held.write(sections.add(rows).as_bytes()),
    )?;
    let report = Report {
        evaluation: &evaluation,
        input,
        config_path: None,
        policy_dirs: Vec::new(),
    };
    sections.write_top(&report, redact, out)?;
    held.copy_to(out)?;
    sections.write_bottom(&report, redact, out)?;
    Ok(evaluation)
}

/// A page made section by section as an evaluation streams (the parts of [`write_streamed`],
/// for writers of several files from one stream, such as the evidence bundle): each section's
/// rows are made by [`Sections::render`] on the core that made the section, counted by
/// [`Sections::add`], and kept (in memory or on disk) by the caller until the top of the page,
/// which needs the counts, is written by [`Sections::write_top`]; then the rows, then
/// [`Sections::write_bottom`].
#[derive(Debug, Default)]
pub struct Sections {
    counts: Counts,
}

/// A section's rows, as text, and what the page counts of them.
#[derive(Debug)]
pub struct Rows {
    text: String,
    counts: Counts,
}

impl Sections {
    /// A section's rows (masked when `redact`), made on any core.
    pub fn render(findings: &[Finding], redact: bool) -> Rows {
        let mut text = String::with_capacity(findings.len() * 600);
        rows(&mut text, findings);
        if redact {
            // Every row ends a line: masked row by row is masked as a whole.
            text = super::redact::redact(&text);
        }
        Rows {
            text,
            counts: Counts::of(findings),
        }
    }

    /// Count a section's rows, in report order; returns their text, to be written between the
    /// top and the bottom of the page.
    pub fn add(&mut self, rows: Rows) -> String {
        self.counts.add(rows.counts);
        rows.text
    }

    /// The page down to the findings' rows, once every section is counted.
    pub fn write_top<W: std::io::Write + ?Sized>(
        &self,
        report: &Report,
        redact: bool,
        out: &mut W,
    ) -> std::io::Result<()> {
        // Every piece ends a line.
        super::redact::write_piece(out, &before_rows(report, &self.counts), redact)
    }

    /// The page after the findings' rows.
    pub fn write_bottom<W: std::io::Write + ?Sized>(
        &self,
        report: &Report,
        redact: bool,
        out: &mut W,
    ) -> std::io::Result<()> {
        super::redact::write_piece(out, &after_rows(report, &self.counts), redact)
    }
}

/// What the page shows of the findings besides their rows, counted a section at a time.
#[derive(Debug, Default)]
struct Counts {
    findings: usize,
    open: OpenByAccount,
    open_by_rule: HashMap<String, usize>,
    /// (id, slug) of the rules with findings.
    rules: BTreeSet<(String, String)>,
    accounts: BTreeSet<String>,
}

impl Counts {
    fn of(findings: &[Finding]) -> Counts {
        let mut counts = Counts {
            findings: findings.len(),
            ..Counts::default()
        };
        counts.open.count(findings);
        // A rule's findings are consecutive (report order), so only a change of rule is
        // inserted; accounts are few (a hundred at 100,000 users).
        let mut last_rule = None;
        for f in findings {
            if last_rule != Some(f.rule_id.as_str()) {
                last_rule = Some(f.rule_id.as_str());
                counts
                    .rules
                    .insert((f.rule_id.to_string(), f.slug.to_string()));
            }
            if !counts.accounts.contains(f.account_id.as_str()) {
                counts.accounts.insert(f.account_id.to_string());
            }
            if !f.suppressed {
                match counts.open_by_rule.get_mut(f.rule_id.as_str()) {
                    Some(n) => *n += 1,
                    None => {
                        counts.open_by_rule.insert(f.rule_id.to_string(), 1);
                    }
                }
            }
        }
        counts
    }

    fn add(&mut self, other: Counts) {
        self.findings += other.findings;
        self.open.add(other.open);
        for (rule, n) in other.open_by_rule {
            *self.open_by_rule.entry(rule).or_default() += n;
        }
        self.rules.extend(other.rules);
        self.accounts.extend(other.accounts);
    }
}

/// The page down to the findings' rows.
fn before_rows(report: &Report, counts: &Counts) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = format!("credwarden report · {}", report.input_uri());
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    header(&mut out, report);
    summary(&mut out, report);
    accounts(&mut out, report, counts);
    keys(&mut out, report);
    findings_above_rows(&mut out, counts);
    out
}

/// The page after the findings' rows.
fn after_rows(report: &Report, counts: &Counts) -> String {
    let mut out = String::with_capacity(16 * 1024);
    findings_below_rows(&mut out, counts);
    rules(&mut out, report, counts);
    exceptions(&mut out, report);
    let _ = write!(
        out,
        "<footer>credwarden {} · policy bundle <code>{}</code></footer>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&report.evaluation.policy_digest)
    );
    out
}

fn header(out: &mut String, report: &Report) {
    let ev = report.evaluation;
    let snap = &report.input.snapshot;
    let _ = write!(
        out,
        "<header>\n<h1>credwarden report</h1>\n<dl class=\"facts\">\
         <dt>input</dt><dd><code>{}</code> ({})</dd>\
         <dt>collected</dt><dd>{}</dd>\
         <dt>evaluated at</dt><dd>{}</dd>\
         <dt>rules</dt><dd>{}</dd></dl>\n</header>\n",
        escape(&report.input_uri()),
        escape(report.input.kind.as_str()),
        snap.collected_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ev.evaluated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ev.rules.len()
    );
}

fn summary(out: &mut String, report: &Report) {
    let ev = report.evaluation;
    let (open, suppressed) = (ev.tally.open(), ev.tally.suppressed());
    out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">");
    for (severity, n) in severity_counts(ev) {
        let _ = write!(
            out,
            r##"<a class="card sev-{s}" href="#severity={s}" data-severity="{s}"><span class="n">{n}</span><span class="label">{s}</span></a>"##,
            s = severity.as_str()
        );
    }
    let _ = write!(
        out,
        "</div>\n<p class=\"totals\">{open} open finding{} · {suppressed} suppressed by exceptions</p>\n</section>\n",
        plural(open)
    );
}

fn accounts(out: &mut String, report: &Report, counts: &Counts) {
    let ev = report.evaluation;
    out.push_str(
        "<section id=\"accounts\">\n<h2>Accounts</h2>\n<table class=\"accounts\"><thead><tr>\
         <th>account</th><th>alias</th><th class=\"num\">users</th><th class=\"num\">keys</th>",
    );
    for s in Severity::ALL {
        let _ = write!(out, r#"<th class="num sev-{s}">{s}</th>"#, s = s.as_str());
    }
    out.push_str("<th>credential report</th></tr></thead><tbody>\n");
    let open = &counts.open;
    for a in account_summaries(&report.input.snapshot) {
        let _ = write!(
            out,
            r##"<tr><td><a href="#account={id}" data-account="{id}">{id}</a></td><td>{}</td><td class="num">{}</td><td class="num">{}</td>"##,
            escape(a.alias.unwrap_or("–")),
            a.users,
            a.access_keys,
            id = escape(a.account_id),
        );
        for s in Severity::ALL {
            let n = open.get(a.account_id, s);
            let _ = write!(out, r#"<td class="num">{}</td>"#, zero_dim(n));
        }
        let report_cell = match (a.error, a.report_generated_at) {
            (Some(error), _) => format!(
                r#"<span class="error">not collected: {}</span>"#,
                escape(error)
            ),
            (None, Some(t)) => format!(
                "{} ({} h old)",
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                (ev.evaluated_at - t).num_hours()
            ),
            (None, None) => "–".to_string(),
        };
        let _ = writeln!(out, "<td>{report_cell}</td></tr>");
    }
    out.push_str("</tbody></table>\n</section>\n");
}

fn keys(out: &mut String, report: &Report) {
    let ages = chart::KeyAges::of(&report.input.snapshot, report.evaluation.evaluated_at);
    let _ = write!(
        out,
        "<section id=\"keys\">\n<h2>Access keys by age and last use</h2>\n\
         <p>{} IAM user access key{} of the collected accounts, by age at the evaluation time; \
         each bar is split by when the key was last used.</p>\n<figure>{}{}</figure>\n\
         <details><summary>The numbers</summary>{}</details>\n</section>\n",
        ages.total(),
        plural(ages.total()),
        chart::svg(&ages),
        chart::legend(),
        chart::table(&ages)
    );
}

fn findings_above_rows(out: &mut String, counts: &Counts) {
    let n = counts.findings;
    let _ = write!(
        out,
        "<section id=\"findings\">\n<h2>Findings</h2>\n<form class=\"filters\" id=\"filters\" role=\"search\">\
         <label>rule <select id=\"f-rule\" name=\"rule\"><option value=\"\">all rules</option>{}</select></label>\
         <label>severity <select id=\"f-severity\" name=\"severity\"><option value=\"\">all severities</option>{}</select></label>\
         <label>account <select id=\"f-account\" name=\"account\"><option value=\"\">all accounts</option>{}</select></label>\
         <label>status <select id=\"f-status\" name=\"status\"><option value=\"\">open and suppressed</option><option value=\"open\">open</option><option value=\"suppressed\">suppressed</option></select></label>\
         <label>text <input id=\"f-text\" name=\"text\" type=\"search\" placeholder=\"user, key, message…\"></label>\
         <button type=\"reset\" id=\"f-reset\">clear</button></form>\n\
         <p id=\"shown\" class=\"shown\" aria-live=\"polite\">{n} finding{} shown</p>\n",
        counts
            .rules
            .iter()
            .map(|(id, slug)| format!(r#"<option value="{}">{} {}</option>"#, escape(id), escape(id), escape(slug)))
            .collect::<String>(),
        Severity::ALL
            .iter()
            .map(|s| format!(r#"<option value="{s}">{s}</option>"#, s = s.as_str()))
            .collect::<String>(),
        counts
            .accounts
            .iter()
            .map(|a| format!(r#"<option value="{a}">{a}</option>"#, a = escape(a)))
            .collect::<String>(),
        plural(n),
    );
    out.push_str(
        "<table id=\"findings-table\" class=\"findings\"><thead><tr><th>severity</th><th>rule</th>\
         <th>account</th><th>resource</th><th>message</th><th>status</th></tr></thead><tbody>\n",
    );
}

fn rows(out: &mut String, findings: &[Finding]) {
    for f in findings {
        finding_row(out, f);
    }
}

fn findings_below_rows(out: &mut String, counts: &Counts) {
    out.push_str("</tbody></table>\n");
    if counts.findings == 0 {
        out.push_str("<p class=\"none\">No findings.</p>\n");
    }
    out.push_str("</section>\n");
}

fn finding_row(out: &mut String, f: &Finding) {
    let status = if f.suppressed { "suppressed" } else { "open" };
    let account = match &f.account_alias {
        Some(alias) => format!(
            "{}<br><small>{}</small>",
            escape(&f.account_id),
            escape(alias)
        ),
        None => escape(&f.account_id),
    };
    let exception = f
        .exception
        .as_ref()
        .map(|e| {
            format!(
                "<br><small>exception ({}) until {}, owner {}: {}</small>",
                e.status,
                e.expires,
                escape(&e.owner),
                escape(&e.reason)
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        r##"<tr class="{status}" data-rule="{rule}" data-severity="{sev}" data-account="{acct}" data-status="{status}"><td><span class="badge sev-{sev}">{sev}</span></td><td><a href="#rule-{rule}"><b>{rule}</b></a><br><small>{slug}</small></td><td>{account}</td><td><code>{resource}</code></td><td>{message}</td><td>{status}{exception}</td></tr>"##,
        rule = escape(&f.rule_id),
        sev = f.severity.as_str(),
        acct = escape(&f.account_id),
        slug = escape(&f.slug),
        resource = escape(&f.resource.id),
        message = escape(&f.message),
    );
}

/// Each rule once, with what to do about its findings (rows link here rather than repeat it).
fn rules(out: &mut String, report: &Report, counts: &Counts) {
    let ev = report.evaluation;
    out.push_str(
        "<section id=\"rules\">\n<h2>Rules and remediation</h2>\n<table class=\"rules\"><thead><tr>\
         <th>rule</th><th>severity</th><th class=\"num\">open</th><th>what to do</th></tr></thead><tbody>\n",
    );
    for rule in &ev.rules {
        let open = counts
            .open_by_rule
            .get(rule.id.as_str())
            .copied()
            .unwrap_or(0);
        let _ = writeln!(
            out,
            r#"<tr id="rule-{id}"><td><b>{id}</b> {slug}<br><small>{title}</small></td><td><span class="badge sev-{sev}">{sev}</span></td><td class="num">{}</td><td>{}</td></tr>"#,
            zero_dim(open),
            escape(
                rule.remediation
                    .as_deref()
                    .unwrap_or("See the finding's message.")
            ),
            id = escape(&rule.id),
            slug = escape(&rule.slug),
            title = escape(&rule.title),
            sev = rule.severity.as_str(),
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}

fn exceptions(out: &mut String, report: &Report) {
    let list = &report.evaluation.exceptions;
    out.push_str("<section id=\"exceptions\">\n<h2>Exceptions</h2>\n");
    if list.is_empty() {
        out.push_str("<p class=\"none\">No exceptions are configured.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table class=\"exceptions\"><thead><tr><th>rule</th><th>resource</th><th>owner</th>\
         <th>reason</th><th>expires</th><th>status</th><th class=\"num\">matched</th></tr></thead><tbody>\n",
    );
    for e in list {
        let _ = writeln!(
            out,
            r#"<tr class="exc-{status}"><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{status}</td><td class="num">{}</td></tr>"#,
            escape(&e.exception.rule),
            escape(&e.exception.resource),
            escape(&e.exception.owner),
            escape(&e.exception.reason),
            e.exception.expires,
            e.matched,
            status = e.status,
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}

/// Text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn zero_dim(n: usize) -> String {
    if n == 0 {
        r#"<span class="zero">0</span>"#.to_string()
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<img src=x onerror="a('b')">&"#),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;"
        );
    }
}
