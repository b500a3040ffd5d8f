//! Timestamps read and written in their usual spelling without chrono's general machinery.
//!
//! A snapshot of 100,000 users holds about half a million timestamps, and nearly every one is
//! spelt `2026-11-21T09:30:00Z` (or with a fraction of a second). chrono's RFC 3339 parser and
//! formatter handle every spelling the standard allows and cost several times what that one
//! spelling needs; at that size they were a tenth of loading a snapshot and of making its
//! findings. So the usual spelling is read and written here, and anything else — an offset, a
//! lower-case `t`, a leap second, a year past 9999 — goes to chrono, which gives the same value
//! and the same text (the tests compare the two), and the same error for a malformed one.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, SecondsFormat, Timelike, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};

use super::Timestamp;

/// Parse an RFC 3339 timestamp, as chrono's `DateTime<Utc>` deserialiser does.
pub fn parse(s: &str) -> Result<Timestamp, chrono::ParseError> {
    match parse_usual(s.as_bytes()) {
        Some(t) => Ok(t),
        None => s
            .parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.F{1,9}]Z`, a valid date and time without a leap second; `None` for
/// anything else (which may still be valid: chrono decides).
fn parse_usual(b: &[u8]) -> Option<Timestamp> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[b.len() - 1] != b'Z'
    {
        return None;
    }
    let number = |digits: &[u8]| -> Option<u32> {
        digits.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(digits)? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let second = number(&b[17..19])?;
    if second > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(&b[0..4])?).ok()?,
        number(&b[5..7])?,
        number(&b[8..10])?,
    )?;
    let time =
        NaiveTime::from_hms_nano_opt(number(&b[11..13])?, number(&b[14..16])?, second, nanos)?;
    Some(date.and_time(time).and_utc())
}

/// The timestamp as the snapshot spells it (RFC 3339, `Z`, the fraction of a second only when
/// there is one, in milli-, micro- or nanoseconds): chrono's
/// `to_rfc3339_opts(SecondsFormat::AutoSi, true)`.
pub fn format(t: &Timestamp) -> String {
    let mut buf = [0; USUAL_MAX];
    match write_usual(t, &mut buf) {
        // Exactly as long as the text, so that it becomes a finding's own string without a copy.
        Some(text) => String::from(text),
        None => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    }
}

/// `#[serde(serialize_with)]` for a timestamp: what chrono's serialiser writes (the text of
/// [`format`]), made on the stack. A snapshot of 100,000 users has half a million of them to
/// write, and the engine's input as many to make.
pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0; USUAL_MAX];
    match write_usual(t, &mut buf) {
        Some(text) => s.serialize_str(text),
        None => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }
}

/// `#[serde(serialize_with)]` for an optional timestamp (`None`: `null`).
pub fn serialize_option<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serialize(t, s),
        None => s.serialize_none(),
    }
}

/// The longest usual spelling: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
const USUAL_MAX: usize = 30;

/// The usual spelling of `t` written into `buf`; `None` for a year beyond 0–9999 or a leap
/// second, which chrono writes.
fn write_usual<'b>(t: &Timestamp, buf: &'b mut [u8; USUAL_MAX]) -> Option<&'b str> {
    let (year, nanos) = (t.year(), t.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    let (fraction, width) = if nanos == 0 {
        (0, 0)
    } else if nanos % 1_000_000 == 0 {
        (nanos / 1_000_000, 3)
    } else if nanos % 1_000 == 0 {
        (nanos / 1_000, 6)
    } else {
        (nanos, 9)
    };
    let mut at = 0;
    let mut put = |n: u32, width: u32, after: Option<u8>| {
        for place in (0..width).rev() {
            buf[at] = b'0' + (n / 10u32.pow(place) % 10) as u8;
            at += 1;
        }
        if let Some(c) = after {
            buf[at] = c;
            at += 1;
        }
    };
    put(year as u32, 4, Some(b'-'));
    put(t.month(), 2, Some(b'-'));
    put(t.day(), 2, Some(b'T'));
    put(t.hour(), 2, Some(b':'));
    put(t.minute(), 2, Some(b':'));
    if width > 0 {
        put(t.second(), 2, Some(b'.'));
        put(fraction, width, Some(b'Z'));
    } else {
        put(t.second(), 2, Some(b'Z'));
    }
    std::str::from_utf8(&buf[..at]).ok()
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        // chrono's words, so that errors read as they did.
        f.write_str("an RFC 3339 formatted date and time string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Timestamp, E> {
        parse(s).map_err(E::custom)
    }
}

/// `#[serde(deserialize_with)]` for a timestamp.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    d.deserialize_str(TimestampVisitor)
}

/// `#[serde(deserialize_with)]` for an optional timestamp (`null` or absent: `None`).
pub fn deserialize_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    struct Usual(Timestamp);
    impl<'de> Deserialize<'de> for Usual {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Usual, D::Error> {
            deserialize(d).map(Usual)
        }
    }
    Ok(Option::<Usual>::deserialize(d)?.map(|u| u.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono_parse(s: &str) -> Result<Timestamp, String> {
        s.parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn reads_every_spelling_as_chrono_does() {
        for s in [
            "2026-11-21T09:30:00Z",
            "2026-11-21T09:30:00.5Z",
            "2026-11-21T09:30:00.123Z",
            "2026-11-21T09:30:00.123456Z",
            "2026-11-21T09:30:00.123456789Z",
            "2026-11-21T09:30:00.1234567891Z",
            "2024-02-29T23:59:59Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2026-11-21T09:30:00+02:00",
            "2026-11-21T09:30:00-00:00",
            "2026-11-21t09:30:00z",
            "2026-11-21 09:30:00Z",
            "2016-12-31T23:59:60Z",
            // Malformed: the same error as chrono's.
            "2025-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-21T24:00:00Z",
            "2026-11-21T09:60:00Z",
            "2026-11-21T09:30:00.Z",
            "2026-11-21T09:30:00",
            "2026-11-2lT09:30:00Z",
            "+2026-11-21T09:30:00Z",
            "2026-11-21T09:30:00ZZ",
            "",
            "yesterday",
        ] {
            assert_eq!(
                parse(s).map_err(|e| e.to_string()),
                chrono_parse(s),
                "{s:?}"
            );
        }
    }

    #[test]
    fn writes_what_chrono_writes() {
        let base: Timestamp = "2026-11-21T09:30:07Z".parse().unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut cases = vec![
            base,
            "0000-01-01T00:00:00Z".parse().unwrap(),
            "9999-12-31T23:59:59.999999999Z".parse().unwrap(),
            "2016-12-31T23:59:60.5Z".parse().unwrap(),
            chrono::DateTime::from_timestamp(-70_000_000_000, 0).unwrap(),
            chrono::DateTime::from_timestamp(300_000_000_000, 7).unwrap(),
        ];
        for _ in 0..2000 {
            let secs = (next() % 20_000_000_000) as i64 - 5_000_000_000;
            let nanos = match next() % 4 {
                0 => 0,
                1 => (next() % 1000) as u32 * 1_000_000,
                2 => (next() % 1_000_000) as u32 * 1_000,
                _ => (next() % 1_000_000_000) as u32,
            };
            cases.push(chrono::DateTime::from_timestamp(secs, nanos).unwrap());
        }
        for t in cases {
            let expected = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
            assert_eq!(format(&t), expected);
            assert_eq!(parse(&expected), Ok(t), "{expected}");
            // Serialised as chrono's own serialiser writes it.
            let mut written = Vec::new();
            serialize(&t, &mut serde_json::Serializer::new(&mut written)).unwrap();
            assert_eq!(written, serde_json::to_vec(&t).unwrap(), "{expected}");
            for maybe in [Some(t), None] {
                let mut written = Vec::new();
                serialize_option(&maybe, &mut serde_json::Serializer::new(&mut written)).unwrap();
                assert_eq!(written, serde_json::to_vec(&maybe).unwrap(), "{expected}");
            }
        }
    }

    #[test]
    fn deserialises_as_chrono_does() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Doc {
            #[serde(deserialize_with = "deserialize")]
            at: Timestamp,
            #[serde(default, deserialize_with = "deserialize_option")]
            maybe: Option<Timestamp>,
        }
        let doc: Doc =
            serde_json::from_str(r#"{"at": "2026-11-21T09:30:00Z", "maybe": null}"#).unwrap();
        assert_eq!(doc.maybe, None);
        let doc: Doc = serde_json::from_str(r#"{"at": "2026-11-21T09:30:00Z"}"#).unwrap();
        assert_eq!(doc.maybe, None);
        let doc: Doc = serde_json::from_str(
            r#"{"at": "2026-11-21T09:30:00Z", "maybe": "2026-01-01T00:00:00.25Z"}"#,
        )
        .unwrap();
        assert_eq!(doc.maybe, Some("2026-01-01T00:00:00.25Z".parse().unwrap()));
        for bad in [
            r#"{"at": 5}"#,
            r#"{"at": "2026-02-30T00:00:00Z"}"#,
            r#"{"at": "x"}"#,
        ] {
            #[derive(Deserialize)]
            #[allow(dead_code)]
            struct Theirs {
                at: Timestamp,
            }
            let ours = serde_json::from_str::<Doc>(bad).unwrap_err().to_string();
            let theirs = serde_json::from_str::<Theirs>(bad)
                .err()
                .unwrap()
                .to_string();
            assert_eq!(ours, theirs);
        }
    }
}
