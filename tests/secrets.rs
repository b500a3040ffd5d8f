//! No secret access key, session token or password ever reaches an output: stdout, stderr at
//! every verbosity, snapshots, reports, evidence, plans and journals — over a real collection
//! from the emulator, whose seeded secrets are known.

mod common;

use std::path::Path;

use common::emulator::Emulator;
use serde_json::Value;

/// Tokens shaped like an AWS secret access key (40 characters of the base64 alphabet, mixing
/// upper case, lower case and digits) or a session token (moto's and AWS's prefixes).
fn secret_shaped(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '/' || c == '+' || c == '='))
        .filter(|t| {
            let secret_key = t.len() == 40
                && t.chars().any(|c| c.is_ascii_uppercase())
                && t.chars().any(|c| c.is_ascii_lowercase())
                && t.chars().any(|c| c.is_ascii_digit());
            let session_token = t.starts_with("FQoGZXIvYXdzE") || t.starts_with("IQoJb3JpZ2lu");
            secret_key || session_token
        })
        .map(str::to_string)
        .collect()
}

fn files_below(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_below(&path, out);
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn no_secret_reaches_any_output() {
    let emu = Emulator::start();
    let truth = emu.seed("organization");
    let secrets: Vec<String> = truth["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert!(
        secrets.len() > 5,
        "the seeding recorded its secrets: {secrets:?}"
    );
    let now = truth["now"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let mut streams: Vec<(String, String)> = Vec::new();
    let mut run = |label: &str, args: &[&str]| {
        let out = emu.credwarden().args(args).output().unwrap();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{label}: exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        streams.push((
            format!("{label} stdout"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ));
        streams.push((
            format!("{label} stderr"),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    };
    let snapshot = p("org.json");
    run("collect -vv", &["collect", "--org", "-vv", "-o", &snapshot]);
    run(
        "live scan -vv",
        &["scan", "--org", "-vv", "--now", now, "--format", "json"],
    );
    for format in ["text", "json", "sarif", "markdown", "csv", "html"] {
        let out = p(&format!("report.{format}"));
        run(
            &format!("scan {format}"),
            &[
                "scan",
                "--snapshot",
                &snapshot,
                "--now",
                now,
                "--format",
                format,
                "-o",
                &out,
                "-vv",
            ],
        );
    }
    run(
        "evidence",
        &[
            "evidence",
            "export",
            "--snapshot",
            &snapshot,
            "--now",
            now,
            "--out",
            &p("evidence"),
            "--archive",
            &p("evidence.tar.gz"),
        ],
    );
    let plan = p("plan.json");
    run(
        "plan",
        &[
            "remediate",
            "plan",
            "--snapshot",
            &snapshot,
            "--now",
            now,
            "-o",
            &plan,
        ],
    );
    run("apply -vv", &["remediate", "apply", &plan, "--yes", "-vv"]);
    run(
        "undo -vv",
        &[
            "remediate",
            "undo",
            &p("plan.journal.jsonl"),
            "--yes",
            "-vv",
        ],
    );
    run(
        "query",
        &[
            "query",
            "--snapshot",
            &snapshot,
            "--now",
            now,
            "input.accounts[0]",
        ],
    );

    let mut outputs = streams;
    files_below(dir.path(), &mut outputs);
    let files = outputs.iter().filter(|(l, _)| l.starts_with('/')).count();
    assert!(files >= 15, "every output was produced: {files} files");
    let verbose: usize = outputs
        .iter()
        .filter(|(l, _)| l.contains("-vv stderr"))
        .map(|(_, t)| t.len())
        .sum();
    assert!(
        verbose > 10_000,
        "-vv logged the SDK's requests ({verbose} bytes)"
    );
    for (label, text) in &outputs {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{label} contains a seeded secret"
            );
        }
        assert_eq!(secret_shaped(text), Vec::<String>::new(), "{label}");
    }
    let plan: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    assert!(
        !plan["actions"].as_array().unwrap().is_empty(),
        "the plan had actions to apply"
    );
}

#[test]
fn the_secret_detector_detects() {
    assert_eq!(
        secret_shaped("key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, token FQoGZXIvYXdzEBYaDabc"),
        [
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "FQoGZXIvYXdzEBYaDabc"
        ]
    );
    // Hex digests and key ids are not secrets.
    assert!(
        secret_shaped("sha256:0123456789abcdef0123456789abcdef01234567 AKIAIOSFODNN7EXAMPLE")
            .is_empty()
    );
}
