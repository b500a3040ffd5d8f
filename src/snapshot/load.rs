//! Reading a snapshot JSON file, with errors that name the file, line, column and field.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::model::{Snapshot, SCHEMA_MAJOR};
use super::LoadedSnapshot;

/// Why a snapshot could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{path}: cannot read the snapshot: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: invalid JSON: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}:{line}:{column}: field `{field}`: {message}")]
    Field {
        path: String,
        line: usize,
        column: usize,
        field: String,
        message: String,
    },
    #[error(
        "{path}: snapshot schema version {found:?} is not supported: this credwarden reads \
         schema {SCHEMA_MAJOR}.x; collect the snapshot again with this version, or upgrade credwarden"
    )]
    UnsupportedVersion { path: String, found: String },
    #[error("{path}: the snapshot is {message}")]
    TooLarge { path: String, message: String },
}

/// Read and validate a snapshot file.
pub fn load_snapshot(path: &Path) -> Result<LoadedSnapshot, SnapshotError> {
    let name = path.display().to_string();
    let bytes = super::read_input(path).map_err(|e| match e {
        super::ReadError::Io(source) => SnapshotError::Io {
            path: name.clone(),
            source,
        },
        super::ReadError::TooLarge { limit } => SnapshotError::TooLarge {
            path: name.clone(),
            message: super::too_large(limit),
        },
    })?;
    // The common case first, at full speed (the accounts on every core when the layout allows);
    // a snapshot that fails is parsed again, slowly, for the error (the field path, its line, a
    // not-UTF-8 position).
    let parsed = super::split::parse(&bytes)
        .map(Ok)
        .unwrap_or_else(|| serde_json::from_slice::<Snapshot>(&bytes));
    if let Ok(snapshot) = parsed {
        if check_version(&snapshot.schema, &name).is_ok() {
            return Ok(LoadedSnapshot::from_file(snapshot, path.to_path_buf()));
        }
    }
    let text = String::from_utf8(bytes.into_vec()).map_err(|e| {
        let (line, column) = position(e.as_bytes(), e.utf8_error().valid_up_to());
        SnapshotError::Syntax {
            path: name.clone(),
            line,
            column,
            message: "not UTF-8 text; a snapshot is JSON in UTF-8".into(),
        }
    })?;
    let snapshot = parse_snapshot(&text, &name)?;
    Ok(LoadedSnapshot::from_file(snapshot, path.to_path_buf()))
}

/// Parse snapshot text; `origin` names the source in errors.
pub fn parse_snapshot(text: &str, origin: &str) -> Result<Snapshot, SnapshotError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let typed: Result<Snapshot, _> = serde_path_to_error::deserialize(&mut de);
    if typed.is_ok() {
        de.end().map_err(|e| SnapshotError::Syntax {
            path: origin.to_string(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
    }
    match typed {
        Ok(snapshot) => {
            check_version(&snapshot.schema, origin)?;
            Ok(snapshot)
        }
        Err(err) => {
            // A snapshot of another major version fails to parse for that reason first: say so.
            if let Some(found) = probe_version(text) {
                check_version(&found, origin)?;
            }
            Err(describe(err, origin))
        }
    }
}

fn check_version(found: &str, origin: &str) -> Result<(), SnapshotError> {
    let major = found.split('.').next().and_then(|m| m.parse::<u64>().ok());
    if major == Some(SCHEMA_MAJOR) {
        Ok(())
    } else {
        Err(SnapshotError::UnsupportedVersion {
            path: origin.to_string(),
            found: found.to_string(),
        })
    }
}

fn probe_version(text: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        schema: Option<String>,
    }
    serde_json::from_str::<Probe>(text).ok()?.schema
}

fn describe(err: serde_path_to_error::Error<serde_json::Error>, origin: &str) -> SnapshotError {
    let field = err.path().to_string();
    let inner = err.into_inner();
    let (path, line, column) = (origin.to_string(), inner.line(), inner.column());
    let message = strip_position(&inner.to_string());
    if inner.is_data() && !field.is_empty() && field != "." {
        SnapshotError::Field {
            path,
            line,
            column,
            field,
            message,
        }
    } else {
        SnapshotError::Syntax {
            path,
            line,
            column,
            message,
        }
    }
}

/// serde_json appends " at line L column C"; the error already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The members whose values [`index_block`] finds, and the prefix of each value's key.
const INDEXED: [(&str, &str); 3] = [
    ("\"arn\"", ""),
    ("\"access_key_id\"", ""),
    ("\"account_id\"", "account:"),
];

/// [`index_block`] of a whole text.
#[cfg(test)]
fn index_lines(text: &str) -> HashMap<String, u32> {
    let mut lines = HashMap::new();
    index_block(text, 1, &|_| true, &mut lines);
    lines
}

/// Bytes of whole lines to read at a time.
const BLOCK: usize = 4 << 20;

/// [`index_block`] of the file at `path`, read a block of whole lines at a time (a snapshot of
/// 100,000 users is 118 MB, and is not held again), keeping only the keys `wanted` accepts (a
/// SARIF log places at most 50,000 findings; the file names half a million resources).
pub(super) fn index_file_lines(
    path: &Path,
    wanted: &dyn Fn(&str) -> bool,
) -> std::io::Result<HashMap<String, u32>> {
    index_file_lines_in_blocks(path, wanted, BLOCK)
}

fn index_file_lines_in_blocks(
    path: &Path,
    wanted: &dyn Fn(&str) -> bool,
    block_len: usize,
) -> std::io::Result<HashMap<String, u32>> {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let mut lines = HashMap::new();
    let mut block = Vec::with_capacity(block_len + (64 << 10));
    let mut first_line = 1u32;
    loop {
        block.clear();
        while block.len() < block_len && reader.read_until(b'\n', &mut block)? > 0 {}
        if block.is_empty() {
            return Ok(lines);
        }
        // A block ends at a line break, which never splits a character.
        index_block(
            &String::from_utf8_lossy(&block),
            first_line,
            wanted,
            &mut lines,
        );
        first_line += memchr::memchr_iter(b'\n', &block).count() as u32;
    }
}

/// Find the line of each ARN, access key id and account id in whole lines of a pretty-printed
/// snapshot, the first of them line `first_line`, into `lines`: for each member name, its
/// first appearance on a line, with a string value after it on that line; a value seen on
/// several lines keeps the first. Only the keys `wanted` accepts are kept.
///
/// One vectorised search per member over the text, counting line breaks between hits, rather
/// than three substring searches set up afresh on each of its lines (at 100,000 users,
/// 3 million lines: that set-up was a tenth of a SARIF scan).
fn index_block(
    text: &str,
    first_line: u32,
    wanted: &dyn Fn(&str) -> bool,
    lines: &mut HashMap<String, u32>,
) {
    let bytes = text.as_bytes();
    let mut key = String::new();
    for (field, prefix) in INDEXED {
        let (mut line, mut counted_to, mut last_hit_line) = (first_line, 0, 0);
        for at in memchr::memmem::find_iter(bytes, field.as_bytes()) {
            line += memchr::memchr_iter(b'\n', &bytes[counted_to..at]).count() as u32;
            counted_to = at;
            if line == last_hit_line {
                continue; // only a line's first mention counts
            }
            last_hit_line = line;
            let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |n| at + n);
            if let Some(value) = string_value_after(&text[at..end], field) {
                key.clear();
                key.push_str(prefix);
                key.push_str(value);
                if !wanted(&key) {
                    continue;
                }
                // The lowest line wins; on one line, the member named first above.
                match lines.get_mut(key.as_str()) {
                    Some(n) => *n = (*n).min(line),
                    None => {
                        lines.insert(key.clone(), line);
                    }
                }
            }
        }
    }
}

/// [`index_lines`] line by line: the reference its tests compare with.
#[cfg(test)]
fn index_lines_one_by_one(text: &str) -> HashMap<String, u32> {
    let mut lines = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let n = n as u32 + 1;
        for (field, prefix) in [
            ("\"arn\"", ""),
            ("\"access_key_id\"", ""),
            ("\"account_id\"", "account:"),
        ] {
            if let Some(value) = string_value_after(line, field) {
                lines.entry(format!("{prefix}{value}")).or_insert(n);
            }
        }
    }
    lines
}

fn string_value_after<'a>(line: &'a str, field: &str) -> Option<&'a str> {
    let rest = &line[line.find(field)? + field.len()..];
    let rest = rest
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    rest.find('"').map(|end| &rest[..end])
}

/// The 1-based line and column of byte `offset`.
fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = offset
        - before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_arns_keys_and_accounts() {
        let text = "{\n  \"account_id\": \"123456789012\",\n  \"arn\": \"arn:aws:iam::123456789012:user/a\",\n  \"access_key_id\": \"AKIA1\"\n}";
        let lines = index_lines(text);
        assert_eq!(lines["account:123456789012"], 2);
        assert_eq!(lines["arn:aws:iam::123456789012:user/a"], 3);
        assert_eq!(lines["AKIA1"], 4);
    }

    #[test]
    fn the_index_is_the_line_by_line_one() {
        let synthetic = crate::synthetic::generate(crate::synthetic::Spec {
            seed: 7,
            accounts: 3,
            users: 300,
        });
        let pretty = serde_json::to_string_pretty(&synthetic).unwrap();
        let compact = serde_json::to_string(&synthetic).unwrap();
        let odd = [
            "\"arn\": \"a\", \"arn\": \"b\"\n\"arn\" \"c\"\n\"arn\":\"d\"\r\n  \"arn\": \"a\"",
            "\"account_id\": \"1\"\n\"arn\": \"account:1\"\n\"access_key_id\": \"x\", \"arn\": \"x\"",
            "\"arn\": \"unterminated\n\"arn\": \"é\"\n\"arn\"",
            "",
        ];
        let index = index_lines(&pretty);
        assert!(index.len() > 800, "{}", index.len());
        assert_eq!(index, index_lines_one_by_one(&pretty));
        assert_eq!(index_lines(&compact), index_lines_one_by_one(&compact));
        for text in odd {
            assert_eq!(index_lines(text), index_lines_one_by_one(text), "{text:?}");
        }
    }

    /// Read a block at a time (blocks of a few lines here) and keeping only the wanted keys,
    /// the file's index is the whole text's, cut to those keys.
    #[test]
    fn the_file_index_is_the_whole_texts_cut_to_the_wanted_keys() {
        let synthetic = crate::synthetic::generate(crate::synthetic::Spec {
            seed: 3,
            accounts: 4,
            users: 600,
        });
        let pretty = serde_json::to_string_pretty(&synthetic).unwrap();
        assert!(pretty.len() > 100 * 4096, "the file spans many blocks");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, &pretty).unwrap();
        let whole = index_lines(&pretty);
        let every_third = |k: &str| k.len() % 3 == 0 || k.starts_with("account:");
        let expected: HashMap<String, u32> = whole
            .iter()
            .filter(|(k, _)| every_third(k))
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        assert!(expected.len() > 100 && expected.len() < whole.len());
        for block_len in [1, 4096, BLOCK] {
            let index = |wanted: &dyn Fn(&str) -> bool| {
                index_file_lines_in_blocks(&path, wanted, block_len).unwrap()
            };
            assert_eq!(index(&every_third), expected, "blocks of {block_len}");
            assert_eq!(index(&|_| true), whole, "blocks of {block_len}");
        }
    }

    #[test]
    fn unknown_major_version_is_named() {
        let err = parse_snapshot(
            r#"{"schema": "2.0", "collected_at": "x", "accounts": [], "new": 1}"#,
            "s.json",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("schema version \"2.0\" is not supported"),
            "{err}"
        );
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let err = parse_snapshot("{\n  \"schema\": \"1.0\",\n}", "s.json").unwrap_err();
        assert!(
            err.to_string().starts_with("s.json:3:1: invalid JSON"),
            "{err}"
        );
    }

    #[test]
    fn bad_field_is_named_with_its_path() {
        let text = r#"{"schema": "1.0", "collected_at": "2026-01-01T00:00:00Z", "accounts": [
  {"account_id": "123456789012", "users": [{"user_name": "a", "arn": "x", "created_at": "2026-01-01T00:00:00Z",
    "mfa_active": false, "access_keys": [{"status": "Enabled", "created_at": "2026-01-01T00:00:00Z"}]}]}]}"#;
        let err = parse_snapshot(text, "s.json").unwrap_err().to_string();
        assert!(
            err.contains("accounts[0].users[0].access_keys[0].status"),
            "{err}"
        );
        assert!(err.contains("s.json:3:"), "{err}");
    }

    /// A snapshot padded past the size from which files are mapped instead of read.
    fn large(text: &str) -> String {
        let padding = " ".repeat((super::super::MAP_AT_LEAST as usize) + 1);
        text.replacen('{', &format!("{{{padding}"), 1)
    }

    #[test]
    fn a_large_file_is_mapped_and_loads_as_a_small_one_does() {
        let synthetic = crate::synthetic::generate(crate::synthetic::Spec {
            seed: 5,
            accounts: 2,
            users: 40,
        });
        let text = serde_json::to_string_pretty(&synthetic).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (small, big) = (dir.path().join("small.json"), dir.path().join("big.json"));
        std::fs::write(&small, &text).unwrap();
        std::fs::write(&big, large(&text)).unwrap();
        assert!(matches!(
            super::super::read_input(&big).unwrap(),
            super::super::InputBytes::Mapped(_)
        ));
        assert!(matches!(
            super::super::read_input(&small).unwrap(),
            super::super::InputBytes::Read(_)
        ));
        let (small, big) = (load_snapshot(&small).unwrap(), load_snapshot(&big).unwrap());
        assert_eq!(
            serde_json::to_value(&small.snapshot).unwrap(),
            serde_json::to_value(&big.snapshot).unwrap()
        );
    }

    #[test]
    fn a_mapped_file_that_is_bad_names_its_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        // Bad JSON on line 3.
        std::fs::write(&path, large("{\n  \"schema\": \"1.0\",\n}")).unwrap();
        let err = load_snapshot(&path).unwrap_err().to_string();
        assert!(err.contains("big.json:3:1: invalid JSON"), "{err}");
        // A field of the wrong type, named by its path.
        let text = r#"{"schema": "1.0", "collected_at": "2026-11-21T00:00:00Z",
            "accounts": [{"account_id": 7}]}"#;
        std::fs::write(&path, large(text)).unwrap();
        let err = load_snapshot(&path).unwrap_err().to_string();
        assert!(err.contains("accounts[0].account_id"), "{err}");
        // Not UTF-8: the position of the first bad byte.
        let mut bytes = large("{\"schema\": \"1.0\"}").into_bytes();
        bytes.extend_from_slice(b"\n\xff");
        std::fs::write(&path, bytes).unwrap();
        let err = load_snapshot(&path).unwrap_err().to_string();
        assert!(
            err.contains("big.json:2:1:") && err.contains("not UTF-8"),
            "{err}"
        );
    }

    /// Accounts as the collector writes them, `users` each.
    fn accounts_of(users: &[&str]) -> String {
        let accounts: Vec<String> = users
            .iter()
            .enumerate()
            .map(|(i, users)| format!(r#"{{"account_id": "10000000000{i}", "users": {users}}}"#))
            .collect();
        format!(
            r#"{{"schema": "1.0", "collected_at": "2026-11-21T00:00:00Z", "accounts": [{}]}}"#,
            accounts.join(",\n")
        )
    }

    fn user(name: &str) -> String {
        format!(
            r#"{{"user_name": "{name}", "arn": "arn:aws:iam::1:user/{name}", "created_at": "2026-01-01T00:00:00Z", "mfa_active": false}}"#
        )
    }

    #[test]
    fn each_account_gets_its_own_users_from_the_threads_buffer() {
        let (a, b, c) = (user("a"), user("b"), user("c"));
        let text = accounts_of(&[&format!("[{a}, {b}]"), "[]", &format!("[{c}]")]);
        let snapshot = parse_snapshot(&text, "s.json").unwrap();
        let names: Vec<Vec<&str>> = snapshot
            .accounts
            .iter()
            .map(|a| a.users.iter().map(|u| u.user_name.as_str()).collect())
            .collect();
        assert_eq!(names, [vec!["a", "b"], vec![], vec!["c"]]);
        assert_eq!(
            snapshot.accounts[0].users.capacity(),
            2,
            "one allocation, exact"
        );
        // The fast parse (an account per core) of the collector's layout reads the same.
        let pretty = serde_json::to_string_pretty(&snapshot).unwrap();
        assert_eq!(
            super::super::split::parse(pretty.as_bytes()),
            Some(snapshot)
        );
    }

    #[test]
    fn a_bad_user_is_named_and_leaves_nothing_behind() {
        let (a, b) = (user("a"), user("b"));
        let bad = r#"{"user_name": "x", "arn": "y", "created_at": "2026-01-01T00:00:00Z", "mfa_active": "no"}"#;
        let err = parse_snapshot(&accounts_of(&[&format!("[{a},\n{bad}]")]), "s.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("s.json:2:") && err.contains("accounts[0].users[1].mfa_active"),
            "{err}"
        );
        // The users read before the error are not carried into the next account read.
        let snapshot = parse_snapshot(&accounts_of(&[&format!("[{b}]")]), "s.json").unwrap();
        assert_eq!(snapshot.accounts[0].users.len(), 1);
        assert_eq!(snapshot.accounts[0].users[0].user_name, "b");
        // Users that are not a list: the error a plain list gives.
        let err = parse_snapshot(&accounts_of(&["null"]), "s.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("accounts[0].users") && err.contains("expected a sequence"),
            "{err}"
        );
    }
}
