//! The human report: grouped findings that read well on an 80-column terminal.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::evaluate::{Finding, Severity};

use super::{account_summaries, severity_counts, Report};

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
    header(&mut out, report, &paint);
    let shown: Vec<&Finding> = ev.findings.iter().filter(|f| !f.suppressed).collect();
    if shown.is_empty() {
        out.push_str("\nNo findings.\n");
    } else {
        match opts.group_by {
            GroupBy::Rule => by_rule(&mut out, &shown, &paint),
            GroupBy::User => by_key(&mut out, &shown, &paint, user_key),
            GroupBy::Account => by_key(&mut out, &shown, &paint, account_key),
        }
    }
    exceptions(&mut out, report, &paint);
    accounts_table(&mut out, report);
    summary(&mut out, report, &paint);
    out
}

fn header(out: &mut String, report: &Report, paint: &Painter) {
    let snap = &report.input.snapshot;
    let ev = report.evaluation;
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
        report.input_uri()
    );
    let _ = writeln!(
        out,
        "evaluated at {} with {} rules",
        ev.evaluated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ev.rules.len()
    );
    let _ = writeln!(
        out,
        "{} account{}, {users} users, {keys} access keys",
        snap.accounts.len(),
        if snap.accounts.len() == 1 { "" } else { "s" },
    );
}

fn by_rule(out: &mut String, findings: &[&Finding], paint: &Painter) {
    let mut start = 0;
    while start < findings.len() {
        let rule = &findings[start].rule_id;
        let end = start
            + findings[start..]
                .iter()
                .take_while(|f| &f.rule_id == rule)
                .count();
        let group = &findings[start..end];
        let f = group[0];
        let _ = writeln!(
            out,
            "\n{} {} {} ({})",
            paint.severity(f.severity),
            paint.bold(&f.rule_id),
            f.slug,
            group.len()
        );
        wrap_into(out, &f.title, 2, 2);
        for f in group {
            let who = format!("{} {}", account_label(f), resource_label(f));
            wrap_into(out, &format!("- {who}: {}", f.message), 2, 4);
        }
        start = end;
    }
}

fn by_key(out: &mut String, findings: &[&Finding], paint: &Painter, key: fn(&Finding) -> String) {
    let mut groups: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        groups.entry(key(f)).or_default().push(f);
    }
    // Most severe group first, then by name.
    let mut groups: Vec<(String, Vec<&Finding>)> = groups.into_iter().collect();
    groups.sort_by(|a, b| {
        b.1[0]
            .severity
            .cmp(&a.1[0].severity)
            .then_with(|| a.0.cmp(&b.0))
    });
    for (name, group) in groups {
        let _ = writeln!(out, "\n{} ({})", paint.bold(&name), group.len());
        for f in group {
            // Wrap the text after the label's columns, then put the (maybe coloured) label there.
            let line = format!("{} {}: {}", f.rule_id, resource_label(f), f.message);
            let mut wrapped = String::new();
            wrap_into(&mut wrapped, &line, 11, 11);
            let _ = write!(out, "  {} {}", paint.severity(f.severity), &wrapped[11..]);
        }
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

fn exceptions(out: &mut String, report: &Report, paint: &Painter) {
    let ev = report.evaluation;
    let suppressed = ev.findings.iter().filter(|f| f.suppressed).count();
    let notable: Vec<_> = ev
        .exceptions
        .iter()
        .filter(|e| e.status != "active")
        .collect();
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

fn accounts_table(out: &mut String, report: &Report) {
    let ev = report.evaluation;
    let accounts = account_summaries(&report.input.snapshot);
    if accounts.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{:<14}{:<18}{:>6}{:>6}  {:>4} {:>4} {:>4} {:>4} {:>4}",
        "ACCOUNT", "ALIAS", "USERS", "KEYS", "CRIT", "HIGH", "MED", "LOW", "INFO"
    );
    // Open findings by account and severity, counted in one pass (not one per account and
    // severity: at 100,000 users that was 500 passes over half a million findings).
    let mut open: HashMap<&str, [usize; Severity::ALL.len()]> = HashMap::new();
    for f in ev.findings.iter().filter(|f| !f.suppressed) {
        open.entry(f.account_id.as_str()).or_default()[f.severity.rank()] += 1;
    }
    for a in &accounts {
        let count = |s: Severity| open.get(a.account_id).map_or(0, |n| n[s.rank()]);
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

fn summary(out: &mut String, report: &Report, paint: &Painter) {
    let ev = report.evaluation;
    let total: usize = ev.findings.iter().filter(|f| !f.suppressed).count();
    let parts: Vec<String> = severity_counts(ev)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let suppressed = ev.findings.len() - total;
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
