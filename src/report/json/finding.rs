//! A finding as pretty JSON, written by hand.
//!
//! Findings are nearly all of a report (half a million of them at 100,000 users), and
//! `serde_json` spends most of its time there checking strings one byte at a time for characters
//! to escape. This writer knows the shape of a [`Finding`], writes straight into the batch's
//! buffer, and checks each string in one pass the compiler vectorises; the rare string that
//! needs escaping goes to `serde_json`. The bytes are exactly those of `serde_json`'s pretty
//! printer for the derived `Serialize` (the module's tests compare the two).

use serde_json::Value;

use crate::evaluate::finding::{Detail, Fields, Remediation, Resource};
use crate::evaluate::Finding;

/// Write `finding` as an object whose `{` starts at the cursor, `depth` levels deep.
pub(super) fn write(out: &mut Vec<u8>, finding: &Finding, depth: usize) {
    // Destructured without `..`: a new field must be added here before this compiles.
    let Finding {
        rule_id,
        slug,
        title,
        severity,
        account_id,
        account_alias,
        resource,
        message,
        remediation,
        details,
        fingerprint,
        suppressed,
        exception,
    } = finding;
    let mut o = Object::open(out, depth);
    o.string("rule_id", rule_id);
    o.string("slug", slug);
    o.string("title", title);
    o.string("severity", severity.as_str());
    o.string("account_id", account_id);
    if let Some(alias) = account_alias {
        o.string("account_alias", alias);
    }
    o.key("resource");
    write_resource(o.out, resource, o.depth);
    o.string("message", message);
    if let Some(remediation) = remediation {
        o.key("remediation");
        write_remediation(o.out, remediation, o.depth);
    }
    if !details.is_empty() {
        o.key("details");
        write_fields(o.out, details, o.depth);
    }
    o.string("fingerprint", fingerprint);
    o.key("suppressed");
    o.out
        .extend_from_slice(if *suppressed { b"true" } else { b"false" });
    if let Some(exception) = exception {
        o.key("exception");
        // Rare (a finding an exception matched): serde_json, opened at this depth.
        super::erased::Json::write_nested(exception, o.out, o.depth).expect("writing to memory");
    }
    o.close();
}

fn write_resource(out: &mut Vec<u8>, resource: &Resource, depth: usize) {
    let Resource {
        kind,
        id,
        arn,
        user,
    } = resource;
    let mut o = Object::open(out, depth);
    o.string("type", kind);
    o.string("id", id);
    o.string("arn", arn);
    if let Some(user) = user {
        o.string("user", user);
    }
    o.close();
}

fn write_remediation(out: &mut Vec<u8>, remediation: &Remediation, depth: usize) {
    let Remediation {
        summary,
        action,
        params,
    } = remediation;
    let mut o = Object::open(out, depth);
    if let Some(summary) = summary {
        o.string("summary", summary);
    }
    if let Some(action) = action {
        o.string("action", action);
    }
    if !params.is_empty() {
        o.key("params");
        write_fields(o.out, params, o.depth);
    }
    o.close();
}

fn write_fields(out: &mut Vec<u8>, fields: &Fields, depth: usize) {
    let mut o = Object::open(out, depth);
    for (k, v) in fields.iter() {
        o.any_key(k);
        match v {
            Detail::Null => o.out.extend_from_slice(b"null"),
            Detail::Bool(b) => o.out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Detail::Int(n) => {
                use std::io::Write;
                write!(o.out, "{n}").expect("writing to memory");
            }
            Detail::Str(s) => string(o.out, s),
            Detail::Objects(items) => {
                o.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    line(o.out, i == 0, o.depth + 1);
                    write_fields(o.out, item, o.depth + 1);
                }
                o.out.push(b'\n');
                indent(o.out, o.depth);
                o.out.push(b']');
            }
            Detail::Json(v) => write_value(o.out, v, o.depth),
        }
    }
    o.close();
}

fn write_map(out: &mut Vec<u8>, map: &serde_json::Map<String, Value>, depth: usize) {
    let mut o = Object::open(out, depth);
    for (k, v) in map {
        o.any_key(k);
        write_value(o.out, v, o.depth);
    }
    o.close();
}

fn write_value(out: &mut Vec<u8>, value: &Value, depth: usize) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        // `Number`'s `Display` is serde_json's own spelling (itoa, ryu).
        Value::Number(n) => {
            use std::io::Write;
            write!(out, "{n}").expect("writing to memory");
        }
        Value::String(s) => string(out, s),
        Value::Array(items) if items.is_empty() => out.extend_from_slice(b"[]"),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                line(out, i == 0, depth + 1);
                write_value(out, item, depth + 1);
            }
            out.push(b'\n');
            indent(out, depth);
            out.push(b']');
        }
        Value::Object(map) => write_map(out, map, depth),
    }
}

/// An object being written: its members go one per line, a level deeper than its braces.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    /// The depth of the members.
    depth: usize,
    empty: bool,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut Vec<u8>, depth: usize) -> Object<'a> {
        out.push(b'{');
        Object {
            out,
            depth: depth + 1,
            empty: true,
        }
    }

    /// A member's key known to need no escaping (a name in this file); its value is written
    /// next, at `self.depth`.
    fn key(&mut self, key: &'static str) {
        debug_assert!(!needs_escaping(key.as_bytes()));
        line(self.out, self.empty, self.depth);
        self.empty = false;
        self.out.reserve(key.len() + 4);
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\": ");
    }

    /// A member's key from the data (a detail's name), escaped if it must be.
    fn any_key(&mut self, key: &str) {
        line(self.out, self.empty, self.depth);
        self.empty = false;
        string(self.out, key);
        self.out.extend_from_slice(b": ");
    }

    fn string(&mut self, key: &'static str, value: &str) {
        self.key(key);
        string(self.out, value);
    }

    fn close(self) {
        if !self.empty {
            self.out.push(b'\n');
            indent(self.out, self.depth - 1);
        }
        self.out.push(b'}');
    }
}

/// The line break before an element: `,` after the previous one, then the indent.
fn line(out: &mut Vec<u8>, first: bool, depth: usize) {
    // `,` then a line break and 32 levels of indent, cut to what is wanted.
    const BREAK: &[u8; 66] = b",\n                                                                ";
    let from = usize::from(first);
    match BREAK.get(from..2 + depth * 2) {
        Some(text) => out.extend_from_slice(text),
        None => {
            out.extend_from_slice(&BREAK[from..2]);
            indent(out, depth);
        }
    }
}

fn indent(out: &mut Vec<u8>, depth: usize) {
    out.resize(out.len() + depth * 2, b' ');
}

/// A JSON string. Nearly every string needs no escaping, and is copied whole.
fn string(out: &mut Vec<u8>, s: &str) {
    if needs_escaping(s.as_bytes()) {
        serde_json::to_writer(&mut *out, s).expect("writing to memory");
        return;
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// Whether serde_json would escape any byte: a control character, `"` or `\`.
///
/// Eight bytes at a time in a word (most strings here are short, where a vectorised loop spends
/// its time in the scalar tail). The tail is read as words that overlap bytes already checked,
/// never copied to a padded buffer: the copy's narrow stores and the wide load after them
/// stalled the processor on every string (a fifth of the writer's time, measured with perf).
fn needs_escaping(bytes: &[u8]) -> bool {
    let n = bytes.len();
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
    let half = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"));
    let found = if n >= 8 {
        let mut found = 0;
        let mut at = 0;
        while at + 8 <= n {
            found |= escapes_in(word(at));
            at += 8;
        }
        if at < n {
            found |= escapes_in(word(n - 8));
        }
        found
    } else if n >= 4 {
        escapes_in(u64::from(half(0)) | u64::from(half(n - 4)) << 32)
    } else if n > 0 {
        // Bytes 0, n/2 and n-1 cover a string of 1 to 3; the rest of the word is spaces.
        let three =
            u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8 | u64::from(bytes[n - 1]) << 16;
        escapes_in(three | u64::from_le_bytes(*b"     \0\0\0") << 24)
    } else {
        0
    };
    found != 0
}

/// Non-zero when a byte of `word` is below 0x20, `"` or `\` (the bit tricks "has less than" and
/// "has zero byte", exact for the word as a whole).
fn escapes_in(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    control
        | zero_byte(word ^ (ONES * u64::from(b'"')))
        | zero_byte(word ^ (ONES * u64::from(b'\\')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pretty<T: serde::Serialize>(value: &T) -> String {
        String::from_utf8(serde_json::to_vec_pretty(value).unwrap()).unwrap()
    }

    fn ours(f: &Finding, depth: usize) -> String {
        let mut out = Vec::new();
        write(&mut out, f, depth);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escaping_is_detected_in_any_position() {
        assert!(!needs_escaping(b""));
        assert!(!needs_escaping(
            "plain ascii / and unicode é ✓ 😀".as_bytes()
        ));
        for bad in ["\"", "\\", "\n", "\t", "\u{1}", "\u{1f}"] {
            for at in [0, 1, 15, 16, 17, 40] {
                let s = format!("{}{bad}{}", "a".repeat(at), "b".repeat(20));
                assert!(needs_escaping(s.as_bytes()), "{bad:?} at {at}");
            }
        }
        assert!(!needs_escaping("\u{7f} \u{20}".as_bytes()));
        // Every byte value, in every position of a word and of the padded tail, beside bytes
        // that might borrow or carry into it.
        for byte in 0..=255u8 {
            let expected = byte < 0x20 || byte == b'"' || byte == b'\\';
            for neighbour in [b'a', 0x00, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff] {
                if neighbour < 0x20 || neighbour == b'"' || neighbour == b'\\' {
                    continue;
                }
                for len in 1..=17 {
                    for at in 0..len {
                        let mut s = vec![neighbour; len];
                        s[at] = byte;
                        assert_eq!(needs_escaping(&s), expected, "{byte:#x} at {at} of {len}");
                    }
                }
            }
        }
    }

    /// Every optional part present and absent, strings that need escaping, nested values.
    #[test]
    fn findings_are_written_as_serde_json_pretty_writes_them() {
        let tricky = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} é ✓ 😀 \u{7f}";
        let mut details = crate::evaluate::finding::Fields::new();
        details.insert("age_days", Value::from(412));
        details.insert("negative", Value::from(-3));
        details.insert("ratio", Value::from(0.25));
        details.insert("big", Value::from(u64::MAX));
        details.insert("never_used", Value::Bool(true));
        details.insert("nothing", Value::Null);
        details.insert(tricky, Value::from(tricky));
        details.insert("empty_list", Value::Array(vec![]));
        details.insert("empty_object", Value::Object(serde_json::Map::new()));
        details.insert(
            "keys",
            serde_json::json!([{"id": "AKIA1", "slot": 1, "tags": {"a": [1, [2, {}], "x"]}}, null]),
        );
        let full = Finding {
            rule_id: "CW101".into(),
            slug: "unused-access-key".into(),
            title: tricky.into(),
            severity: crate::evaluate::Severity::High,
            account_id: "111122223333".into(),
            account_alias: Some("prod".into()),
            resource: Resource {
                kind: "aws_iam_access_key".into(),
                id: "AKIA1".into(),
                arn: "arn:aws:iam::111122223333:user/a\"b".into(),
                user: Some("a\"b".into()),
            },
            message: tricky.into(),
            remediation: Some(Remediation {
                summary: Some("Deactivate it".into()),
                action: Some("deactivate_access_key".into()),
                params: details.clone(),
            }),
            details,
            fingerprint: "0123456789abcdef0123456789abcdef".into(),
            suppressed: true,
            exception: Some(Box::new(crate::evaluate::finding::AppliedException {
                status: "active",
                resource: "AKIA*".into(),
                reason: tricky.into(),
                owner: "team".into(),
                expires: "2027-01-01".parse().unwrap(),
            })),
        };
        let mut bare = full.clone();
        bare.account_alias = None;
        bare.resource.user = None;
        bare.remediation = None;
        bare.details = Default::default();
        bare.suppressed = false;
        bare.exception = None;
        let mut empty_remediation = bare.clone();
        empty_remediation.remediation = Some(Remediation {
            summary: None,
            action: None,
            params: Default::default(),
        });
        let mut params_only = bare.clone();
        params_only.remediation = Some(Remediation {
            summary: None,
            action: None,
            params: full.details.clone(),
        });
        for f in [&full, &bare, &empty_remediation, &params_only] {
            assert_eq!(ours(f, 0), pretty(f));
            // Deeper: what serde_json writes for the finding inside two arrays.
            let nested = pretty(&[[f]]);
            let inner = nested
                .strip_prefix("[\n  [\n    ")
                .and_then(|s| s.strip_suffix("\n  ]\n]"))
                .unwrap();
            assert_eq!(ours(f, 2), inner);
        }
    }
}
