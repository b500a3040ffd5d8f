//! The journal: a JSON-lines record of every action, written before it starts and after it
//! ends, each line flushed and synced to disk. A crash loses nothing: re-running `apply` with the
//! same plan and journal resumes, and no action happens twice. `undo` reads it to restore what
//! was deactivated.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::plan::ActionKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The journal's first line: which plan it belongs to.
    Opened,
    Started,
    /// Done; `changed` says whether credwarden changed anything (false: already so).
    Done,
    /// Not done, and not to be retried: a precondition no longer holds.
    Skipped,
    /// Not done: an error; a re-run tries again.
    Failed,
    /// `undo` restored it.
    Undone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub event: Event,
    pub at: DateTime<Utc>,
    pub plan_digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// The SCP guardrail's policy id and the root or OU it was attached to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: cannot use the journal: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: the journal is not valid: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: this journal belongs to another plan (digest {found}, the plan's is {expected}); give each plan its own journal")]
    OtherPlan {
        path: String,
        found: String,
        expected: String,
    },
}

/// An open journal, appended to durably.
pub struct Journal {
    path: PathBuf,
    file: File,
    digest: String,
    records: Vec<Record>,
}

impl Journal {
    /// Open (or create) the journal of the plan with `digest`; its existing records are read.
    pub fn open(path: &Path, digest: &str) -> Result<Journal, JournalError> {
        let records = if path.exists() {
            read(path)?
        } else {
            Vec::new()
        };
        if let Some(first) = records.first() {
            if first.plan_digest != digest {
                return Err(JournalError::OtherPlan {
                    path: path.display().to_string(),
                    found: first.plan_digest.clone(),
                    expected: digest.to_string(),
                });
            }
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| io(path, source))?;
        // A line cut short by a crash is ended, so the next record starts on a line of its own.
        let bytes = std::fs::read(path).map_err(|source| io(path, source))?;
        if bytes.last().is_some_and(|b| *b != b'\n') {
            file.write_all(b"\n").map_err(|source| io(path, source))?;
        }
        let mut journal = Journal {
            path: path.to_path_buf(),
            file,
            digest: digest.to_string(),
            records,
        };
        if journal.records.is_empty() {
            journal.append(Record::new(Event::Opened, digest))?;
        }
        Ok(journal)
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Append a record, then flush and sync it to disk before returning.
    pub fn append(&mut self, record: Record) -> Result<(), JournalError> {
        let mut line = serde_json::to_string(&record).expect("a record serialises");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| io(&self.path, e))?;
        self.file.flush().map_err(|e| io(&self.path, e))?;
        self.file.sync_data().map_err(|e| io(&self.path, e))?;
        self.records.push(record);
        Ok(())
    }

    /// The last event of each action.
    pub fn last_events(&self) -> BTreeMap<String, &Record> {
        let mut last = BTreeMap::new();
        for r in &self.records {
            if let Some(id) = &r.action_id {
                last.insert(id.clone(), r);
            }
        }
        last
    }
}

impl Record {
    pub fn new(event: Event, digest: &str) -> Record {
        Record {
            event,
            at: Utc::now(),
            plan_digest: digest.to_string(),
            action_id: None,
            action: None,
            account_id: None,
            user_name: None,
            access_key_id: None,
            policy_id: None,
            target_id: None,
            changed: None,
            detail: None,
        }
    }
}

fn io(path: &Path, source: std::io::Error) -> JournalError {
    JournalError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Read every record. A last line cut short by a crash mid-write is ignored (it was never
/// synced as a whole record); any other bad line is an error naming it.
pub fn read(path: &Path) -> Result<Vec<Record>, JournalError> {
    let file = File::open(path).map_err(|e| io(path, e))?;
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| io(path, e))?;
    parse_lines(&lines, path)
}

/// Parse journal text (the records of [`read`]); `origin` names it in errors.
pub fn parse(text: &str, origin: &Path) -> Result<Vec<Record>, JournalError> {
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    parse_lines(&lines, origin)
}

fn parse_lines(lines: &[String], path: &Path) -> Result<Vec<Record>, JournalError> {
    let mut records = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => records.push(r),
            Err(_) if n + 1 == lines.len() => break,
            Err(e) => {
                return Err(JournalError::Invalid {
                    path: path.display().to_string(),
                    line: n + 1,
                    message: e.to_string(),
                })
            }
        }
    }
    Ok(records)
}
