//! `--redact`: access key ids masked in every output.
//!
//! An access key id is not a secret (the secret access key is, and credwarden never reads it),
//! but it is the handle an attacker needs to match a leaked secret to its account, and reports
//! travel further than snapshots: CI logs, tickets, e-mail. With `--redact`, every access key
//! id (`AKIA…`, and the temporary `ASIA…`) in a rendered report keeps its prefix and last four
//! characters — as the AWS console shows them — and loses the rest:
//! `AKIAIOSFODNN7EXAMPLE` becomes `AKIA************MPLE`.
//!
//! Redaction works on the rendered text, so it reaches every place an id can appear: resource
//! ids, ARNs, messages, details, remediation parameters, the HTML chart's titles. The masked id
//! has the same length and alphabet, so JSON, CSV, SARIF and HTML stay well-formed.

/// Mask every access key id in `text`.
pub fn redact(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i + KEY_LEN <= bytes.len() {
        if is_key_at(bytes, i) {
            out.push_str(&text[copied..i]);
            out.push_str(&text[i..i + 4]);
            out.push_str(&"*".repeat(KEY_LEN - 8));
            out.push_str(&text[i + KEY_LEN - 4..i + KEY_LEN]);
            i += KEY_LEN;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Write one piece of a report written a piece at a time, masked when `mask`. Every piece must
/// end with a character that is neither a letter nor a digit (a line end, a bracket): an access
/// key id is a run of letters and digits, so none spans two pieces or touches the end of one,
/// and masking piece by piece masks exactly what masking the whole text would.
pub fn write_piece<W: std::io::Write + ?Sized>(
    out: &mut W,
    piece: &str,
    mask: bool,
) -> std::io::Result<()> {
    debug_assert!(piece
        .as_bytes()
        .last()
        .is_none_or(|c| !c.is_ascii_alphanumeric()));
    if mask {
        out.write_all(redact(piece).as_bytes())
    } else {
        out.write_all(piece.as_bytes())
    }
}

/// `AKIA` or `ASIA` and 16 upper-case letters or digits: 20 characters in all.
const KEY_LEN: usize = 20;

fn is_key_at(b: &[u8], i: usize) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric();
    let prefix = &b[i..i + 4];
    (prefix == b"AKIA" || prefix == b"ASIA")
        && b[i + 4..i + KEY_LEN]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && (i == 0 || !word(b[i - 1]))
        && b.get(i + KEY_LEN).is_none_or(|c| !word(*c))
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn masks_ids_wherever_they_stand() {
        assert_eq!(
            redact("key AKIAIOSFODNN7EXAMPLE of alice/AKIAJB7XPG3SGEXAMPLE: ASIAZZZZZZZZZZZZ1234."),
            "key AKIA************MPLE of alice/AKIA************MPLE: ASIA************1234."
        );
        assert_eq!(
            redact(r#"{"id":"AKIAIOSFODNN7EXAMPLE"}"#),
            r#"{"id":"AKIA************MPLE"}"#
        );
    }

    #[test]
    fn leaves_look_alikes_and_other_text_alone() {
        for text in [
            "AKIAIOSFODNN7EXAMPL",           // too short
            "XAKIAIOSFODNN7EXAMPLE",         // inside a word
            "AKIAIOSFODNN7EXAMPLEX",         // longer than an id
            "AKIAiosfodnn7example",          // lower case
            "AIDAXXY353QBOPEXAMPLE user id", // a user id, not a key
            "naïve ünïcode ✓",
        ] {
            assert_eq!(redact(text), text);
        }
    }
}
