//! `--redact`: no whole access key id in any output format.

mod common;

use common::*;

/// Every whole access key id (`AKIA`/`ASIA` + 16) in `text`.
fn whole_key_ids(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(19))
        .filter(|&i| {
            (&b[i..i + 4] == b"AKIA" || &b[i..i + 4] == b"ASIA")
                && b[i + 4..i + 20]
                    .iter()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        })
        .map(|i| text[i..i + 20].to_string())
        .collect()
}

#[test]
fn every_format_masks_key_ids() {
    for format in ["text", "json", "sarif", "markdown", "csv", "html"] {
        let plain = scan_demo(&[
            "--format",
            format,
            "--config",
            "fixtures/config/example.yaml",
        ])
        .output()
        .unwrap();
        let plain = String::from_utf8(plain.stdout).unwrap();
        assert!(
            !whole_key_ids(&plain).is_empty(),
            "{format}: the demo report names keys"
        );
        let out = scan_demo(&[
            "--format",
            format,
            "--config",
            "fixtures/config/example.yaml",
            "--redact",
        ])
        .output()
        .unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(whole_key_ids(&text), Vec::<String>::new(), "{format}");
        assert!(
            text.contains("AKIA************MPLE"),
            "{format}: masked, not dropped"
        );
        if ["json", "sarif"].contains(&format) {
            serde_json::from_str::<serde_json::Value>(&text).expect("still JSON");
        }
        assert_eq!(
            text.len(),
            plain.len(),
            "{format}: same length, same structure"
        );
    }
}

#[test]
fn a_redacted_evidence_bundle_names_no_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("e");
    credwarden()
        .args([
            "evidence",
            "export",
            "--snapshot",
            DEMO,
            "--now",
            NOW,
            "--redact",
            "-q",
        ])
        .args(["--out", dir.to_str().unwrap()])
        .assert()
        .code(0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            whole_key_ids(&text),
            Vec::<String>::new(),
            "{}",
            path.display()
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["redacted"], true);
    credwarden()
        .args(["evidence", "verify"])
        .arg(&dir)
        .assert()
        .code(0);
}
