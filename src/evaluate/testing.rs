//! `credwarden policy test`: run the `test_*` rules of Rego test files, like `opa test`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::{Evaluator, PolicyError, PolicySet};

/// One test rule.
#[derive(Debug, Clone)]
pub struct TestCase {
    pub file: String,
    pub line: u32,
    /// `data.<package>.<name>`.
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct TestResult {
    pub case: TestCase,
    pub outcome: Outcome,
    pub duration: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    /// The rule was false or undefined.
    Fail,
    /// Evaluating it raised an error.
    Error(String),
}

/// Every `test_*` rule defined at the start of a line of a test file, in file order.
pub fn discover(policies: &PolicySet) -> Vec<TestCase> {
    let mut cases: Vec<TestCase> = Vec::new();
    for file in policies.files.iter().filter(|f| f.is_test) {
        for (n, line) in file.source.lines().enumerate() {
            let Some(name) = test_name(line) else {
                continue;
            };
            let path = format!("{}.{name}", file.package);
            if !cases.iter().any(|c| c.path == path) {
                cases.push(TestCase {
                    file: file.path.clone(),
                    line: n as u32 + 1,
                    path,
                });
            }
        }
    }
    cases
}

fn test_name(line: &str) -> Option<&str> {
    if !line.starts_with("test_") {
        return None;
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    Some(&line[..end])
}

/// Which lines of one policy file the tests evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCoverage {
    pub file: String,
    pub covered: BTreeSet<u32>,
    pub not_covered: BTreeSet<u32>,
}

impl FileCoverage {
    /// No test reached any rule of the file (the engine then knows none of its lines).
    pub fn not_evaluated(&self) -> bool {
        self.covered.is_empty() && self.not_covered.is_empty()
    }

    /// Covered lines as a percentage of the lines that can be covered (0 when not evaluated).
    pub fn percent(&self) -> f64 {
        let total = self.covered.len() + self.not_covered.len();
        if total == 0 {
            0.0
        } else {
            self.covered.len() as f64 * 100.0 / total as f64
        }
    }

    /// The uncovered lines as ranges: `12-14, 20`.
    pub fn uncovered_ranges(&self) -> String {
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        for &line in &self.not_covered {
            match ranges.last_mut() {
                Some((_, end)) if *end + 1 == line => *end = line,
                _ => ranges.push((line, line)),
            }
        }
        ranges
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Test results, and the coverage of the policy files when it was asked for.
#[derive(Debug, Clone)]
pub struct TestRun {
    pub results: Vec<TestResult>,
    /// Policy files (not test files), in load order.
    pub coverage: Option<Vec<FileCoverage>>,
}

/// Run the tests whose `data.<package>.<name>` path matches `filter` (all when `None`);
/// with `coverage`, record which lines of the policy files they evaluated.
pub fn run(
    policies: PolicySet,
    filter: Option<&regex::Regex>,
    coverage: bool,
) -> Result<TestRun, PolicyError> {
    let cases: Vec<TestCase> = discover(&policies)
        .into_iter()
        .filter(|c| filter.is_none_or(|f| f.is_match(&c.path)))
        .collect();
    // Coverage of the files under test: the user's own when there are any (the bundled library
    // loaded beside them is not theirs to cover), else the bundled suite.
    let own = policies.files.iter().any(|f| !f.bundled);
    let policy_files: Vec<String> = policies
        .files
        .iter()
        .filter(|f| !f.is_test && (!own || !f.bundled))
        .map(|f| f.path.clone())
        .collect();
    let mut evaluator = Evaluator::new(policies)?;
    let engine = evaluator.engine_mut();
    engine.set_enable_coverage(coverage);
    let mut results = Vec::with_capacity(cases.len());
    for case in cases {
        let start = Instant::now();
        let outcome = match engine.eval_rule(case.path.clone()) {
            Ok(regorus::Value::Bool(true)) => Outcome::Pass,
            Ok(_) => Outcome::Fail,
            Err(e) => Outcome::Error(match PolicyError::from_rego(&e, &case.file) {
                PolicyError::Rego { location, message } => format!("{location}: {message}"),
                other => other.to_string(),
            }),
        };
        results.push(TestResult {
            case,
            outcome,
            duration: start.elapsed(),
        });
    }
    let coverage = if coverage {
        let report = engine
            .get_coverage_report()
            .map_err(|e| PolicyError::Eval(format!("coverage: {e}")))?;
        Some(
            policy_files
                .iter()
                .map(|path| {
                    let file = report.files.iter().find(|f| &f.path == path);
                    FileCoverage {
                        file: path.clone(),
                        covered: file.map(|f| f.covered.clone()).unwrap_or_default(),
                        not_covered: file.map(|f| f.not_covered.clone()).unwrap_or_default(),
                    }
                })
                .collect(),
        )
    } else {
        None
    };
    Ok(TestRun { results, coverage })
}
