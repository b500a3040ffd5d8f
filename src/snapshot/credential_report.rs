//! Reading the CSV of `aws iam get-credential-report` (base64-decoded) into a snapshot.
//!
//! The report is what auditors and users without credwarden's IAM permissions can get, so it is
//! a first-class input. It names key *slots* (1 and 2), not key ids, and uses the markers `N/A`,
//! `no_information` and `not_supported` for missing values; all of them become `null`. The
//! `<root_account>` row becomes the snapshot's root user. A UTF-8 BOM and CRLF line ends are
//! accepted, since the report often passes through spreadsheets and Windows tools.

use std::collections::HashMap;
use std::path::Path;

use chrono::DateTime;

use super::model::*;
use super::{InputKind, LoadedSnapshot};

/// Why a credential report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: cannot read the credential report: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the credential report is {message}")]
    TooLarge { path: String, message: String },
    #[error("{path}:{line}: {message}")]
    Row {
        path: String,
        line: u64,
        message: String,
    },
    #[error("{path}:{line}:{column}: field `{field}`: expected {expected}, found {found:?}")]
    Value {
        path: String,
        line: u64,
        column: usize,
        field: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error("{path}: {message}")]
    Report { path: String, message: String },
}

/// Columns credwarden reads; every one must be in the header.
const REQUIRED: [&str; 18] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "password_next_rotation",
];

const ROOT_USER: &str = "<root_account>";
/// Rows accepted: twice IAM's hard quota of 5,000 users per account, plus the root row.
const MAX_ROWS: usize = 10_001;
const TIMESTAMP: &str = "an ISO 8601 timestamp, N/A, no_information or not_supported";
const BOOLEAN: &str = "true, false, N/A or not_supported";

/// Read a credential report file. `generated_at` is the report's `GeneratedTime` when known
/// (the CSV itself does not carry it); `collected_at` is used as the snapshot's time.
pub fn load_credential_report(
    path: &Path,
    generated_at: Option<Timestamp>,
    collected_at: Timestamp,
) -> Result<LoadedSnapshot, ReportError> {
    let origin = path.display().to_string();
    let bytes = super::read_input(path).map_err(|e| match e {
        super::ReadError::Io(source) => ReportError::Io {
            path: origin.clone(),
            source,
        },
        super::ReadError::TooLarge { limit } => ReportError::TooLarge {
            path: origin.clone(),
            message: super::too_large(limit),
        },
    })?;
    let (snapshot, lines) = parse_credential_report(&bytes, &origin, generated_at, collected_at)?;
    Ok(LoadedSnapshot::with_lines(
        snapshot,
        path.to_path_buf(),
        InputKind::CredentialReport,
        lines,
    ))
}

/// Parse report bytes; `origin` names the source in errors. Returns the snapshot and the line of
/// each row, keyed by ARN.
pub fn parse_credential_report(
    bytes: &[u8],
    origin: &str,
    generated_at: Option<Timestamp>,
    collected_at: Timestamp,
) -> Result<(Snapshot, HashMap<String, u32>), ReportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let columns =
        Columns::from_header(reader.headers().map_err(|e| csv_error(e, origin))?, origin)?;

    let mut account_id: Option<String> = None;
    let mut root = None;
    let mut users = Vec::new();
    let mut lines = HashMap::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(e, origin))?;
        if n >= MAX_ROWS {
            return Err(ReportError::Row {
                path: origin.to_string(),
                line: record.position().map_or(0, |p| p.line()),
                message: format!(
                    "more than {MAX_ROWS} rows: a credential report covers one account, and IAM \
                     allows at most 5,000 users per account; is this file really a credential report?"
                ),
            });
        }
        let row = Row {
            record: &record,
            columns: &columns,
            origin,
            line: record.position().map_or(0, |p| p.line()),
        };
        let arn = row.text("arn")?.to_string();
        let row_account = account_of(&arn).ok_or_else(|| {
            row.invalid("arn", "an IAM ARN (arn:aws:iam::<12-digit account>:...)")
        })?;
        match &account_id {
            None => account_id = Some(row_account.to_string()),
            Some(a) if a != row_account => {
                return Err(ReportError::Row {
                    path: origin.into(),
                    line: row.line,
                    message: format!("ARN {arn} belongs to account {row_account}, but earlier rows belong to {a}: a report covers one account"),
                })
            }
            Some(_) => {}
        }
        lines.insert(arn.clone(), row.line as u32);
        if row.text("user")? == ROOT_USER {
            root = Some(row.root_user(arn)?);
        } else {
            users.push(row.user(arn)?);
        }
    }
    let account_id = account_id.ok_or_else(|| ReportError::Report {
        path: origin.into(),
        message: "the report has a header but no rows; expected at least the <root_account> row"
            .into(),
    })?;
    lines.insert(format!("account:{account_id}"), 2);
    let snapshot = Snapshot {
        schema: SCHEMA_VERSION.to_string(),
        generator: Generator {
            tool: "credwarden".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        collected_at,
        source: "credential-report".into(),
        organization: None,
        organization_error: None,
        accounts: vec![Account {
            account_id,
            alias: None,
            credential_report: Some(CredentialReportInfo { generated_at }),
            root,
            users,
            error: None,
        }],
        metadata: Default::default(),
    };
    Ok((snapshot, lines))
}

fn csv_error(err: csv::Error, origin: &str) -> ReportError {
    let line = err.position().map_or(0, |p| p.line());
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("row has {len} fields, expected {expected_len} like the header")
        }
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_string(),
        _ => err.to_string(),
    };
    ReportError::Row {
        path: origin.into(),
        line,
        message,
    }
}

fn account_of(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, _partition, service, _region, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let valid = prefix == "arn"
        && service == "iam"
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit());
    valid.then_some(account)
}

/// Index of each required column in the header.
struct Columns(HashMap<&'static str, usize>);

impl Columns {
    fn from_header(header: &csv::StringRecord, origin: &str) -> Result<Self, ReportError> {
        let mut map = HashMap::new();
        let missing: Vec<&str> = REQUIRED
            .iter()
            .filter(
                |name| match header.iter().position(|h| h.trim() == **name) {
                    Some(i) => {
                        map.insert(**name, i);
                        false
                    }
                    None => true,
                },
            )
            .copied()
            .collect();
        if missing.is_empty() {
            Ok(Columns(map))
        } else {
            Err(ReportError::Row {
                path: origin.into(),
                line: 1,
                message: format!(
                    "the header lacks column(s) {}; expected the header of `aws iam get-credential-report` (decoded)",
                    missing.join(", ")
                ),
            })
        }
    }
}

struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a Columns,
    origin: &'a str,
    line: u64,
}

impl Row<'_> {
    fn text(&self, field: &'static str) -> Result<&str, ReportError> {
        let i = self.columns.0[field];
        Ok(self.record.get(i).unwrap_or("").trim())
    }

    fn invalid(&self, field: &'static str, expected: &'static str) -> ReportError {
        ReportError::Value {
            path: self.origin.into(),
            line: self.line,
            column: self.columns.0[field] + 1,
            field,
            expected,
            found: self
                .record
                .get(self.columns.0[field])
                .unwrap_or("")
                .to_string(),
        }
    }

    fn timestamp(&self, field: &'static str) -> Result<Option<Timestamp>, ReportError> {
        match self.text(field)? {
            "N/A" | "no_information" | "not_supported" | "" => Ok(None),
            value => DateTime::parse_from_rfc3339(value)
                .map(|t| Some(t.to_utc()))
                .map_err(|_| self.invalid(field, TIMESTAMP)),
        }
    }

    fn required_timestamp(&self, field: &'static str) -> Result<Timestamp, ReportError> {
        self.timestamp(field)?
            .ok_or_else(|| self.invalid(field, "an ISO 8601 timestamp"))
    }

    fn flag(&self, field: &'static str) -> Result<Option<bool>, ReportError> {
        match self.text(field)? {
            "true" | "TRUE" | "True" => Ok(Some(true)),
            "false" | "FALSE" | "False" => Ok(Some(false)),
            "N/A" | "not_supported" | "no_information" => Ok(None),
            _ => Err(self.invalid(field, BOOLEAN)),
        }
    }

    fn optional_text(&self, field: &'static str) -> Result<Option<String>, ReportError> {
        Ok(match self.text(field)? {
            "N/A" | "no_information" | "not_supported" | "" => None,
            value => Some(value.to_string()),
        })
    }

    fn slot_fields(&self, slot: u8) -> SlotFields {
        if slot == 1 {
            SlotFields {
                active: "access_key_1_active",
                rotated: "access_key_1_last_rotated",
                used: "access_key_1_last_used_date",
                region: "access_key_1_last_used_region",
                service: "access_key_1_last_used_service",
            }
        } else {
            SlotFields {
                active: "access_key_2_active",
                rotated: "access_key_2_last_rotated",
                used: "access_key_2_last_used_date",
                region: "access_key_2_last_used_region",
                service: "access_key_2_last_used_service",
            }
        }
    }

    fn root_slot(&self, slot: u8) -> Result<RootKeySlot, ReportError> {
        let f = self.slot_fields(slot);
        Ok(RootKeySlot {
            slot,
            active: self.flag(f.active)?.unwrap_or(false),
            last_rotated: self.timestamp(f.rotated)?,
            last_used_at: self.timestamp(f.used)?,
            last_used_service: self.optional_text(f.service)?,
            last_used_region: self.optional_text(f.region)?,
        })
    }

    /// A user's key slot holds a key when it has a rotation (creation) date.
    fn user_key(&self, slot: u8) -> Result<Option<AccessKey>, ReportError> {
        let f = self.slot_fields(slot);
        let Some(created_at) = self.timestamp(f.rotated)? else {
            return Ok(None);
        };
        let active = self.flag(f.active)?.unwrap_or(false);
        Ok(Some(AccessKey {
            access_key_id: None,
            slot: Some(slot),
            status: if active {
                KeyStatus::Active
            } else {
                KeyStatus::Inactive
            },
            created_at,
            last_used_at: self.timestamp(f.used)?,
            last_used_service: self.optional_text(f.service)?,
            last_used_region: self.optional_text(f.region)?,
        }))
    }

    fn root_user(&self, arn: String) -> Result<RootUser, ReportError> {
        Ok(RootUser {
            arn,
            password_enabled: self.flag("password_enabled")?,
            password_last_used: self.timestamp("password_last_used")?,
            mfa_active: self.flag("mfa_active")?.unwrap_or(false),
            access_keys: vec![self.root_slot(1)?, self.root_slot(2)?],
            account_access_keys_present: None,
            account_mfa_enabled: None,
        })
    }

    fn user(&self, arn: String) -> Result<User, ReportError> {
        let user_name = self.text("user")?.to_string();
        let path = user_path(&arn, &user_name);
        let access_keys = [self.user_key(1)?, self.user_key(2)?]
            .into_iter()
            .flatten()
            .collect();
        Ok(User {
            user_name,
            user_id: None,
            arn,
            path,
            created_at: self.required_timestamp("user_creation_time")?,
            tags: Default::default(),
            password: Password {
                enabled: self.flag("password_enabled")?.unwrap_or(false),
                last_used: self.timestamp("password_last_used")?,
                last_changed: self.timestamp("password_last_changed")?,
            },
            mfa_active: self.flag("mfa_active")?.unwrap_or(false),
            access_keys,
        })
    }
}

struct SlotFields {
    active: &'static str,
    rotated: &'static str,
    used: &'static str,
    region: &'static str,
    service: &'static str,
}

/// `arn:aws:iam::123456789012:user/division/team/name` has the path `/division/team/`.
fn user_path(arn: &str, user_name: &str) -> String {
    arn.split_once(":user")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.strip_suffix(user_name))
        .filter(|p| p.starts_with('/'))
        .unwrap_or("/")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn now() -> Timestamp {
        "2026-11-21T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn path_comes_from_the_arn() {
        assert_eq!(
            user_path("arn:aws:iam::123456789012:user/a/b/bob", "bob"),
            "/a/b/"
        );
        assert_eq!(user_path("arn:aws:iam::123456789012:user/bob", "bob"), "/");
    }

    #[test]
    fn root_row_and_markers() {
        let csv = format!("{HEADER}\n<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,no_information,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,true,2021-05-01T00:00:00+00:00,2026-11-01T10:00:00+00:00,us-east-1,iam,false,N/A,false,N/A\r\n");
        let (snap, lines) = parse_credential_report(csv.as_bytes(), "r.csv", None, now()).unwrap();
        let root = snap.accounts[0].root.as_ref().unwrap();
        assert_eq!(root.password_enabled, None);
        assert_eq!(root.password_last_used, None);
        assert!(root.mfa_active);
        assert!(!root.access_keys[0].active && root.access_keys[0].last_rotated.is_none());
        assert!(root.access_keys[1].active);
        assert_eq!(
            root.access_keys[1].last_used_service.as_deref(),
            Some("iam")
        );
        assert_eq!(lines["arn:aws:iam::123456789012:root"], 2);
    }

    #[test]
    fn a_large_report_is_mapped_and_read_row_by_row() {
        // Long paths (IAM allows 512 characters), so that the report is over the size from
        // which files are mapped within the rows an account can have.
        let iam_path = format!("{}/", "/department".repeat(40));
        let row = |i: usize| {
            format!("user{i},arn:aws:iam::123456789012:user{iam_path}user{i},2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2021-05-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")
        };
        let mut csv = format!("{HEADER}\n");
        let mut users = 0;
        while csv.len() as u64 <= super::super::MAP_AT_LEAST {
            csv.push_str(&row(users));
            users += 1;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.csv");
        std::fs::write(&path, &csv).unwrap();
        assert!(matches!(
            super::super::read_input(&path).unwrap(),
            super::super::InputBytes::Mapped(_)
        ));
        let loaded = load_credential_report(&path, None, now()).unwrap();
        let account = &loaded.snapshot.accounts[0];
        assert_eq!(account.users.len(), users);
        assert_eq!(
            account.users[users - 1].user_name,
            format!("user{}", users - 1)
        );
        assert_eq!(account.users[users - 1].path, iam_path);
        // A bad row at the end of a mapped report is named by its line.
        csv.push_str("bob,arn:aws:iam::123456789012:user/bob,2020-01-01T00:00:00+00:00,true,yesterday,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n");
        std::fs::write(&path, &csv).unwrap();
        let err = load_credential_report(&path, None, now())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("report.csv:{}:5:", users + 2)),
            "{err}"
        );
    }

    #[test]
    fn bad_timestamp_names_line_column_and_field() {
        let csv = format!("{HEADER}\nbob,arn:aws:iam::123456789012:user/bob,2020-01-01T00:00:00+00:00,true,yesterday,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n");
        let err = parse_credential_report(csv.as_bytes(), "r.csv", None, now())
            .unwrap_err()
            .to_string();
        assert_eq!(err, "r.csv:2:5: field `password_last_used`: expected an ISO 8601 timestamp, N/A, no_information or not_supported, found \"yesterday\"");
    }

    #[test]
    fn short_row_names_its_line() {
        let csv = format!("{HEADER}\nbob,arn:aws:iam::123456789012:user/bob\n");
        let err = parse_credential_report(csv.as_bytes(), "r.csv", None, now())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "r.csv:2: row has 2 fields, expected 22 like the header"
        );
    }
}
