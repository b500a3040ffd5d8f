//! A snapshot's accounts parsed on every core.
//!
//! Parsing is most of loading a large snapshot, and one JSON document is parsed on one core. But
//! a snapshot in the layout `collect` writes (serde_json's pretty printer) shows where each
//! account begins without being parsed: an account is an element of the top-level `accounts`
//! array, so its `{` opens a line indented four spaces, and the array's `]` closes one indented
//! two — and a JSON string cannot hold a raw line break, so such a line is never inside one.
//! Cut there, the accounts are parsed apart on every core, and the rest of the document (the
//! accounts array emptied) on its own.
//!
//! The cut is checked, not trusted: every piece must parse as exactly one account, the rest as
//! a snapshot with no account, and the array must open at the top level. A document that is not
//! in that layout, or fails any check, is parsed whole as before ([`parse`] returns `None`), so
//! the result, and any error, is always the one-core parse's.

use memchr::memmem;

use super::{Account, Snapshot};

/// The snapshot in `bytes`, its accounts parsed on every core; `None` when the document is not
/// in the layout this needs (or is not a valid snapshot): parse it whole.
pub(super) fn parse(bytes: &[u8]) -> Option<Snapshot> {
    const OPEN: &[u8] = b"\n  \"accounts\": [";
    let open = memmem::find(bytes, OPEN)? + OPEN.len();
    // The array must be a member of the top-level object.
    if depth(&bytes[..open - 1])? != 1 {
        return None;
    }
    let close = open + memmem::find(&bytes[open..], b"\n  ]")?;
    let pieces = accounts(&bytes[open..close])?;
    if pieces.len() < 2 {
        return None; // nothing to share between cores
    }
    let mut rest = Vec::with_capacity(open + (bytes.len() - close));
    rest.extend_from_slice(&bytes[..open]);
    rest.extend_from_slice(&bytes[close..]);
    let mut snapshot: Snapshot = serde_json::from_slice(&rest).ok()?;
    if !snapshot.accounts.is_empty() {
        return None;
    }
    snapshot.accounts = parse_all(&pieces)?;
    Some(snapshot)
}

/// The elements of the array whose contents are `body`, cut where a line opens with `{` four
/// spaces in; `None` unless what lies between the cuts is only the `,` separators and space.
fn accounts(body: &[u8]) -> Option<Vec<&[u8]>> {
    const START: &[u8] = b"\n    {";
    let starts: Vec<usize> = memmem::find_iter(body, START)
        .map(|at| at + START.len() - 1)
        .collect();
    let (&first, _) = starts.split_first()?;
    if !body[..first].iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let ends = starts.iter().skip(1).copied().chain([body.len()]);
    let last = starts.len() - 1;
    starts
        .iter()
        .zip(ends)
        .enumerate()
        .map(|(i, (&start, end))| {
            let piece = body[start..end].trim_ascii_end();
            if i == last {
                Some(piece)
            } else {
                piece.strip_suffix(b",")
            }
        })
        .collect()
}

/// Every piece as an account, in order, on every core; `None` if any is not exactly one.
fn parse_all(pieces: &[&[u8]]) -> Option<Vec<Account>> {
    let mut accounts = Vec::with_capacity(pieces.len());
    let mut failed = false;
    let parse = |_: &mut (), i: usize| serde_json::from_slice::<Account>(pieces[i]).ok();
    crate::parallel::in_order(pieces.len(), || (), parse, &mut |account| {
        match account {
            Some(account) => accounts.push(account),
            None => failed = true,
        }
        Ok(())
    })
    .ok()?;
    (!failed).then_some(accounts)
}

/// How deeply nested the end of `text` is (`{` and `[` not closed, outside strings); `None`
/// when it ends inside a string or closes more than it opens.
fn depth(text: &[u8]) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth = depth.checked_sub(1)?,
                _ => {}
            }
        }
    }
    (!in_string).then_some(depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic(accounts: usize) -> Snapshot {
        crate::synthetic::generate(crate::synthetic::Spec {
            seed: 3,
            accounts,
            users: accounts * 40,
        })
    }

    #[test]
    fn the_collector_layout_parses_as_the_whole() {
        let snapshot = synthetic(7);
        let pretty = serde_json::to_vec_pretty(&snapshot).unwrap();
        assert_eq!(parse(&pretty), Some(snapshot));
    }

    #[test]
    fn any_other_layout_is_left_to_the_whole_parse() {
        let snapshot = synthetic(3);
        // Compact: no line to cut at.
        assert_eq!(parse(&serde_json::to_vec(&snapshot).unwrap()), None);
        // One account: nothing to share.
        assert_eq!(
            parse(&serde_json::to_vec_pretty(&synthetic(1)).unwrap()),
            None
        );
        let pretty = String::from_utf8(serde_json::to_vec_pretty(&snapshot).unwrap()).unwrap();
        // A line that looks like an account's start inside an account: a piece is not one.
        let users = pretty.replacen("\"users\": [", "\"users\": [\n    {},", 1);
        assert_eq!(parse(users.as_bytes()), None);
        // Text between the accounts that is not a separator.
        let between = pretty.replacen("\n    },\n    {", "\n    }, 1,\n    {", 1);
        assert_eq!(parse(between.as_bytes()), None);
        // A malformed account: the whole parse reports it.
        let bad = pretty.replacen("\"account_id\": \"", "\"account_id\": 7, \"x\": \"", 1);
        assert_eq!(parse(bad.as_bytes()), None);
        // The array nested deeper than the top level.
        let nested = format!("{{\"x\": {pretty}}}");
        assert_eq!(parse(nested.as_bytes()), None);
        // An unknown member after the array: the rest is not a snapshot.
        let extra = pretty.replacen("\n  ]", "\n  ],\n  \"extra\": 1", 1);
        assert_eq!(parse(extra.as_bytes()), None);
    }

    #[test]
    fn depth_skips_strings() {
        assert_eq!(depth(br#"{"a": "{[\"", "b": ["#), Some(2));
        assert_eq!(depth(br#"{"a": "\\"#), None);
        assert_eq!(depth(b"{}]"), None);
    }
}
