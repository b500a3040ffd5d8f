//! The JSON report: run metadata and every finding (suppressed ones marked, never dropped).
//!
//! The report's members come in the order they can be known: what ran and over what (`tool`,
//! `evaluated_at`, `input`, `accounts`, `rules`), then the `findings`, then what counting them
//! tells (`summary`, and what each of the config's `exceptions` matched). So a scan writes its
//! report in one pass as the findings are made — to a file or down a pipe — holding neither the
//! findings nor their text.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::{account_summaries, severity_counts, Report};
use crate::evaluate::{Evaluation, ExceptionStatus, Finding, FindingStream, RuleMetadata};
use crate::snapshot::LoadedSnapshot;

mod finding;

pub fn render(report: &Report) -> String {
    let mut out = Vec::with_capacity(1024 + report.evaluation.findings.len() * 1200);
    write(report, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Write the report to `out` as it is serialised, straight from the findings (no intermediate
/// JSON tree, no whole text in memory): at 100,000 users a report holds half a million findings.
///
/// The text is exactly what `serde_json::to_writer_pretty` makes of the document, but the
/// findings — nearly all of it — are serialised in batches on every core while this thread
/// writes the batches already done, in order.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    write_with_batches(report, out, FINDINGS_PER_BATCH)
}

/// Findings a worker serialises at a time: large enough to amortise the hand-over, small enough
/// that the batches in flight stay a few megabytes.
const FINDINGS_PER_BATCH: usize = 1024;

fn write_with_batches(report: &Report, out: &mut dyn Write, batch: usize) -> std::io::Result<()> {
    let ev = report.evaluation;
    let head = head(
        Run::of(ev),
        report.input,
        report.config_path.as_deref(),
        &report.policy_dirs,
    );
    write_head(&head, out)?;
    parallel::write_array(&ev.findings, out, 2, batch, finding::write)?;
    write_tail(&tail(ev), !ev.findings.is_empty(), out)
}

/// Write the JSON report of the evaluation `stream` makes — the same bytes [`write()`] writes of
/// that evaluation made whole — and return the evaluation (without its findings).
///
/// The findings are serialised a section at a time, on the core that made the section, as soon
/// as it is made, written, and dropped: at 100,000 users that is half a million findings (and
/// 600 MB of text) never held at once.
pub fn write_streamed<W: Write + ?Sized>(
    stream: FindingStream,
    input: &LoadedSnapshot,
    config_path: Option<PathBuf>,
    policy_dirs: Vec<PathBuf>,
    redact: bool,
    out: &mut W,
) -> std::io::Result<Evaluation> {
    let mut sections = Sections::begin(
        &stream,
        input,
        config_path.as_deref(),
        &policy_dirs,
        redact,
        out,
    )?;
    let evaluation = stream.run(
        |findings| Sections::render(&findings, redact),
        |text| sections.write(&text, out),
    )?;
    sections.end(&evaluation, out)?;
    Ok(evaluation)
}

/// A JSON report written section by section as an evaluation streams (the parts of
/// [`write_streamed`], for writers of several files from one stream, such as the evidence
/// bundle): [`Sections::begin`] writes the head, [`Sections::render`] makes a section's text on
/// the core that made the section, [`Sections::write`] writes it, and [`Sections::end`] writes
/// the counts.
#[derive(Debug)]
pub struct Sections {
    redact: bool,
    /// Whether a finding has been written (the first has no separator).
    any: bool,
}

impl Sections {
    /// Write the report's head: everything known before the findings.
    pub fn begin<W: Write + ?Sized>(
        stream: &FindingStream,
        input: &LoadedSnapshot,
        config_path: Option<&Path>,
        policy_dirs: &[PathBuf],
        redact: bool,
        out: &mut W,
    ) -> std::io::Result<Sections> {
        let run = Run {
            evaluated_at: stream.evaluated_at(),
            rules: stream.rules(),
            policy_digest: stream.policy_digest(),
        };
        let mut text = Vec::new();
        write_head(&head(run, input, config_path, policy_dirs), &mut text)?;
        Self::emit(&text, redact, out)?;
        Ok(Sections { redact, any: false })
    }

    /// A section's text (masked when `redact`), made on any core.
    pub fn render(findings: &[Finding], redact: bool) -> Vec<u8> {
        let mut text = Vec::with_capacity(findings.len() * 1536);
        for f in findings {
            text.extend_from_slice(b",\n");
            nested::indent(&mut text, 2).expect("writing to memory");
            finding::write(&mut text, f, 2);
        }
        // Masked here, on the core that made the section, rather than by the writer.
        if redact {
            let masked = super::redact::redact(std::str::from_utf8(&text).expect("UTF-8"));
            text = masked.into_bytes();
        }
        text
    }

    /// Write a section's text, in report order.
    pub fn write<W: Write + ?Sized>(&mut self, text: &[u8], out: &mut W) -> std::io::Result<()> {
        // Every finding's text starts with the separator `,`; the report's first does not.
        let skip = usize::from(!self.any && !text.is_empty());
        self.any |= !text.is_empty();
        out.write_all(&text[skip..])
    }

    /// Write what follows the findings: the counts of `evaluation` (the stream's).
    pub fn end<W: Write + ?Sized>(
        self,
        evaluation: &Evaluation,
        out: &mut W,
    ) -> std::io::Result<()> {
        let mut text = Vec::new();
        write_tail(&tail(evaluation), self.any, &mut text)?;
        Self::emit(&text, self.redact, out)
    }

    /// Every piece ends with `[`, `}` or a line end: masked piece by piece, it is masked as a
    /// whole (see `redact::write_piece`).
    fn emit<W: Write + ?Sized>(piece: &[u8], redact: bool, out: &mut W) -> std::io::Result<()> {
        let piece = std::str::from_utf8(piece).expect("JSON of UTF-8 text");
        super::redact::write_piece(out, piece, redact)
    }
}

/// What the report says of the run before it has any finding.
struct Run<'a> {
    evaluated_at: DateTime<Utc>,
    rules: &'a [RuleMetadata],
    policy_digest: &'a str,
}

impl Run<'_> {
    fn of(ev: &Evaluation) -> Run<'_> {
        Run {
            evaluated_at: ev.evaluated_at,
            rules: &ev.rules,
            policy_digest: &ev.policy_digest,
        }
    }
}

/// The members before the findings.
#[derive(Serialize)]
struct Head {
    tool: Value,
    evaluated_at: String,
    input: Value,
    accounts: Vec<Value>,
    rules: Vec<Value>,
}

/// The members after the findings: what counting them tells.
#[derive(Serialize)]
struct Tail<'a> {
    summary: Value,
    exceptions: &'a [ExceptionStatus],
}

fn head(
    run: Run,
    input: &LoadedSnapshot,
    config_path: Option<&Path>,
    policy_dirs: &[PathBuf],
) -> Head {
    let snap = &input.snapshot;
    let accounts: Vec<Value> = account_summaries(snap)
        .into_iter()
        .map(|a| {
            json!({
                "account_id": a.account_id,
                "alias": a.alias,
                "users": a.users,
                "access_keys": a.access_keys,
                "credential_report_generated_at": a.report_generated_at,
                "credential_report_age_hours": a.report_generated_at.map(|g| ((run.evaluated_at - g).num_minutes() as f64 / 60.0 * 100.0).round() / 100.0),
                "error": a.error,
            })
        })
        .collect();
    let rules: Vec<Value> = run
        .rules
        .iter()
        .map(|r| json!({"id": r.id, "slug": r.slug, "title": r.title, "severity": r.severity, "controls": r.controls, "source": r.file, "bundled": r.bundled}))
        .collect();
    Head {
        tool: json!({"name": "credwarden", "version": env!("CARGO_PKG_VERSION")}),
        evaluated_at: run
            .evaluated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        input: json!({
            "kind": input.kind.as_str(),
            "path": super::relative_uri(&input.path),
            "schema": snap.schema,
            "source": snap.source,
            "collected_at": snap.collected_at,
            "config": config_path.map(super::relative_uri),
            "policy_dirs": policy_dirs.iter().map(|p| super::relative_uri(p)).collect::<Vec<_>>(),
            "policy_digest": run.policy_digest,
        }),
        accounts,
        rules,
    }
}

fn tail(ev: &Evaluation) -> Tail<'_> {
    let by_severity: serde_json::Map<String, Value> = severity_counts(ev)
        .into_iter()
        .map(|(s, n)| (s.to_string(), json!(n)))
        .collect();
    Tail {
        summary: json!({
            "findings": ev.tally.open(),
            "suppressed": ev.tally.suppressed(),
            "by_severity": by_severity,
        }),
        exceptions: &ev.exceptions,
    }
}

/// Everything before the findings' elements: the run's metadata and `"findings": [`.
fn write_head(head: &Head, out: &mut dyn Write) -> std::io::Result<()> {
    let Head {
        tool,
        evaluated_at,
        input,
        accounts,
        rules,
    } = head;
    out.write_all(b"{")?;
    let members: [(&str, &dyn erased::Json); 5] = [
        ("tool", tool),
        ("evaluated_at", evaluated_at),
        ("input", input),
        ("accounts", accounts),
        ("rules", rules),
    ];
    for (key, value) in members {
        write!(out, "\n  \"{key}\": ")?;
        value.write_nested(out, 1)?;
        out.write_all(b",")?;
    }
    out.write_all(b"\n  \"findings\": [")
}

/// Everything after the findings' elements: the end of the array, the counts, the end.
fn write_tail(tail: &Tail, any_findings: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let Tail {
        summary,
        exceptions,
    } = tail;
    if any_findings {
        out.write_all(b"\n  ")?;
    }
    out.write_all(b"]")?;
    let members: [(&str, &dyn erased::Json); 2] =
        [("summary", summary), ("exceptions", exceptions)];
    for (key, value) in members {
        write!(out, ",\n  \"{key}\": ")?;
        value.write_nested(out, 1)?;
    }
    out.write_all(b"\n}\n")
}

/// The whole document as `serde_json` would write it: what the writers above must match.
#[cfg(test)]
#[derive(Serialize)]
struct Document<'a> {
    #[serde(flatten)]
    head: Head,
    findings: &'a [crate::evaluate::Finding],
    #[serde(flatten)]
    tail: Tail<'a>,
}

#[cfg(test)]
fn document<'a>(report: &'a Report) -> Document<'a> {
    let ev = report.evaluation;
    Document {
        head: head(
            Run::of(ev),
            report.input,
            report.config_path.as_deref(),
            &report.policy_dirs,
        ),
        findings: &ev.findings,
        tail: tail(ev),
    }
}

/// Pretty JSON that starts at a given depth, so that parts of one document can be serialised
/// apart (and in parallel) and still come out as `serde_json::to_writer_pretty` writes the whole.
pub(crate) mod nested {
    use std::io::{self, Write};

    /// `serde_json`'s pretty formatter (two-space indent), opened `depth` levels deep.
    pub struct Nested {
        depth: usize,
        has_value: bool,
    }

    impl Nested {
        pub fn at(depth: usize) -> Nested {
            Nested {
                depth,
                has_value: false,
            }
        }
    }

    pub fn indent<W: ?Sized + Write>(w: &mut W, depth: usize) -> io::Result<()> {
        const SPACES: &[u8] = &[b' '; 64];
        let mut n = depth * 2;
        while n > 0 {
            let take = n.min(SPACES.len());
            w.write_all(&SPACES[..take])?;
            n -= take;
        }
        Ok(())
    }

    impl Nested {
        fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
            self.depth += 1;
            self.has_value = false;
            w.write_all(bracket)
        }

        fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
            self.depth -= 1;
            if self.has_value {
                w.write_all(b"\n")?;
                indent(w, self.depth)?;
            }
            w.write_all(bracket)
        }

        fn next_line<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
            w.write_all(if first { b"\n" } else { b",\n" })?;
            indent(w, self.depth)
        }
    }

    impl serde_json::ser::Formatter for Nested {
        fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.open(w, b"[")
        }

        fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.close(w, b"]")
        }

        fn begin_array_value<W: ?Sized + Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> io::Result<()> {
            self.next_line(w, first)
        }

        fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
            self.has_value = true;
            Ok(())
        }

        fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.open(w, b"{")
        }

        fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
            self.close(w, b"}")
        }

        fn begin_object_key<W: ?Sized + Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> io::Result<()> {
            self.next_line(w, first)
        }

        fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
            w.write_all(b": ")
        }

        fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
            self.has_value = true;
            Ok(())
        }
    }
}

/// Serialising a value of any type at a depth, through a `dyn` reference.
mod erased {
    use std::io::{self, Write};

    use serde::Serialize;

    use super::nested::Nested;

    pub trait Json {
        fn write_nested(&self, out: &mut dyn Write, depth: usize) -> io::Result<()>;
    }

    impl<T: Serialize + ?Sized> Json for T {
        fn write_nested(&self, out: &mut dyn Write, depth: usize) -> io::Result<()> {
            let mut ser = serde_json::Serializer::with_formatter(out, Nested::at(depth));
            self.serialize(&mut ser).map_err(io::Error::from)
        }
    }
}

/// The elements of a large array, serialised on every core and written in order.
mod parallel {
    use std::io::{self, Write};

    use super::nested::indent;

    /// Write the elements of an array opened at `depth - 1` (the `[` is written, the closing
    /// newline and `]` are not), each element on its own line at `depth`.
    pub fn write_array<T: Sync>(
        items: &[T],
        out: &mut dyn Write,
        depth: usize,
        batch: usize,
        write_item: fn(&mut Vec<u8>, &T, usize),
    ) -> io::Result<()> {
        let batches: Vec<&[T]> = items.chunks(batch.max(1)).collect();
        let make = |_: &mut (), i: usize| serialise(batches[i], i == 0, depth, write_item);
        crate::parallel::in_order(batches.len(), || (), make, &mut |text: Vec<u8>| {
            out.write_all(&text)
        })
        .map(drop)
    }

    /// One batch: each element preceded by the separator and indent the pretty printer writes.
    fn serialise<T>(
        chunk: &[T],
        first: bool,
        depth: usize,
        write_item: fn(&mut Vec<u8>, &T, usize),
    ) -> Vec<u8> {
        let mut buf = Vec::with_capacity(chunk.len() * 1536);
        for (j, item) in chunk.iter().enumerate() {
            buf.extend_from_slice(if first && j == 0 { b"\n" } else { b",\n" });
            indent(&mut buf, depth).expect("writing to memory");
            write_item(&mut buf, item, depth);
        }
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batched, parallel writer gives exactly the bytes of serde_json's pretty printer.
    #[test]
    fn batched_output_is_serde_json_pretty() {
        let input = crate::snapshot::load::load_snapshot(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/demo/snapshot.json"
        )))
        .unwrap();
        let ctx = crate::evaluate::Context {
            now: "2026-11-21T00:00:00Z".parse().unwrap(),
            config: crate::config::Config::default(),
        };
        let evaluation =
            crate::evaluate::Evaluator::new(crate::evaluate::PolicySet::load(&[]).unwrap())
                .unwrap()
                .evaluate(&input.snapshot, &ctx)
                .unwrap();
        let report = Report {
            evaluation: &evaluation,
            input: &input,
            config_path: None,
            policy_dirs: vec![],
        };
        assert!(report.evaluation.findings.len() > 10);
        let mut expected = serde_json::to_vec_pretty(&document(&report)).unwrap();
        expected.push(b'\n');
        for batch in [1, 3, 7, 1024] {
            let mut out = Vec::new();
            write_with_batches(&report, &mut out, batch).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(expected.clone()).unwrap(),
                "batch size {batch}"
            );
        }

        let mut none = evaluation.clone();
        none.findings.clear();
        let report = Report {
            evaluation: &none,
            ..report
        };
        let mut expected = serde_json::to_vec_pretty(&document(&report)).unwrap();
        expected.push(b'\n');
        let mut out = Vec::new();
        write(&report, &mut out).unwrap();
        assert_eq!(out, expected);
    }

    /// The streamed report is the report of the whole evaluation, byte for byte: with and
    /// without exceptions (in force, expired, unused), with no findings at all, and with accounts
    /// that share an id or are out of order.
    #[test]
    fn streamed_report_is_the_whole_report() {
        use crate::evaluate::{Context, Evaluator, PolicySet};
        let mut snapshot = crate::synthetic::generate(crate::synthetic::Spec {
            seed: 7,
            accounts: 4,
            users: 300,
        });
        let twin = snapshot.accounts[1].clone();
        snapshot.accounts.reverse();
        snapshot.accounts.push(twin);
        let input = LoadedSnapshot::from_file(snapshot, PathBuf::from("synthetic.json"));
        let exceptions = crate::config::Config::parse(
            "exceptions:\n  - rule: CW304\n    resource: '*user-1*'\n    reason: r\n    owner: o\n    expires: 2027-01-01\n  - rule: cw101\n    resource: '*'\n    reason: r\n    owner: o\n    expires: 2026-01-01\n  - rule: CW999\n    resource: '*'\n    reason: r\n    owner: o\n    expires: 2027-01-01\n",
            "exceptions.yaml",
        )
        .unwrap();
        let nothing = crate::config::Config::parse(
            "rules:\n  disable: [CW101, CW102, CW103, CW104, CW105, CW201, CW202, CW203, CW301, CW302, CW303, CW304, CW305, CW401, CW402, CW901, CW902]\n",
            "nothing.yaml",
        )
        .unwrap();
        for (name, config) in [
            ("default", crate::config::Config::default()),
            ("exceptions", exceptions),
            ("nothing", nothing),
        ] {
            let ctx = Context {
                now: "2026-11-21T00:00:00Z".parse().unwrap(),
                config,
            };
            let mut evaluator = Evaluator::new(PolicySet::load(&[]).unwrap()).unwrap();
            let whole = evaluator.evaluate(&input.snapshot, &ctx).unwrap();
            let report = Report {
                evaluation: &whole,
                input: &input,
                config_path: None,
                policy_dirs: vec![],
            };
            let mut expected = Vec::new();
            write(&report, &mut expected).unwrap();
            let stream = evaluator.stream(&input.snapshot, &ctx).unwrap();
            let mut out = Vec::new();
            let streamed = write_streamed(stream, &input, None, vec![], false, &mut out).unwrap();
            assert!(out == expected, "{name}: the streamed report differs");
            // Masked piece by piece, it is the whole report masked.
            let stream = evaluator.stream(&input.snapshot, &ctx).unwrap();
            let mut masked = Vec::new();
            write_streamed(stream, &input, None, vec![], true, &mut masked).unwrap();
            let expected_masked =
                crate::report::redact::redact(std::str::from_utf8(&expected).unwrap());
            assert!(
                masked == expected_masked.as_bytes(),
                "{name}: the masked streamed report differs"
            );
            if name != "nothing" {
                assert!(masked != out, "{name}: there were ids to mask");
            }
            // Valid JSON, with the counts after the findings.
            let doc: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(
                doc["summary"]["findings"],
                json!(doc["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["suppressed"] == json!(false))
                    .count())
            );
            assert_eq!(streamed.tally, whole.tally, "{name}");
            assert_eq!(streamed.rule_timings.len(), whole.rule_timings.len());
            assert!(streamed.findings.is_empty());
            if name == "nothing" {
                assert!(whole.findings.is_empty());
            } else {
                assert!(whole.findings.len() > 500, "{name}");
            }
            if name == "exceptions" {
                let status: Vec<_> = whole
                    .exceptions
                    .iter()
                    .map(|e| (e.status, e.matched > 0))
                    .collect();
                assert_eq!(
                    status,
                    [("active", true), ("expired", true), ("unused", false)]
                );
                assert!(whole.tally.suppressed() > 0);
            }
        }
    }
}
