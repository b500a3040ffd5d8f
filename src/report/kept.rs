//! Reports that show only the first findings (SARIF's upload limit, Markdown's top list) keep
//! only those as the evaluation streams, and count the rest in the tally.

use crate::evaluate::{Evaluation, Finding, FindingStream};

/// The findings a report shows, kept while an evaluation streams its sections: the first `max`
/// not suppressed and the first `max` suppressed, in report order — all that SARIF
/// ([`super::sarif::MAX_RESULTS`]) and Markdown ([`super::markdown::KEPT`]) take of a whole
/// evaluation. At 100,000 users a SARIF log holds 50,000 findings instead of half a million.
#[derive(Debug)]
pub struct Kept {
    open: Vec<Finding>,
    suppressed: Vec<Finding>,
    max: usize,
}

impl Kept {
    pub fn new(max: usize) -> Kept {
        Kept {
            open: Vec::new(),
            suppressed: Vec::new(),
            max,
        }
    }

    /// Keep what is wanted of the next section.
    pub fn take(&mut self, section: Vec<Finding>) {
        for f in section {
            let into = if f.suppressed {
                &mut self.suppressed
            } else {
                &mut self.open
            };
            if into.len() < self.max {
                into.push(f);
            }
        }
    }

    /// Whether the suppressed (or the open) findings kept are all that will be.
    pub fn is_full(&self, suppressed: bool) -> bool {
        let kept = if suppressed {
            &self.suppressed
        } else {
            &self.open
        };
        kept.len() >= self.max
    }

    /// The findings kept, in report order (each list is in it: they are merged).
    pub fn into_findings(self) -> Vec<Finding> {
        let mut findings = Vec::with_capacity(self.open.len() + self.suppressed.len());
        let mut open = self.open.into_iter().peekable();
        let mut suppressed = self.suppressed.into_iter().peekable();
        while let (Some(a), Some(b)) = (open.peek(), suppressed.peek()) {
            let next = if crate::evaluate::report_order(a, b).is_le() {
                open.next()
            } else {
                suppressed.next()
            };
            findings.extend(next);
        }
        findings.extend(open.chain(suppressed));
        findings
    }
}

/// Run a streamed evaluation keeping only the first `max` open and suppressed findings
/// ([`Kept`]): the evaluation's findings are those, in report order, and its tally counts them
/// all.
pub fn evaluate_kept(stream: FindingStream<'_>, max: usize) -> Evaluation {
    let mut kept = Kept::new(max);
    let evaluation = stream
        .run(
            |section| section,
            |section| {
                kept.take(section);
                Ok(())
            },
        )
        .expect("keeping findings in memory does not fail");
    Evaluation {
        findings: kept.into_findings(),
        ..evaluation
    }
}
