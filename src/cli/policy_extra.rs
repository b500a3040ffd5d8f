//! `credwarden policy list | check | doc`

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use credwarden::config::Config;
use credwarden::evaluate::{docs, Context, Evaluator, PolicySet};
use credwarden::snapshot::load::parse_snapshot;
use credwarden::{output, Error};

/// The demo snapshot, built in: `policy check` runs custom rules over it, `policy doc` takes
/// its example findings from it.
const DEMO: &str = include_str!("../../fixtures/demo/snapshot.json");
const DEMO_TIME: &str = "2026-11-21T00:00:00Z";

fn demo_time() -> DateTime<Utc> {
    DEMO_TIME.parse().expect("a valid time")
}

/// `policy list`: every rule, bundled and custom.
pub fn list(dirs: &[PathBuf], json: bool) -> Result<u8, Error> {
    let set = PolicySet::load(dirs)?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&set.rules).expect("rules serialise")
        );
        return Ok(0);
    }
    outln!(
        "{:<7} {:<32} {:<9} {:<14} SOURCE",
        "ID",
        "SLUG",
        "SEVERITY",
        "FRAMEWORKS"
    );
    for r in &set.rules {
        outln!(
            "{:<7} {:<32} {:<9} {:<14} {}",
            r.id,
            r.slug,
            r.severity.as_str(),
            frameworks(r),
            r.file
        );
    }
    Ok(0)
}

/// `CIS NIST ISO` and any framework of an organisation's own, short enough for a column.
fn frameworks(rule: &credwarden::evaluate::RuleMetadata) -> String {
    let mut names: Vec<String> = Vec::new();
    for key in rule.controls.keys() {
        let name = if key.starts_with("cis-") {
            "CIS".to_string()
        } else if key.starts_with("nist-") {
            "NIST".to_string()
        } else if key.starts_with("iso-") {
            "ISO".to_string()
        } else {
            key.clone()
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        "-".into()
    } else {
        names.join(" ")
    }
}

/// The policies evaluated over the built-in demo snapshot, with the default config.
fn evaluate_demo(set: PolicySet) -> Result<credwarden::evaluate::Evaluation, Error> {
    let snapshot = parse_snapshot(DEMO, "the built-in demo snapshot")?;
    let ctx = Context {
        now: demo_time(),
        config: Config::default(),
    };
    Ok(Evaluator::new(set)?.evaluate(&snapshot, &ctx)?)
}

/// `policy check`: METADATA, syntax, and the shape of the findings on the demo snapshot.
pub fn check(dirs: &[PathBuf]) -> Result<u8, Error> {
    let set = PolicySet::load(dirs)?;
    let custom: Vec<_> = set.rules.iter().filter(|r| !r.bundled).cloned().collect();
    let evaluation = evaluate_demo(set)?;
    if custom.is_empty() {
        outln!("no custom rules found (a rule needs a # METADATA block with custom.id, slug and severity)");
        return Ok(1);
    }
    for rule in &custom {
        let n = evaluation
            .findings
            .iter()
            .filter(|f| f.rule_id == rule.id)
            .count();
        outln!("ok {} {} ({}:{}): valid METADATA, compiles, {n} well-formed finding(s) on the demo snapshot", rule.id, rule.slug, rule.file, rule.line);
    }
    outln!("{} custom rule(s) checked", custom.len());
    Ok(0)
}

/// `policy doc`: Markdown pages of every rule into `out`.
pub fn doc(dirs: &[PathBuf], out: &Path) -> Result<u8, Error> {
    let set = PolicySet::load(dirs)?;
    let evaluation = evaluate_demo(set)?;
    std::fs::create_dir_all(out).map_err(|e| {
        Error::Usage(format!(
            "{}: cannot create the directory: {e}",
            out.display()
        ))
    })?;
    let pages = docs::pages(&evaluation.rules, &evaluation.findings);
    for (name, content) in &pages {
        output::write_atomic(&out.join(name), content.as_bytes())?;
    }
    outln!("{} page(s) written to {}", pages.len(), out.display());
    Ok(0)
}
