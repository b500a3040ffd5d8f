//! The `credwarden` command: argument parsing and exit codes over the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    no_library_backtraces();
    keep_freed_memory();
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

/// Keep memory freed during the run for reuse instead of handing it back to the kernel.
///
/// mimalloc hands freed pages back 10 ms after they are freed (`purge_delay`), and a page used
/// again after that is a fresh page: on a virtual machine the kernel and the host zero and back
/// it again, about a millisecond a megabyte here. A scan frees and reuses its working memory
/// all the time (a section's findings, a shard's values) and ends within seconds, so it keeps
/// what it freed: the bundled 100,000-user scan 1.13 -> 0.95 s (median of 4) at the same peak;
/// with twenty custom rules the peak grows by 15%. `MIMALLOC_PURGE_DELAY`, when set, is
/// obeyed. Called first, while the process has one thread (`mi_option_set` is not
/// thread-safe).
fn keep_freed_memory() {
    // `mi_option_purge_delay` in mimalloc.h (v2 and v3 alike).
    const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
    extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mimalloc's own setter, called before any other thread exists.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}
