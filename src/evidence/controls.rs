//! Control results: each framework control, the rules that evidence it, pass or fail.
//!
//! A control fails when one of its rules has an open (unsuppressed) finding; it passes when
//! its rules ran and found nothing open, and the resources they examined are counted as the
//! evidence. A control whose every rule is disabled is `not-evaluated`, never a silent pass.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::evaluate::finding::Text;
use crate::evaluate::{Evaluation, Finding, RuleMetadata};
use crate::snapshot::Snapshot;

const CATALOGUE: &str = include_str!("frameworks.yaml");

/// A framework and the titles of its controls, in the framework's own order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub id: String,
    pub name: String,
    pub controls: Vec<(String, String)>,
}

/// The built-in catalogue (`src/evidence/frameworks.yaml`).
pub fn catalogue() -> Vec<Framework> {
    yaml_serde::from_str(CATALOGUE).expect("the built-in framework catalogue is valid YAML")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    NotEvaluated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotEvaluated => "not-evaluated",
        }
    }
}

/// One control's result.
#[derive(Debug, Clone, Serialize)]
pub struct ControlResult {
    pub framework: String,
    pub framework_name: String,
    pub control_id: String,
    pub title: String,
    /// The enabled rules that evidence it.
    pub rules: Vec<String>,
    pub status: Status,
    /// Distinct resources with an open finding of one of the rules.
    pub failing_resources: usize,
    /// Findings of the rules suppressed by an exception in force.
    pub suppressed_findings: usize,
    /// Resources the rules examined (`None` when a rule's resource type is unknown).
    pub evaluated_resources: Option<usize>,
    /// What was examined, in words: `19 aws_iam_access_key, 26 aws_iam_user`.
    pub evidence: String,
}

/// Every control of every framework the rules map to: the catalogue's controls in its order,
/// then controls only custom rules name (framework and control ids sorted).
pub fn evaluate(evaluation: &Evaluation, snapshot: &Snapshot) -> Vec<ControlResult> {
    evaluate_counted(
        &evaluation.rules,
        RuleFindings::of(&evaluation.findings),
        snapshot,
    )
}

/// [`evaluate`] from the findings counted section by section as an evaluation streamed.
pub fn evaluate_counted(
    rules: &[RuleMetadata],
    mut by_rule: RuleFindings,
    snapshot: &Snapshot,
) -> Vec<ControlResult> {
    by_rule.settle();
    let mut mapped: BTreeMap<(&str, &str), Vec<&RuleMetadata>> = BTreeMap::new();
    for rule in rules {
        for (framework, ids) in &rule.controls {
            for id in ids {
                mapped.entry((framework, id)).or_default().push(rule);
            }
        }
    }
    let counts = ResourceCounts::of(snapshot);
    let catalogue = catalogue();
    let mut results = Vec::new();
    for fw in &catalogue {
        for (id, title) in &fw.controls {
            let rules = mapped
                .remove(&(fw.id.as_str(), id.as_str()))
                .unwrap_or_default();
            results.push(result(
                &fw.id, &fw.name, id, title, &rules, &by_rule, &counts,
            ));
        }
    }
    for ((framework, id), rules) in mapped {
        let name = catalogue
            .iter()
            .find(|f| f.id == framework)
            .map_or(framework, |f| f.name.as_str());
        results.push(result(framework, name, id, "", &rules, &by_rule, &counts));
    }
    results
}

/// A resource, as a control counts it: account, type and id.
type ResourceKey = (Text, Text, String);

/// What the controls need of each rule's findings, counted section by section (a section holds
/// one rule's findings) and added up: the distinct resources of its open findings, and how many
/// of its findings an exception suppressed. The findings themselves are not kept: at 100,000
/// users, half a million of them.
#[derive(Debug, Default)]
pub struct RuleFindings {
    failing: HashMap<Text, Vec<ResourceKey>>,
    suppressed: HashMap<Text, usize>,
}

impl RuleFindings {
    /// Count some findings (a section, or a whole evaluation's).
    pub fn of(findings: &[Finding]) -> RuleFindings {
        let mut counted = RuleFindings::default();
        for f in findings {
            if f.suppressed {
                *counted.suppressed.entry(f.rule_id.clone()).or_default() += 1;
            } else {
                let key = (
                    f.account_id.clone(),
                    f.resource.kind.clone(),
                    f.resource.id.clone(),
                );
                match counted.failing.get_mut(&f.rule_id) {
                    Some(resources) => resources.push(key),
                    None => {
                        counted.failing.insert(f.rule_id.clone(), vec![key]);
                    }
                }
            }
        }
        counted.settle();
        counted
    }

    /// Add what another count holds.
    pub fn add(&mut self, other: RuleFindings) {
        for (rule, resources) in other.failing {
            self.failing.entry(rule).or_default().extend(resources);
        }
        for (rule, n) in other.suppressed {
            *self.suppressed.entry(rule).or_default() += n;
        }
    }

    /// Each rule's resources sorted, each once.
    fn settle(&mut self) {
        for resources in self.failing.values_mut() {
            resources.sort_unstable();
            resources.dedup();
        }
    }

    /// The distinct resources with an open finding of any of `rules`.
    fn failing_resources(&self, rules: &BTreeSet<&str>) -> usize {
        let mut of_rules = rules.iter().filter_map(|id| self.failing.get(*id));
        match (of_rules.next(), of_rules.next()) {
            (None, _) => 0,
            (Some(only), None) => only.len(),
            (Some(first), Some(second)) => {
                let mut all: Vec<&ResourceKey> = first.iter().chain(second).collect();
                all.extend(of_rules.flatten());
                all.sort_unstable();
                all.dedup();
                all.len()
            }
        }
    }

    fn suppressed(&self, rule: &str) -> usize {
        self.suppressed.get(rule).copied().unwrap_or(0)
    }
}

fn result(
    framework: &str,
    framework_name: &str,
    control_id: &str,
    title: &str,
    rules: &[&RuleMetadata],
    by_rule: &RuleFindings,
    counts: &ResourceCounts,
) -> ControlResult {
    let ids: BTreeSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let failing = by_rule.failing_resources(&ids);
    let suppressed: usize = ids.iter().map(|id| by_rule.suppressed(id)).sum();
    let types: BTreeSet<Option<&str>> = rules.iter().map(|r| r.resource_type.as_deref()).collect();
    let examined: Vec<(String, Option<usize>)> = types
        .iter()
        .map(|t| match t {
            Some(t) => (t.to_string(), counts.of_type(t)),
            None => ("resources of an undeclared type".to_string(), None),
        })
        .collect();
    let evaluated_resources = if rules.is_empty() {
        None
    } else {
        examined.iter().map(|(_, n)| *n).sum::<Option<usize>>()
    };
    let evidence = if rules.is_empty() {
        "no enabled rule evidences this control (disabled by the config)".to_string()
    } else {
        examined
            .iter()
            .map(|(t, n)| match n {
                Some(n) => format!("{n} {t}"),
                None => format!("{t} (not counted)"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let status = if rules.is_empty() {
        Status::NotEvaluated
    } else if failing == 0 {
        Status::Pass
    } else {
        Status::Fail
    };
    ControlResult {
        framework: framework.to_string(),
        framework_name: framework_name.to_string(),
        control_id: control_id.to_string(),
        title: title.to_string(),
        rules: ids.iter().map(|s| s.to_string()).collect(),
        status,
        failing_resources: failing,
        suppressed_findings: suppressed,
        evaluated_resources,
        evidence,
    }
}

/// How many resources of each type the snapshot holds (collected accounts only, except
/// `aws_account`, which counts every account, collected or not).
#[derive(Debug, Default)]
struct ResourceCounts {
    accounts: usize,
    users: usize,
    keys: usize,
    roots: usize,
    reports: usize,
}

impl ResourceCounts {
    fn of(snapshot: &Snapshot) -> ResourceCounts {
        let collected = || snapshot.accounts.iter().filter(|a| a.error.is_none());
        ResourceCounts {
            accounts: snapshot.accounts.len(),
            users: collected().map(|a| a.users.len()).sum(),
            keys: collected()
                .flat_map(|a| &a.users)
                .map(|u| u.access_keys.len())
                .sum(),
            roots: collected().filter(|a| a.root.is_some()).count(),
            reports: collected()
                .filter(|a| a.credential_report.is_some())
                .count(),
        }
    }

    fn of_type(&self, resource_type: &str) -> Option<usize> {
        Some(match resource_type {
            "aws_account" => self.accounts,
            "aws_iam_user" => self.users,
            "aws_iam_access_key" => self.keys,
            "aws_root_user" => self.roots,
            "aws_credential_report" => self.reports,
            _ => return None,
        })
    }
}

/// The controls as CSV: one row per control, a header first.
pub fn csv(results: &[ControlResult]) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "framework",
        "framework_name",
        "control_id",
        "title",
        "rules",
        "status",
        "failing_resources",
        "suppressed_findings",
        "evaluated_resources",
        "evidence",
    ]);
    for r in results {
        let _ = w.write_record([
            r.framework.as_str(),
            &r.framework_name,
            &r.control_id,
            &r.title,
            &r.rules.join(" "),
            r.status.as_str(),
            &r.failing_resources.to_string(),
            &r.suppressed_findings.to_string(),
            &r.evaluated_resources
                .map_or(String::new(), |n| n.to_string()),
            &r.evidence,
        ]);
    }
    String::from_utf8(w.into_inner().expect("writing to memory cannot fail"))
        .expect("CSV of UTF-8 strings is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Failing resources and suppressed findings, counted per rule once and merged per control,
    /// are what a pass over every finding per control counts — on controls of one rule and of
    /// several, with suppressed findings and overlapping resources.
    #[test]
    fn counts_per_rule_merged_equal_a_pass_per_control() {
        use crate::evaluate::{Context, Evaluator, PolicySet};
        let demo = std::path::Path::new("fixtures/demo/snapshot.json");
        let input = crate::snapshot::load::load_snapshot(demo).unwrap();
        let example = std::path::Path::new("fixtures/config/example.yaml");
        let ctx = Context {
            now: "2026-11-21T00:00:00Z".parse().unwrap(),
            config: crate::config::Config::load(Some(example)).unwrap(),
        };
        let evaluation = Evaluator::new(PolicySet::load(&[]).unwrap())
            .unwrap()
            .evaluate(&input.snapshot, &ctx)
            .unwrap();
        let results = evaluate(&evaluation, &input.snapshot);
        let (mut several, mut suppressed, mut failing) = (0, 0, 0);
        for r in &results {
            let of_rules = || {
                evaluation
                    .findings
                    .iter()
                    .filter(|f| r.rules.iter().any(|id| *id == *f.rule_id))
            };
            let open: BTreeSet<_> = of_rules()
                .filter(|f| !f.suppressed)
                .map(|f| (&f.account_id, &f.resource.kind, &f.resource.id))
                .collect();
            let held = of_rules().filter(|f| f.suppressed).count();
            assert_eq!(r.failing_resources, open.len(), "{r:?}");
            assert_eq!(r.suppressed_findings, held, "{r:?}");
            several += usize::from(r.rules.len() > 1 && r.failing_resources > 0);
            suppressed += r.suppressed_findings;
            failing += r.failing_resources;
        }
        assert!(several > 0 && suppressed > 0 && failing > 0);
    }

    #[test]
    fn the_catalogue_covers_every_framework_credwarden_knows() {
        let ids: Vec<String> = catalogue().into_iter().map(|f| f.id).collect();
        assert_eq!(ids, crate::evaluate::metadata::KNOWN_FRAMEWORKS);
    }

    /// An auditor reads titles from the catalogue: no bundled mapping may lack one.
    #[test]
    fn every_control_a_bundled_rule_names_is_in_the_catalogue() {
        let catalogue = catalogue();
        let set = crate::evaluate::PolicySet::load(&[]).unwrap();
        for rule in &set.rules {
            for (framework, ids) in &rule.controls {
                let fw = catalogue.iter().find(|f| &f.id == framework).unwrap();
                for id in ids {
                    assert!(
                        fw.controls.iter().any(|(c, _)| c == id),
                        "{} maps {framework} {id}, which the catalogue lacks",
                        rule.id
                    );
                }
            }
            assert!(
                rule.resource_type.is_some(),
                "{} declares resource_type",
                rule.id
            );
        }
    }

    #[test]
    fn control_ids_are_unique_within_a_framework() {
        for fw in catalogue() {
            let ids: BTreeSet<&str> = fw.controls.iter().map(|(id, _)| id.as_str()).collect();
            assert_eq!(ids.len(), fw.controls.len(), "{}", fw.id);
            assert!(fw.controls.iter().all(|(_, t)| !t.is_empty()), "{}", fw.id);
        }
    }
}
