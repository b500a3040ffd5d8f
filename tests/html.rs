//! The HTML report: self-contained, escaped, deterministic — and working in a real browser.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use common::*;

fn html_of(args: &[&str]) -> String {
    let out = scan_demo(&["--format", "html"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_page_needs_no_network_and_no_other_file() {
    let html = html_of(&["--config", "fixtures/config/example.yaml"]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    let outside: Vec<&str> = html
        .match_indices("http")
        .map(|(i, _)| &html[i..(i + 40).min(html.len())])
        .filter(|s| !s.starts_with("http-equiv") && !s.starts_with("http://www.w3.org/2000/svg"))
        .collect();
    assert_eq!(outside, Vec::<&str>::new(), "references outside the file");
    for tag in ["<link", "<img", "<iframe", "src=", "@import", "url("] {
        assert!(!html.contains(tag), "the report contains {tag}");
    }
    assert!(html.contains("<svg id=\"key-age-chart\""));
    assert!(html.contains("<script>"));
}

#[test]
fn the_page_is_the_same_every_time() {
    assert_eq!(html_of(&[]), html_of(&[]));
}

#[test]
fn what_policies_say_is_shown_as_text() {
    let html = html_of(&["--policy", "tests/fixtures/policies/markup"]);
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;img src=x onerror=&quot;alert(1)&quot;&gt;"));
    assert!(html.contains("<code>&lt;b&gt;acct&lt;/b&gt;</code>"));
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("<b>acct"));
}

#[test]
fn the_chart_counts_every_key_of_the_demo() {
    let html = html_of(&[]);
    // 19 user keys; the per-bucket totals are drawn above the bars.
    assert!(html.contains("19 IAM user access keys"), "key total");
    let totals: usize = html
        .split("class=\"total\">")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].parse::<usize>().unwrap())
        .sum();
    assert_eq!(totals, 19);
}

/// Where test artefacts (the screenshots) are kept: `target/test-artifacts/`.
fn artifacts() -> PathBuf {
    let dir = repo("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The browser and the driver `scripts/test` installs; a clear failure when they are missing.
fn browser_tools() -> (PathBuf, PathBuf) {
    let chromium = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let driver = std::env::var_os("PLAYWRIGHT_CORE").map_or_else(
        || repo("target/tools/browser/node_modules/playwright-core"),
        PathBuf::from,
    );
    assert!(
        chromium.exists() && driver.exists(),
        "the browser test needs Chromium ({}) and playwright-core ({}): run `bash scripts/test`, \
         which installs both",
        chromium.display(),
        driver.display()
    );
    (chromium, driver)
}

/// Render `snapshot` as HTML and JSON, and drive the HTML in headless Chromium.
fn browser_check(snapshot: &Path, extra: &[&str], screenshot: &str) {
    let (chromium, driver) = browser_tools();
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let json = dir.path().join("report.json");
    for (format, path) in [("html", &html), ("json", &json)] {
        credwarden()
            .args(["scan", "--snapshot"])
            .arg(snapshot)
            .args(["--now", NOW, "--format", format, "-o"])
            .arg(path)
            .args(extra)
            .assert()
            .success();
    }
    let shot = artifacts().join(screenshot);
    let out = Process::new("node")
        .arg(repo("tests/browser/html_report.mjs"))
        .args([&html, &json, &shot])
        .env("CHROMIUM", chromium)
        .env("PLAYWRIGHT_CORE", driver)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser checks failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 failed"), "{stdout}");
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
}

#[test]
fn the_demo_report_works_in_chromium() {
    browser_check(
        &repo(DEMO),
        &["--config", "fixtures/config/example.yaml"],
        "html-report-demo.png",
    );
}

#[test]
fn a_thousand_user_report_works_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_synthetic(dir.path(), 7, 5, 1000);
    browser_check(&path, &[], "html-report-1000-users.png");
}
