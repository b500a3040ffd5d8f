//! End-to-end evaluation benchmark: snapshot file → findings, at several sizes.
//!
//! `cargo bench --bench evaluate` (sizes from `CREDWARDEN_BENCH_SIZES`, default
//! `demo,1000,10000,100000`; `cargo test` runs it at `demo,1000` as a smoke test). Each size runs in a child process so that its peak memory (VmHWM)
//! is its own; synthetic snapshots are generated once (seeded) under `target/bench-data/`.
//! Prints a Markdown table: load/parse, compile, evaluate, JSON (rendered and written to a file)
//! and SARIF reporting, peak RSS and its ratio to the file's size.
//!
//! `CREDWARDEN_BENCH_ENGINE=rego` evaluates on the plain Rego path instead of the fast one;
//! `CREDWARDEN_BENCH_POLICIES=DIR` adds a custom policy directory (`benches/custom-policies`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use credwarden::config::Config;
use credwarden::evaluate::{Context, Evaluator, PolicySet, Strategy};
use credwarden::report::sarif::SarifOptions;
use credwarden::report::{json, sarif, Report};
use credwarden::snapshot::load::load_snapshot;
use credwarden::synthetic::{generate, Spec};

/// The allocator of the `credwarden` binary, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEED: u64 = 42;

fn main() {
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
    println!("| input | users | keys | file MB | load ms | compile ms | evaluate ms | JSON ms | SARIF ms | total ms | findings | peak RSS MB | RSS / file |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
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
    let t = Instant::now();
    let evaluation = evaluator.evaluate(&input.snapshot, &ctx).unwrap();
    let evaluate = t.elapsed();
    if std::env::var_os("CREDWARDEN_BENCH_RULES").is_some() {
        for (rule, took) in &evaluation.rule_timings {
            eprintln!("{rule}: {took:?}");
        }
    }
    let report = Report {
        evaluation: &evaluation,
        input: &input,
        config_path: None,
        policy_dirs: vec![],
    };
    let out = tempfile::tempdir().unwrap();
    let t = Instant::now();
    credwarden::output::write_atomic_with(&out.path().join("findings.json"), |w| {
        json::write(&report, w)
    })
    .unwrap();
    let json_time = t.elapsed();
    let t = Instant::now();
    let sarif_text = sarif::render(&report, &SarifOptions::default()).text;
    let sarif_time = t.elapsed();
    std::hint::black_box(sarif_text.len());
    let users: usize = input.snapshot.accounts.iter().map(|a| a.users.len()).sum();
    let keys: usize = input
        .snapshot
        .accounts
        .iter()
        .flat_map(|a| &a.users)
        .map(|u| u.access_keys.len())
        .sum();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let total = load + compile + evaluate + json_time;
    println!(
        "| {users} | {keys} | {file_mb:.2} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {:.0} | {:.1} |",
        ms(load),
        ms(compile),
        ms(evaluate),
        ms(json_time),
        ms(sarif_time),
        ms(total),
        evaluation.findings.len(),
        peak_rss_mb(),
        peak_rss_mb() / file_mb
    );
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
