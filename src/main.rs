//! The `credwarden` command: argument parsing and exit codes over the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    no_library_backtraces();
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Leave backtraces to panics. regorus's parser makes an error, and drops it, for each
/// alternative it tries; with `RUST_BACKTRACE=1` in the environment (as many developers and
/// CI images have it) each of those errors captured a backtrace, which was 40% of a small
/// scan's time and parsing the policies took 30 ms instead of 3. `RUST_LIB_BACKTRACE`, when
/// set, is obeyed; panics still follow `RUST_BACKTRACE`. Called first, while the process has
/// one thread.
fn no_library_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
}
