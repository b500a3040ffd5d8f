//! `credwarden policy test`: run the `test_*` rules of Rego test files, like `opa test`.

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

/// Run the tests whose path matches `filter` (a substring; all when `None`).
pub fn run(policies: PolicySet, filter: Option<&str>) -> Result<Vec<TestResult>, PolicyError> {
    let cases: Vec<TestCase> = discover(&policies)
        .into_iter()
        .filter(|c| filter.is_none_or(|f| c.path.contains(f)))
        .collect();
    let mut evaluator = Evaluator::new(policies)?;
    let engine = evaluator.engine_mut();
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
    Ok(results)
}
