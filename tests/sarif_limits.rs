//! GitHub's upload limits: past them, keep the most severe results and say so.

use credwarden::config::Config;
use credwarden::evaluate::{Context, Evaluator, PolicySet};
use credwarden::report::sarif::{render_with_limits, SarifOptions};
use credwarden::report::Report;
use credwarden::snapshot::load::load_snapshot;

fn severities(text: &str) -> Vec<String> {
    let sarif: serde_json::Value = serde_json::from_str(text).unwrap();
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["severity"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn over_the_limits_the_most_severe_results_are_kept() {
    let input = load_snapshot(std::path::Path::new("fixtures/demo/snapshot.json")).unwrap();
    let ctx = Context {
        now: "2026-11-21T00:00:00Z".parse().unwrap(),
        config: Config::default(),
    };
    let evaluation = Evaluator::new(PolicySet::load(&[]).unwrap())
        .unwrap()
        .evaluate(&input.snapshot, &ctx)
        .unwrap();
    let report = Report {
        evaluation: &evaluation,
        input: &input,
        config_path: None,
        policy_dirs: vec![],
    };
    let opts = SarifOptions::default();

    let full = render_with_limits(&report, &opts, 25_000, 10 << 20);
    assert!(full.warnings.is_empty());
    assert_eq!(severities(&full.text).len(), 52);

    let by_count = render_with_limits(&report, &opts, 5, 10 << 20);
    assert_eq!(
        severities(&by_count.text),
        ["critical", "critical", "high", "high", "high"]
    );
    assert_eq!(by_count.warnings.len(), 1);
    assert!(
        by_count.warnings[0].contains("5 most severe of 52"),
        "{}",
        by_count.warnings[0]
    );
    let sarif: serde_json::Value = serde_json::from_str(&by_count.text).unwrap();
    let note = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert!(note["message"]["text"]
        .as_str()
        .unwrap()
        .contains("GitHub's upload limits"));

    // A gzip budget smaller than the full log: fewer results, still most severe first.
    let by_size = render_with_limits(&report, &opts, 25_000, 12_000);
    let kept = severities(&by_size.text);
    assert!(!kept.is_empty() && kept.len() < 52, "{}", kept.len());
    assert_eq!(kept[0], "critical");
    assert_eq!(by_size.warnings.len(), 1);
}

/// `scan --format sarif` keeps, as the evaluation streams, only what the log can hold; its log
/// is the one made from the whole evaluation, truncated or not, with suppressed findings.
#[test]
fn kept_while_streaming_is_what_the_whole_evaluation_gives() {
    use credwarden::report::kept::evaluate_kept;
    let input = load_snapshot(std::path::Path::new("fixtures/demo/snapshot.json")).unwrap();
    let config = Config::load(Some(std::path::Path::new("fixtures/config/example.yaml"))).unwrap();
    let ctx = Context {
        now: "2026-11-21T00:00:00Z".parse().unwrap(),
        config,
    };
    let mut evaluator = Evaluator::new(PolicySet::load(&[]).unwrap()).unwrap();
    let whole = evaluator.evaluate(&input.snapshot, &ctx).unwrap();
    let suppressed = whole.findings.iter().filter(|f| f.suppressed).count();
    assert!(suppressed > 0, "the example config suppresses findings");
    let opts = SarifOptions::default();
    for max in [1, 5, suppressed + 1, 40, 25_000] {
        let streamed = evaluate_kept(evaluator.stream(&input.snapshot, &ctx).unwrap(), max);
        assert!(streamed.findings.len() <= 2 * max);
        let report = |evaluation| Report {
            evaluation,
            input: &input,
            config_path: None,
            policy_dirs: vec![],
        };
        let a = render_with_limits(&report(&whole), &opts, max, 10 << 20);
        let b = render_with_limits(&report(&streamed), &opts, max, 10 << 20);
        assert_eq!(a.text, b.text, "max {max}");
        assert_eq!(a.warnings, b.warnings, "max {max}");
    }
}
