//! Write a synthetic snapshot (seeded, deterministic) for benchmarks and demos.
//!
//! ```sh
//! cargo run --release --example synthetic -- --accounts 100 --users 100000 --seed 42 > s.json
//! credwarden scan --snapshot s.json --now 2026-11-21T00:00:00Z
//! ```
//!
//! The mix is described in `src/synthetic.rs`; `cargo bench --bench evaluate` makes the same
//! snapshots (one account per 1,000 users, seed 42) under `target/bench-data/`.

use std::io::Write;

use clap::Parser;
use credwarden::synthetic::{generate, Spec};

#[derive(Parser)]
struct Args {
    /// Accounts, the users spread evenly over them.
    #[arg(long, default_value_t = 3)]
    accounts: usize,
    /// Users in all.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let snapshot = generate(Spec {
        seed: args.seed,
        accounts: args.accounts,
        users: args.users,
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, &snapshot)?;
    writeln!(out)?;
    out.flush()
}
