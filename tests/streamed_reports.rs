//! The reports `scan` writes as the evaluation streams (text in every grouping, CSV) or keeps only
//! part of (Markdown) are, byte for byte, those rendered from the whole evaluation — coloured or
//! not, masked or not (and so is every file of the evidence bundle), with suppressed findings, expired and unused exceptions, many accounts,
//! and no findings at all.

mod common;

use std::path::Path;

use credwarden::config::Config;
use credwarden::evaluate::{Context, Evaluation, Evaluator, PolicySet};
use credwarden::evidence::bundle::{self, StreamedRun};
use credwarden::evidence::Sources;
use credwarden::report::redact::redact;
use credwarden::report::text::{GroupBy, TextOptions};
use credwarden::report::{csv, html, kept, markdown, text, Report};
use credwarden::snapshot::load::load_snapshot;
use credwarden::snapshot::LoadedSnapshot;

struct Case {
    name: String,
    input: LoadedSnapshot,
    ctx: Context,
}

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-11-21T00:00:00Z".parse().unwrap()
}

/// The demo with the example config (exceptions: active, expired, unused), synthetic snapshots
/// of several accounts and seeds, and a run in which every rule is disabled.
fn cases(dir: &Path) -> Vec<Case> {
    let demo = || load_snapshot(Path::new("fixtures/demo/snapshot.json")).unwrap();
    let example = Config::load(Some(Path::new("fixtures/config/example.yaml"))).unwrap();
    let mut cases = vec![Case {
        name: "demo, example config".into(),
        input: demo(),
        ctx: Context {
            now: now(),
            config: example,
        },
    }];
    for (seed, accounts, users) in [(1, 3, 300), (2, 7, 500), (3, 1, 200)] {
        let path = common::write_synthetic(dir, seed, accounts, users);
        cases.push(Case {
            name: format!("synthetic seed {seed}, {accounts} accounts, {users} users"),
            input: load_snapshot(&path).unwrap(),
            ctx: Context {
                now: now(),
                config: Config::default(),
            },
        });
    }
    let mut silent = Config::default();
    silent.rules.disable = PolicySet::load(&[])
        .unwrap()
        .rules
        .iter()
        .map(|r| r.id.clone())
        .collect();
    cases.push(Case {
        name: "demo, every rule disabled".into(),
        input: demo(),
        ctx: Context {
            now: now(),
            config: silent,
        },
    });
    cases
}

fn report<'a>(evaluation: &'a Evaluation, input: &'a LoadedSnapshot) -> Report<'a> {
    Report {
        evaluation,
        input,
        config_path: None,
        policy_dirs: vec![],
    }
}

fn masked(text: String, mask: bool) -> String {
    if mask {
        redact(&text)
    } else {
        text
    }
}

#[test]
fn streamed_and_kept_reports_equal_the_whole_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut evaluator = Evaluator::new(PolicySet::load(&[]).unwrap()).unwrap();
    for case in cases(dir.path()) {
        let (input, ctx, name) = (&case.input, &case.ctx, &case.name);
        let whole = evaluator.evaluate(&input.snapshot, ctx).unwrap();
        let mut stream = || evaluator.stream(&input.snapshot, ctx).unwrap();
        if name.contains("every rule disabled") {
            assert_eq!(whole.tally.open() + whole.tally.suppressed(), 0);
        } else {
            assert!(whole.tally.open() > 0, "{name}: no findings to compare");
        }
        let groupings = [GroupBy::Rule, GroupBy::User, GroupBy::Account];
        for (group_by, color, mask) in groupings.into_iter().flat_map(|g| {
            [(false, false), (true, false), (false, true), (true, true)].map(|(c, m)| (g, c, m))
        }) {
            let opts = TextOptions { group_by, color };
            let expected = text::render(&report(&whole, input), opts);
            let mut streamed = Vec::new();
            let evaluation = text::write_streamed(stream(), input, opts, mask, &mut streamed)
                .expect("writing to memory");
            assert_eq!(evaluation.tally, whole.tally, "{name}");
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                masked(expected, mask),
                "{name}: text by {group_by:?}, color {color}, redact {mask}"
            );
        }
        for mask in [false, true] {
            let expected = csv::render(&report(&whole, input));
            let mut streamed = Vec::new();
            csv::write_streamed(stream(), mask, &mut streamed).expect("writing to memory");
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                masked(expected, mask),
                "{name}: csv, redact {mask}"
            );
        }
        for mask in [false, true] {
            let expected = masked(html::render(&report(&whole, input)), mask);
            let mut streamed = Vec::new();
            let evaluation = html::write_streamed(stream(), input, mask, &mut streamed)
                .expect("writing to memory");
            assert_eq!(evaluation.tally, whole.tally, "{name}");
            assert!(
                String::from_utf8(streamed).unwrap() == expected,
                "{name}: html, redact {mask}"
            );
        }
        let kept = kept::evaluate_kept(stream(), markdown::KEPT);
        assert_eq!(
            markdown::render(&report(&kept, input)),
            markdown::render(&report(&whole, input)),
            "{name}: markdown"
        );
    }
}

/// `evidence export` writes every file of its bundle in one streamed pass: the same bytes as
/// the bundle of the whole evaluation, masked or not.
#[test]
fn the_streamed_evidence_bundle_equals_the_whole_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut evaluator = Evaluator::new(PolicySet::load(&[]).unwrap()).unwrap();
    let config = std::fs::read("fixtures/config/example.yaml").unwrap();
    for case in cases(dir.path()) {
        let (input, ctx, name) = (&case.input, &case.ctx, &case.name);
        let whole = evaluator.evaluate(&input.snapshot, ctx).unwrap();
        for redact in [false, true] {
            let sources = Sources {
                input: None,
                config: Some(&config),
                redact,
            };
            let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            let whole_report = Report {
                config_path: Some("fixtures/config/example.yaml".into()),
                ..report(&whole, input)
            };
            let expected = bundle::write_files(&whole_report, &sources, a.path()).unwrap();
            let run = StreamedRun {
                input,
                config_path: Some("fixtures/config/example.yaml".into()),
                policy_dirs: vec![],
            };
            let stream = evaluator.stream(&input.snapshot, ctx).unwrap();
            let (written, evaluation) =
                bundle::write_files_streamed(stream, &run, &sources, b.path()).unwrap();
            assert_eq!(evaluation.tally, whole.tally, "{name}");
            assert!(evaluation.findings.is_empty(), "{name}");
            assert_eq!(written.files, expected.files, "{name}, redact {redact}");
            let listed = |dir: &Path| {
                let mut names: Vec<String> = std::fs::read_dir(dir)
                    .unwrap()
                    .map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect();
                names.sort();
                names
            };
            assert_eq!(
                listed(b.path()),
                listed(a.path()),
                "{name}: no scratch file left"
            );
            for file in &written.files {
                let read = |dir: &Path| std::fs::read(dir.join(&file.path)).unwrap();
                assert!(
                    read(a.path()) == read(b.path()),
                    "{name}, redact {redact}: {} differs",
                    file.path
                );
            }
        }
    }
}

/// The comparison above means something only if masking changes the reports it compares.
#[test]
fn the_demo_reports_hold_access_key_ids_to_mask() {
    let input = load_snapshot(Path::new("fixtures/demo/snapshot.json")).unwrap();
    let ctx = Context {
        now: now(),
        config: Config::default(),
    };
    let mut evaluator = Evaluator::new(PolicySet::load(&[]).unwrap()).unwrap();
    let mut text = Vec::new();
    text::write_streamed(
        evaluator.stream(&input.snapshot, &ctx).unwrap(),
        &input,
        TextOptions::default(),
        false,
        &mut text,
    )
    .unwrap();
    let text = String::from_utf8(text).unwrap();
    assert_ne!(redact(&text), text);
    assert!(redact(&text).contains("AKIA************"));
}
