//! Control results: each framework control, the rules that evidence it, pass or fail.
//!
//! A control fails when one of its rules has an open (unsuppressed) finding; it passes when
//! its rules ran and found nothing open, and the resources they examined are counted as the
//! evidence. A control whose every rule is disabled is `not-evaluated`, never a silent pass.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::evaluate::{Evaluation, RuleMetadata};
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
    let mut mapped: BTreeMap<(&str, &str), Vec<&RuleMetadata>> = BTreeMap::new();
    for rule in &evaluation.rules {
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
                &fw.id, &fw.name, id, title, &rules, evaluation, &counts,
            ));
        }
    }
    for ((framework, id), rules) in mapped {
        let name = catalogue
            .iter()
            .find(|f| f.id == framework)
            .map_or(framework, |f| f.name.as_str());
        results.push(result(framework, name, id, "", &rules, evaluation, &counts));
    }
    results
}

fn result(
    framework: &str,
    framework_name: &str,
    control_id: &str,
    title: &str,
    rules: &[&RuleMetadata],
    evaluation: &Evaluation,
    counts: &ResourceCounts,
) -> ControlResult {
    let ids: BTreeSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let findings = evaluation
        .findings
        .iter()
        .filter(|f| ids.contains(f.rule_id.as_str()));
    let mut failing = BTreeSet::new();
    let mut suppressed = 0;
    for f in findings {
        if f.suppressed {
            suppressed += 1;
        } else {
            failing.insert((&f.account_id, &f.resource.kind, &f.resource.id));
        }
    }
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
    } else if failing.is_empty() {
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
        failing_resources: failing.len(),
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
