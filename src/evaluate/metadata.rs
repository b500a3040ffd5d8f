//! `# METADATA` blocks: what a rule is, how severe, which controls it evidences.
//!
//! regorus does not read annotations, so credwarden reads them itself: a `# METADATA` comment
//! line followed by a block of `#` comment lines holding YAML, placed above the `package` (or a
//! rule) of a policy file, in OPA's annotation format. Every check must carry one; it is
//! validated before anything is evaluated, so a typo in a severity never turns into a silently
//! different report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::severity::Severity;

/// Frameworks credwarden knows and reports evidence for.
pub const KNOWN_FRAMEWORKS: [&str; 8] = [
    "cis-aws-1.2",
    "cis-aws-1.4",
    "cis-aws-1.5",
    "cis-aws-2.0",
    "cis-aws-3.0",
    "cis-aws-5.0",
    "nist-800-53-r5",
    "iso-27001-2022",
];

/// The validated description of one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleMetadata {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    /// Framework key → control ids.
    pub controls: BTreeMap<String, Vec<String>>,
    pub remediation: Option<String>,
    /// The type of resource the rule examines (`aws_iam_access_key`, `aws_iam_user`, …): the
    /// evidence export counts these as the resources a passing control was checked against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// `data.<package>` of the rule.
    pub package: String,
    /// The policy file, and the line of its `# METADATA`.
    pub file: String,
    pub line: u32,
    pub bundled: bool,
}

/// A `# METADATA` block found in a source file.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataBlock {
    /// Line of the `# METADATA` marker (1-based).
    pub line: u32,
    pub yaml: String,
}

/// Why a METADATA block is not acceptable. `line` is in the policy file.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataError {
    pub line: u32,
    pub message: String,
}

/// OPA's annotation keys: all accepted, so policies stay valid for `opa` too; credwarden reads
/// `title`, `description` and `custom`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Annotation {
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    related_resources: Option<yaml_serde::Value>,
    #[serde(default)]
    authors: Option<yaml_serde::Value>,
    #[serde(default)]
    organizations: Option<yaml_serde::Value>,
    #[serde(default)]
    schemas: Option<yaml_serde::Value>,
    #[serde(default)]
    entrypoint: Option<bool>,
    #[serde(default)]
    custom: Option<Custom>,
}

#[derive(Debug, Deserialize)]
struct Custom {
    id: Option<String>,
    slug: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    controls: BTreeMap<String, Vec<String>>,
    remediation: Option<String>,
    resource_type: Option<String>,
}

/// Find every `# METADATA` block in a Rego source.
pub fn extract_blocks(source: &str) -> Vec<MetadataBlock> {
    let lines: Vec<&str> = source.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "# METADATA" {
            let start = i;
            let mut yaml = String::new();
            i += 1;
            while i < lines.len() && lines[i].trim_start().starts_with('#') {
                let body = lines[i].trim_start().trim_start_matches('#');
                yaml.push_str(body.strip_prefix(' ').unwrap_or(body));
                yaml.push('\n');
                i += 1;
            }
            blocks.push(MetadataBlock {
                line: start as u32 + 1,
                yaml,
            });
        } else {
            i += 1;
        }
    }
    blocks
}

/// Parse and validate a block. `Ok(None)` for a block without `custom.id` (documentation only).
pub fn parse_block(
    block: &MetadataBlock,
    package: &str,
    file: &str,
    bundled: bool,
) -> Result<Option<RuleMetadata>, MetadataError> {
    let err = |offset: u32, message: String| MetadataError {
        line: block.line + offset,
        message,
    };
    let annotation: Annotation = yaml_serde::from_str(&block.yaml).map_err(|e| {
        let offset = e.location().map_or(0, |l| l.line() as u32);
        let msg = e.to_string();
        let msg = msg
            .rfind(" at line ")
            .map_or(msg.as_str(), |i| &msg[..i])
            .to_string();
        err(offset, format!("METADATA is not valid: {msg}"))
    })?;
    let Some(custom) = annotation.custom else {
        return Ok(None);
    };
    let Some(id) = custom.id.filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    let line_of = |key: &str| -> u32 {
        block
            .yaml
            .lines()
            .position(|l| l.trim_start().starts_with(&format!("{key}:")))
            .map_or(0, |p| p as u32 + 1)
    };
    if !valid_id(&id) {
        return Err(err(line_of("id"), format!("custom.id {id:?}: expected letters, digits, '-', '_' or '.', starting with a letter (at most 32)")));
    }
    let slug = custom
        .slug
        .ok_or_else(|| err(0, format!("custom.slug is missing for rule {id}; expected a kebab-case name like unused-access-key")))?;
    if !valid_slug(&slug) {
        return Err(err(
            line_of("slug"),
            format!("custom.slug {slug:?}: expected kebab-case (a-z, 0-9 and '-')"),
        ));
    }
    let severity = custom
        .severity
        .ok_or_else(|| err(0, format!("custom.severity is missing for rule {id}; expected one of critical, high, medium, low, info")))?
        .parse::<Severity>()
        .map_err(|m| err(line_of("severity"), format!("custom.severity: {m}")))?;
    for (framework, ids) in &custom.controls {
        validate_controls(framework, ids).map_err(|m| err(line_of(framework), m))?;
    }
    if let Some(t) = &custom.resource_type {
        if !valid_resource_type(t) {
            return Err(err(
                line_of("resource_type"),
                format!("custom.resource_type {t:?}: expected a type name like aws_iam_access_key (a-z, 0-9 and '_')"),
            ));
        }
    }
    let title = annotation
        .title
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| err(0, format!("title is missing for rule {id}")))?;
    Ok(Some(RuleMetadata {
        id,
        slug,
        title,
        description: annotation
            .description
            .unwrap_or_default()
            .trim()
            .to_string(),
        severity,
        controls: custom.controls,
        remediation: custom.remediation.map(|r| r.trim().to_string()),
        resource_type: custom.resource_type,
        package: package.to_string(),
        file: file.to_string(),
        line: block.line,
        bundled,
    }))
}

fn valid_resource_type(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 64
        && t.starts_with(|c: char| c.is_ascii_lowercase())
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() <= 32
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn validate_controls(framework: &str, ids: &[String]) -> Result<(), String> {
    let key_ok = !framework.is_empty()
        && framework
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._".contains(c));
    if !key_ok {
        return Err(format!(
            "custom.controls: framework {framework:?} is not well-formed; expected one of {} or a lowercase key of your own",
            KNOWN_FRAMEWORKS.join(", ")
        ));
    }
    if ids.is_empty() {
        return Err(format!(
            "custom.controls.{framework}: expected at least one control id"
        ));
    }
    for id in ids {
        let ok = if framework.starts_with("cis-") {
            id.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
                && id.contains('.')
        } else {
            !id.trim().is_empty() && id.len() <= 64
        };
        if !ok {
            return Err(format!(
                "custom.controls.{framework}: control id {id:?} is not well-formed{}",
                if framework.starts_with("cis-") {
                    " (expected a section number like 1.12)"
                } else {
                    ""
                }
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Option<RuleMetadata>, MetadataError> {
        let blocks = extract_blocks(src);
        parse_block(&blocks[0], "data.p", "p.rego", false)
    }

    const GOOD: &str = "# METADATA\n# title: T\n# custom:\n#   id: ORG001\n#   slug: my-rule\n#   severity: high\n#   controls:\n#     cis-aws-5.0: [\"1.11\"]\npackage p\n";

    #[test]
    fn reads_a_valid_block() {
        let m = parse(GOOD).unwrap().unwrap();
        assert_eq!(
            (m.id.as_str(), m.slug.as_str(), m.severity),
            ("ORG001", "my-rule", Severity::High)
        );
        assert_eq!(m.controls["cis-aws-5.0"], vec!["1.11".to_string()]);
        assert_eq!(m.line, 1);
    }

    #[test]
    fn bad_severity_names_its_line() {
        let e = parse(&GOOD.replace("severity: high", "severity: urgent")).unwrap_err();
        assert_eq!(e.line, 6);
        assert!(e.message.contains("custom.severity"), "{}", e.message);
    }

    #[test]
    fn bad_cis_control_is_rejected() {
        let e = parse(&GOOD.replace("[\"1.11\"]", "[\"one\"]")).unwrap_err();
        assert!(e.message.contains("control id \"one\""), "{}", e.message);
    }

    #[test]
    fn block_without_id_is_documentation() {
        assert_eq!(
            parse("# METADATA\n# title: helpers\npackage lib\n").unwrap(),
            None
        );
    }
}
