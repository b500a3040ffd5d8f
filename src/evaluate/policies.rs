//! The policy set: the bundled rules compiled into the binary, and the user's `--policy` dirs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::metadata::{self, RuleMetadata};
use super::PolicyError;

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled_policies.rs"));
}

/// One `.rego` file.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    /// Path as shown to users (`policies/…` for bundled files).
    pub path: String,
    pub source: String,
    /// `data.<package>`.
    pub package: String,
    pub bundled: bool,
    pub is_test: bool,
}

/// Policy files and the rules (checks) they define.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    pub files: Vec<PolicyFile>,
    pub rules: Vec<RuleMetadata>,
}

impl PolicySet {
    /// The bundled policies (without tests) plus every `.rego` file (without tests) in `dirs`.
    pub fn load(dirs: &[PathBuf]) -> Result<PolicySet, PolicyError> {
        let mut files = bundled_files(false)?;
        let bundled_packages: BTreeSet<String> = files.iter().map(|f| f.package.clone()).collect();
        for dir in dirs {
            for file in read_dir(dir)?.into_iter().filter(|f| !f.is_test) {
                if bundled_packages.contains(&file.package) {
                    return Err(PolicyError::Invalid {
                        file: file.path,
                        line: package_line(&file.source),
                        message: format!(
                            "package {} is already defined by a bundled policy; give organisational policies a package of their own (e.g. org.rules.<name>)",
                            file.package.trim_start_matches("data.")
                        ),
                    });
                }
                files.push(file);
            }
        }
        PolicySet::from_files(files, true)
    }

    /// For `policy test`: with no dirs, the bundled policies and their tests; with dirs, every
    /// file in them (tests included) plus the bundled files whose packages they do not define.
    pub fn load_for_tests(dirs: &[PathBuf]) -> Result<PolicySet, PolicyError> {
        if dirs.is_empty() {
            return PolicySet::from_files(bundled_files(true)?, false);
        }
        let mut files = Vec::new();
        for dir in dirs {
            files.extend(read_dir(dir)?);
        }
        let defined: BTreeSet<String> = files.iter().map(|f| f.package.clone()).collect();
        files.extend(
            bundled_files(false)?
                .into_iter()
                .filter(|f| !defined.contains(&f.package)),
        );
        // Ids stay unique, but a checkout of credwarden's own policies may use CW ids here.
        PolicySet::from_files(files, false)
    }

    /// Index the rules of `files`; `reserve_cw` refuses `CW…` ids outside the bundle.
    fn from_files(files: Vec<PolicyFile>, reserve_cw: bool) -> Result<PolicySet, PolicyError> {
        let mut rules: Vec<RuleMetadata> = Vec::new();
        let mut by_package: BTreeMap<&str, &str> = BTreeMap::new();
        for file in files.iter().filter(|f| !f.is_test) {
            for block in metadata::extract_blocks(&file.source) {
                let parsed = metadata::parse_block(&block, &file.package, &file.path, file.bundled)
                    .map_err(|e| PolicyError::Invalid {
                        file: file.path.clone(),
                        line: e.line,
                        message: e.message,
                    })?;
                let Some(rule) = parsed else { continue };
                if let Some(existing) = rules.iter().find(|r| r.id.eq_ignore_ascii_case(&rule.id)) {
                    return Err(PolicyError::Invalid {
                        file: file.path.clone(),
                        line: rule.line,
                        message: format!(
                            "rule id {} is already used by {}:{}; ids must be unique",
                            rule.id, existing.file, existing.line
                        ),
                    });
                }
                if reserve_cw && !file.bundled && rule.id.to_ascii_uppercase().starts_with("CW") {
                    return Err(PolicyError::Invalid {
                        file: file.path.clone(),
                        line: rule.line,
                        message: format!("rule id {}: ids starting with CW are reserved for bundled rules; use your organisation's prefix", rule.id),
                    });
                }
                if let Some(other) = by_package.insert(&file.package, &file.path) {
                    return Err(PolicyError::Invalid {
                        file: file.path.clone(),
                        line: rule.line,
                        message: format!(
                            "package {} already has a rule (in {other}); one rule per package",
                            file.package
                        ),
                    });
                }
                rules.push(rule);
            }
        }
        for file in files.iter().filter(|f| !f.is_test) {
            let has_rule = rules.iter().any(|r| r.package == file.package);
            if !has_rule && defines_deny(&file.source) {
                return Err(PolicyError::Invalid {
                    file: file.path.clone(),
                    line: 1,
                    message: "the policy defines `deny` but has no `# METADATA` block with custom.id, slug and severity above its package".into(),
                });
            }
        }
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(PolicySet { files, rules })
    }

    /// A digest of every policy source, for run metadata and evidence.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let mut files: Vec<&PolicyFile> = self.files.iter().filter(|f| !f.is_test).collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        for f in files {
            hasher.update(f.path.as_bytes());
            hasher.update([0]);
            hasher.update(f.source.as_bytes());
            hasher.update([0]);
        }
        format!("sha256:{:x}", hasher.finalize())
    }
}

fn bundled_files(with_tests: bool) -> Result<Vec<PolicyFile>, PolicyError> {
    bundled::BUNDLED
        .iter()
        .map(|(path, source)| policy_file(path.to_string(), source.to_string(), true))
        .filter(|f| with_tests || f.as_ref().map_or(true, |f| !f.is_test))
        .collect()
}

fn policy_file(path: String, source: String, bundled: bool) -> Result<PolicyFile, PolicyError> {
    let package = package_name(&source).ok_or_else(|| PolicyError::Invalid {
        file: path.clone(),
        line: 1,
        message: "no `package` declaration; every Rego file starts with one".into(),
    })?;
    Ok(PolicyFile {
        is_test: path.ends_with("_test.rego"),
        package: format!("data.{package}"),
        path,
        source,
        bundled,
    })
}

fn package_name(source: &str) -> Option<String> {
    source.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix("package ")?;
        Some(rest.split('#').next()?.trim().to_string())
    })
}

fn package_line(source: &str) -> u32 {
    source
        .lines()
        .position(|l| l.trim_start().starts_with("package "))
        .map_or(1, |p| p as u32 + 1)
}

fn defines_deny(source: &str) -> bool {
    source.lines().any(|l| {
        l.strip_prefix("deny").is_some_and(|rest| {
            rest.starts_with(' ')
                || rest.starts_with('[')
                || rest.starts_with('{')
                || rest.starts_with(":=")
        })
    })
}

/// Every `.rego` file below `dir`, sorted by path; a single file is accepted too.
fn read_dir(dir: &Path) -> Result<Vec<PolicyFile>, PolicyError> {
    let mut paths = Vec::new();
    if dir.is_file() {
        paths.push(dir.to_path_buf());
    } else {
        walk(dir, &mut paths)?;
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let source = std::fs::read_to_string(&p).map_err(|source| PolicyError::Io {
                path: p.display().to_string(),
                source,
            })?;
            policy_file(p.display().to_string(), source, false)
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), PolicyError> {
    let io = |source| PolicyError::Io {
        path: dir.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rego") {
            out.push(path);
        }
    }
    Ok(())
}
