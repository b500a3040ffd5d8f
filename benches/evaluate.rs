//! End-to-end evaluation benchmark: snapshot file → findings, at several sizes.
//!
//! `cargo bench --bench evaluate` (sizes from `CREDWARDEN_BENCH_SIZES`, default
//! `demo,1000,10000,100000`; `cargo test` runs it at `demo,1000` as a smoke test). Each size runs in a child process so that its peak memory (VmHWM)
//! is its own; synthetic snapshots are generated once (seeded) under `target/bench-data/`.
//! Prints a Markdown table. First what `scan --format json -o FILE` does — load/parse, compile,
//! then evaluate and JSON together (findings streamed into the report file as they are made,
//! written durably) — with its peak RSS and that peak's ratio to the file's size. Then what
//! `scan --format sarif` does: the evaluation streamed, keeping only what the log can hold, and
//! the log rendered (both timed), with the peak RSS of that part alone. Then what the other
//! formats do: the evaluation made whole (every finding in memory), with its peak RSS.
//!
//! `CREDWARDEN_BENCH_ENGINE=rego` evaluates on the plain Rego path instead of the fast one;
//! `CREDWARDEN_BENCH_POLICIES=DIR` adds a custom policy directory (`benches/custom-policies`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use credwarden::config::Config;
use credwarden::evaluate::{Context, Evaluator, PolicySet, Strategy};
use credwarden::report::sarif::SarifOptions;
use credwarden::report::{json, kept, sarif, Report};
use credwarden::snapshot::load::load_snapshot;
use credwarden::synthetic::{generate, Spec};

/// The allocator of the `credwarden` binary, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEED: u64 = 42;

fn main() {
    // As the `credwarden` binary does: no backtrace for each error regorus's parser makes and
    // drops (with `RUST_BACKTRACE=1` set, parsing the policies took ten times as long).
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(Path::new(&args[i + 1]));
        return;
    }
    // `cargo bench` passes --bench; under `cargo test` this runs as a smoke test at the smallest sizes.
    let default = if args.iter().any(|a| a == "--bench") {
        "demo,1000,10000,100000"
    } else {
        "demo,1000"
    };
    let sizes = std::env::var("CREDWARDEN_BENCH_SIZES").unwrap_or_else(|_| default.into());
    println!("| input | users | keys | file MB | load ms | compile ms | evaluate + JSON ms | total ms | findings | peak RSS MB | RSS / file | SARIF (evaluate + render) ms | peak RSS (SARIF) MB | evaluate (whole) ms | peak RSS (whole) MB |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for size in sizes.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let path = input_for(size);
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--child", path.to_str().unwrap()])
            // The largest sizes are over the default input limit, on purpose.
            .env("CREDWARDEN_MAX_INPUT_BYTES", (8u64 << 30).to_string())
            .output()
            .expect("child runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        print!("| {size} {}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The demo fixture, or a generated snapshot of `size` users over `size / 1000` accounts (at least 3).
fn input_for(size: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if size == "demo" {
        return root.join("fixtures/demo/snapshot.json");
    }
    let users: usize = size.parse().expect("a size is `demo` or a number of users");
    let dir = root.join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("synthetic-{users}-seed{SEED}.json"));
    if !path.exists() {
        let snapshot = generate(Spec {
            seed: SEED,
            accounts: (users / 1000).max(3),
            users,
        });
        std::fs::write(&path, serde_json::to_vec_pretty(&snapshot).unwrap()).unwrap();
    }
    path
}

fn child(path: &Path) {
    let file_mb = std::fs::metadata(path).unwrap().len() as f64 / 1e6;
    let t = Instant::now();
    let input = load_snapshot(path).unwrap();
    let load = t.elapsed();
    let t = Instant::now();
    let dirs: Vec<PathBuf> = std::env::var_os("CREDWARDEN_BENCH_POLICIES")
        .map(|d| vec![PathBuf::from(d)])
        .unwrap_or_default();
    let mut evaluator = Evaluator::new(PolicySet::load(&dirs).unwrap()).unwrap();
    if std::env::var("CREDWARDEN_BENCH_ENGINE").as_deref() == Ok("rego") {
        evaluator.set_strategy(Strategy::Rego);
    }
    let compile = t.elapsed();
    let ctx = Context {
        now: "2026-11-21T00:00:00Z".parse().unwrap(),
        config: Config::default(),
    };
    // What `scan --format json -o FILE` does: findings streamed into the report as they are made.
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("findings.json");
    let t = Instant::now();
    let stream = evaluator.stream(&input.snapshot, &ctx).unwrap();
    let streamed = credwarden::output::write_atomic_buffered(&target, |w| {
        json::write_streamed(stream, &input, None, vec![], false, w)
    })
    .unwrap();
    let evaluate_json = t.elapsed();
    let peak_streamed = peak_rss_mb();
    if std::env::var_os("CREDWARDEN_BENCH_RULES").is_some() {
        for (rule, took) in &streamed.rule_timings {
            eprintln!("{rule}: {took:?}");
        }
    }
    std::fs::remove_file(&target).unwrap();

    // What `scan --format sarif` does: keep what the log can hold, render it (GitHub's limits).
    reset_peak_rss();
    let t = Instant::now();
    let stream = evaluator.stream(&input.snapshot, &ctx).unwrap();
    let evaluation = kept::evaluate_kept(stream, sarif::MAX_RESULTS);
    let report = Report {
        evaluation: &evaluation,
        input: &input,
        config_path: None,
        policy_dirs: vec![],
    };
    let sarif_text = sarif::render(&report, &SarifOptions::default()).text;
    let sarif_time = t.elapsed();
    std::hint::black_box(sarif_text.len());
    let peak_sarif = peak_rss_mb();
    drop((sarif_text, evaluation));

    // What the other formats do: every finding in memory.
    reset_peak_rss();
    let t = Instant::now();
    let evaluation = evaluator.evaluate(&input.snapshot, &ctx).unwrap();
    let evaluate = t.elapsed();
    std::hint::black_box(evaluation.findings.len());
    let peak_whole = peak_rss_mb();
    let users: usize = input.snapshot.accounts.iter().map(|a| a.users.len()).sum();
    let keys: usize = input
        .snapshot
        .accounts
        .iter()
        .flat_map(|a| &a.users)
        .map(|u| u.access_keys.len())
        .sum();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let total = load + compile + evaluate_json;
    println!(
        "| {users} | {keys} | {file_mb:.2} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {:.0} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} |",
        ms(load),
        ms(compile),
        ms(evaluate_json),
        ms(total),
        streamed.tally.open() + streamed.tally.suppressed(),
        peak_streamed,
        peak_streamed / file_mb,
        ms(sarif_time),
        peak_sarif,
        ms(evaluate),
        peak_whole,
    );
}

/// Start measuring peak memory afresh (Linux: `clear_refs` 5 resets VmHWM to the current RSS).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
