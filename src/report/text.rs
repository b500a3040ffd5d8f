//! The human report: grouped findings that read well on an 80-column terminal.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;

use chrono::{DateTime, Utc};

use crate::evaluate::finding::Text;
use crate::evaluate::{Evaluation, ExceptionStatus, Finding, FindingStream, Severity, Tally};
use crate::snapshot::{LoadedSnapshot, Snapshot};

use super::{account_summaries, OpenByAccount, Report};

const WIDTH: usize = 80;

/// How findings are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GroupBy {
    #[default]
    Rule,
    User,
    Account,
}

/// Render options.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub group_by: GroupBy,
    pub color: bool,
}

pub fn render(report: &Report, opts: TextOptions) -> String {
    let mut out = String::new();
    let ev = report.evaluation;
    let paint = Painter(opts.color);
    let snapshot = &report.input.snapshot;
    let head = Head {
        input_uri: &report.input_uri(),
        evaluated_at: ev.evaluated_at,
        rules: ev.rules.len(),
    };
    header(&mut out, snapshot, &head, &paint);
    let mut groups = Groups::new(opts.group_by);
    let open_findings = ev.findings.iter().filter(|f| !f.suppressed);
    let lines = Lines::of(opts.group_by, open_findings, &paint);
    let written: io::Result<()> = groups
        .add(lines, &mut out, &paint)
        .and_then(|()| groups.finish(&mut out, &paint));
    written.expect("writing to memory");
    let mut open = OpenByAccount::default();
    open.count(&ev.findings);
    footer(&mut out, snapshot, ev, &open, &paint);
    out
}

/// Write the report as `stream` makes the findings — the same bytes [`render`] makes of that
/// evaluation whole, masked by [`super::redact::redact`] when `redact` — and return the
/// evaluation (without its findings).
///
/// Each section's lines are rendered on the core that made it. Grouped by rule, a rule's lines
/// are held until its last section, when its count is known, then written and dropped; grouped
/// by user or account, every group's lines are held (the text, not the findings) until the end,
/// when the groups can be ordered. At 100,000 users the report is 90 MB of text over half a
/// million findings, which are never held at once.
pub fn write_streamed<W: io::Write + ?Sized>(
    stream: FindingStream,
    input: &LoadedSnapshot,
    opts: TextOptions,
    redact: bool,
    out: &mut W,
) -> io::Result<Evaluation> {
    let paint = Painter(opts.color);
    let out = &mut Emit { out, redact };
    let mut text = String::new();
    let head = Head {
        input_uri: &super::relative_uri(&input.path),
        evaluated_at: stream.evaluated_at(),
        rules: stream.rules().len(),
    };
    header(&mut text, &input.snapshot, &head, &paint);
    out.put(&text)?;
    let mut groups = Groups::new(opts.group_by);
    let mut open = OpenByAccount::default();
    let evaluation = stream.run(
        |section| {
            let mut open = OpenByAccount::default();
            open.count(&section);
            let open_findings = section.iter().filter(|f| !f.suppressed);
            (Lines::of(opts.group_by, open_findings, &paint), open)
        },
        |(lines, section_open)| {
            open.add(section_open);
            groups.add(lines, out, &paint)
        },
    )?;
    groups.finish(out, &paint)?;
    let mut text = String::new();
    footer(&mut text, &input.snapshot, &evaluation, &open, &paint);
    out.put(&text)?;
    Ok(evaluation)
}

/// Where finished text goes, a piece at a time: the whole report's string, or a writer.
trait Out {
    fn put(&mut self, text: &str) -> io::Result<()>;
}

impl Out for String {
    fn put(&mut self, text: &str) -> io::Result<()> {
        self.push_str(text);
        Ok(())
    }
}

/// A writer, masking access key ids when asked ([`super::redact::write_piece`]).
struct Emit<'w, W: ?Sized> {
    out: &'w mut W,
    redact: bool,
}

impl<W: io::Write + ?Sized> Out for Emit<'_, W> {
    fn put(&mut self, text: &str) -> io::Result<()> {
        super::redact::write_piece(self.out, text, self.redact)
    }
}

const NO_FINDINGS: &str = "\nNo findings.\n";

/// What the header says of the run.
struct Head<'a> {
    input_uri: &'a str,
    evaluated_at: DateTime<Utc>,
    rules: usize,
}

fn header(out: &mut String, snap: &Snapshot, head: &Head, paint: &Painter) {
    let users: usize = snap.accounts.iter().map(|a| a.users.len()).sum();
    let keys: usize = snap
        .accounts
        .iter()
        .flat_map(|a| &a.users)
        .map(|u| u.access_keys.len())
        .sum();
    let _ = writeln!(
        out,
        "{} {} · {}",
        paint.bold("credwarden"),
        env!("CARGO_PKG_VERSION"),
        head.input_uri
    );
    let _ = writeln!(
        out,
        "evaluated at {} with {} rules",
        head.evaluated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        head.rules
    );
    let _ = writeln!(
        out,
        "{} account{}, {users} users, {keys} access keys",
        snap.accounts.len(),
        if snap.accounts.len() == 1 { "" } else { "s" },
    );
}

/// What follows the findings: exceptions, the accounts table and the totals.
fn footer(
    out: &mut String,
    snapshot: &Snapshot,
    ev: &Evaluation,
    open: &OpenByAccount,
    paint: &Painter,
) {
    exceptions(out, ev.tally.suppressed(), &ev.exceptions, paint);
    accounts_table(out, snapshot, open);
    summary(out, &ev.tally, paint);
}

/// Open findings rendered as lines, ready to be grouped (a section's, or all of them).
enum Lines {
    Rules(Vec<RuleRun>),
    Keyed(Vec<KeyedLine>),
}

impl Lines {
    fn of<'f>(
        group_by: GroupBy,
        findings: impl Iterator<Item = &'f Finding>,
        paint: &Painter,
    ) -> Lines {
        match group_by {
            GroupBy::Rule => Lines::Rules(rule_runs(findings)),
            GroupBy::User => Lines::Keyed(keyed_lines(findings, user_key, paint)),
            GroupBy::Account => Lines::Keyed(keyed_lines(findings, account_key, paint)),
        }
    }
}

/// The findings' groups as their lines come, in report order.
enum Groups {
    Rule(ByRule),
    Key(ByKey),
}

impl Groups {
    fn new(group_by: GroupBy) -> Groups {
        match group_by {
            GroupBy::Rule => Groups::Rule(ByRule::default()),
            GroupBy::User | GroupBy::Account => Groups::Key(ByKey::default()),
        }
    }

    /// Take the next lines; write to `out` the groups they complete.
    fn add(&mut self, lines: Lines, out: &mut impl Out, paint: &Painter) -> io::Result<()> {
        match (self, lines) {
            (Groups::Rule(groups), Lines::Rules(runs)) => {
                for run in runs {
                    groups.add(run, out, paint)?;
                }
            }
            (Groups::Key(groups), Lines::Keyed(lines)) => groups.add(lines),
            _ => unreachable!("lines are made for the grouping they go to"),
        }
        Ok(())
    }

    /// Write the groups not yet written, or say there are none.
    fn finish(self, out: &mut impl Out, paint: &Painter) -> io::Result<()> {
        let any = match self {
            Groups::Rule(groups) => groups.finish(out, paint)?,
            Groups::Key(groups) => groups.finish(out, paint)?,
        };
        if any {
            Ok(())
        } else {
            out.put(NO_FINDINGS)
        }
    }
}

/// Consecutive open findings of one rule, their lines rendered.
struct RuleRun {
    severity: Severity,
    rule_id: Text,
    slug: Text,
    title: Text,
    count: usize,
    lines: String,
}

/// The runs of consecutive findings of one rule in `findings` (open findings, in report order).
fn rule_runs<'f>(findings: impl Iterator<Item = &'f Finding>) -> Vec<RuleRun> {
    let mut runs: Vec<RuleRun> = Vec::new();
    for f in findings {
        let run = match runs.last_mut() {
            Some(run) if run.rule_id == f.rule_id => run,
            _ => {
                runs.push(RuleRun {
                    severity: f.severity,
                    rule_id: f.rule_id.clone(),
                    slug: f.slug.clone(),
                    title: f.title.clone(),
                    count: 0,
                    lines: String::new(),
                });
                runs.last_mut().expect("just pushed")
            }
        };
        run.count += 1;
        let who = format!("{} {}", account_label(f), resource_label(f));
        wrap_into(&mut run.lines, &format!("- {who}: {}", f.message), 2, 4);
    }
    runs
}

/// Findings grouped by rule as their runs come: a group is written once the next rule starts
/// (or at the end), when its count is known.
#[derive(Default)]
struct ByRule {
    current: Option<RuleRun>,
    any: bool,
}

impl ByRule {
    fn add(&mut self, run: RuleRun, out: &mut impl Out, paint: &Painter) -> io::Result<()> {
        match &mut self.current {
            Some(group) if group.rule_id == run.rule_id => {
                group.count += run.count;
                group.lines.push_str(&run.lines);
            }
            _ => {
                self.any = true;
                if let Some(done) = self.current.replace(run) {
                    write_group(out, &done, paint)?;
                }
            }
        }
        Ok(())
    }

    /// Write the last group; whether there was any.
    fn finish(mut self, out: &mut impl Out, paint: &Painter) -> io::Result<bool> {
        if let Some(done) = self.current.take() {
            write_group(out, &done, paint)?;
        }
        Ok(self.any)
    }
}

fn write_group(out: &mut impl Out, group: &RuleRun, paint: &Painter) -> io::Result<()> {
    let mut heading = String::new();
    let _ = writeln!(
        heading,
        "\n{} {} {} ({})",
        paint.severity(group.severity),
        paint.bold(&group.rule_id),
        group.slug,
        group.count
    );
    wrap_into(&mut heading, &group.title, 2, 2);
    out.put(&heading)?;
    out.put(&group.lines)
}

/// One finding's line in a group of its user's or account's.
struct KeyedLine {
    key: String,
    severity: Severity,
    line: String,
}

fn keyed_lines<'f>(
    findings: impl Iterator<Item = &'f Finding>,
    key: fn(&Finding) -> String,
    paint: &Painter,
) -> Vec<KeyedLine> {
    findings
        .map(|f| {
            // Wrap the text after the label's columns, then put the (maybe coloured) label there.
            let text = format!("{} {}: {}", f.rule_id, resource_label(f), f.message);
            let mut wrapped = String::new();
            wrap_into(&mut wrapped, &text, 11, 11);
            KeyedLine {
                key: key(f),
                severity: f.severity,
                line: format!("  {} {}", paint.severity(f.severity), &wrapped[11..]),
            }
        })
        .collect()
}

/// Findings grouped by user or account: each group's lines are held until the end, then the
/// groups are written most severe first (a group's first finding is its most severe: findings
/// come in report order), then by name.
#[derive(Default)]
struct ByKey(HashMap<String, KeyGroup>);

struct KeyGroup {
    severity: Severity,
    count: usize,
    lines: String,
}

impl ByKey {
    fn add(&mut self, lines: Vec<KeyedLine>) {
        for KeyedLine {
            key,
            severity,
            line,
        } in lines
        {
            let group = self.0.entry(key).or_insert_with(|| KeyGroup {
                severity,
                count: 0,
                lines: String::new(),
            });
            group.count += 1;
            group.lines.push_str(&line);
        }
    }

    /// Write every group, each dropped once written; whether there was any.
    fn finish(self, out: &mut impl Out, paint: &Painter) -> io::Result<bool> {
        let mut groups: Vec<(String, KeyGroup)> = self.0.into_iter().collect();
        groups.sort_by(|a, b| b.1.severity.cmp(&a.1.severity).then_with(|| a.0.cmp(&b.0)));
        let any = !groups.is_empty();
        for (name, group) in groups {
            out.put(&format!("\n{} ({})\n", paint.bold(&name), group.count))?;
            out.put(&group.lines)?;
        }
        Ok(any)
    }
}

fn user_key(f: &Finding) -> String {
    let who = f
        .resource
        .user
        .clone()
        .unwrap_or_else(|| match f.resource.kind.as_str() {
            "aws_iam_user" => f.resource.id.clone(),
            "aws_root_user" => "root".into(),
            _ => "(account)".into(),
        });
    format!("{} {who}", account_label(f))
}

fn account_key(f: &Finding) -> String {
    account_label(f)
}

fn account_label(f: &Finding) -> String {
    match &f.account_alias {
        Some(alias) => format!("{} ({alias})", f.account_id),
        None => f.account_id.to_string(),
    }
}

fn resource_label(f: &Finding) -> String {
    match (&f.resource.user, f.resource.kind.as_str()) {
        (Some(user), _) if user != &f.resource.id => {
            format!("{user}/{}", f.resource.id.rsplit('/').next().unwrap_or(""))
        }
        (_, "aws_account") => "account".into(),
        _ => f.resource.id.clone(),
    }
}

fn exceptions(out: &mut String, suppressed: usize, statuses: &[ExceptionStatus], paint: &Painter) {
    let notable: Vec<_> = statuses.iter().filter(|e| e.status != "active").collect();
    if suppressed == 0 && notable.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", paint.bold("Exceptions"));
    if suppressed > 0 {
        wrap_into(
            out,
            &format!("{suppressed} finding(s) suppressed by exceptions in force (listed in --format json and sarif)."),
            2,
            2,
        );
    }
    for e in notable {
        let what = match e.status {
            "expired" => format!(
                "EXPIRED on {}, no longer suppresses ({} finding(s))",
                e.exception.expires, e.matched
            ),
            _ => format!("matches nothing (expires {})", e.exception.expires),
        };
        let line = format!(
            "- {} {} (owner {}): {what}",
            e.exception.rule, e.exception.resource, e.exception.owner
        );
        wrap_into(out, &line, 2, 4);
    }
}

fn accounts_table(out: &mut String, snapshot: &Snapshot, open: &OpenByAccount) {
    let accounts = account_summaries(snapshot);
    if accounts.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{:<14}{:<18}{:>6}{:>6}  {:>4} {:>4} {:>4} {:>4} {:>4}",
        "ACCOUNT", "ALIAS", "USERS", "KEYS", "CRIT", "HIGH", "MED", "LOW", "INFO"
    );
    for a in &accounts {
        let count = |s: Severity| open.get(a.account_id, s);
        let mut alias: String = a.alias.unwrap_or("-").chars().take(17).collect();
        if a.error.is_some() {
            alias = "NOT COLLECTED".into();
        }
        let _ = writeln!(
            out,
            "{:<14}{:<18}{:>6}{:>6}  {:>4} {:>4} {:>4} {:>4} {:>4}",
            a.account_id,
            alias,
            a.users,
            a.access_keys,
            count(Severity::Critical),
            count(Severity::High),
            count(Severity::Medium),
            count(Severity::Low),
            count(Severity::Info)
        );
    }
}

fn summary(out: &mut String, tally: &Tally, paint: &Painter) {
    let total = tally.open();
    let parts: Vec<String> = tally
        .by_severity()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let suppressed = tally.suppressed();
    let mut line = format!("{total} finding{}", if total == 1 { "" } else { "s" });
    if !parts.is_empty() {
        line.push_str(&format!(" ({})", parts.join(", ")));
    }
    if suppressed > 0 {
        line.push_str(&format!(", {suppressed} suppressed"));
    }
    let _ = writeln!(out, "\n{}", paint.bold(&line));
}

/// Word-wrap `text` to the report width: the first line indented by `first`, the rest by `rest`.
fn wrap_into(out: &mut String, text: &str, first: usize, rest: usize) {
    let mut line = " ".repeat(first);
    let mut empty = true;
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if !empty && len + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = " ".repeat(rest);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
}

/// ANSI styling, only when enabled (a TTY without NO_COLOR, or --color always).
struct Painter(bool);

impl Painter {
    fn bold(&self, s: &str) -> String {
        if self.0 {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn severity(&self, s: Severity) -> String {
        let label = format!("{:<8}", s.as_str().to_uppercase());
        if !self.0 {
            return label;
        }
        let code = match s {
            Severity::Critical => "1;35",
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        format!("\x1b[{code}m{label}\x1b[0m")
    }
}

#[cfg(test)]
mod tests {
    use super::wrap_into;

    #[test]
    fn wraps_at_eighty_columns() {
        let mut out = String::new();
        wrap_into(&mut out, &"word ".repeat(40), 2, 4);
        assert!(out.lines().all(|l| l.chars().count() <= 80));
        assert!(out.lines().nth(1).unwrap().starts_with("    word"));
    }
}
