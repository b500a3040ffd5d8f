//! Every saved fuzz input (`fixtures/fuzz/<target>/`, crashes found by `scripts/fuzz` and the
//! seeds they started from) goes through the same entry point as its fuzz target: none may
//! panic. Also checks that the entry points parse the seeds for real (a target that rejects
//! everything would fuzz nothing).

mod common;

use common::repo;

#[test]
fn saved_fuzz_inputs_do_not_panic() {
    let mut ran = 0;
    for (target, run) in credwarden::fuzzing::TARGETS {
        let dir = repo(&format!("fixtures/fuzz/{target}"));
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            run(&data);
            ran += 1;
        }
    }
    assert!(ran >= 6, "every target has saved inputs ({ran})");
}

#[test]
fn the_seeds_parse() {
    let now = "2026-11-21T00:00:00Z".parse().unwrap();
    let journal = std::fs::read_to_string(repo("fixtures/fuzz/journal/resumed-run.jsonl")).unwrap();
    let records =
        credwarden::remediate::journal::parse(&journal, std::path::Path::new("j.jsonl")).unwrap();
    assert_eq!(records.len(), 5, "the torn last line is ignored");
    let plan = std::fs::read_to_string(repo("fixtures/fuzz/plan/demo-plan.json")).unwrap();
    let plan =
        credwarden::remediate::plan::parse_plan(&plan, "plan.json", now, 24 * 365 * 100).unwrap();
    assert!(!plan.actions.is_empty());
}
