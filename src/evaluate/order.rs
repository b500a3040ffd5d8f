//! The report order of findings, and which of two duplicates a report keeps.
//!
//! Every report lists findings in one order, whatever order the rules produced them in: most
//! severe first, then rule, account, resource and message ([`Finding::sort_key`]), then their
//! remediation and details between findings that agree on all of those. An evaluation produces
//! its findings a section at a time — one rule's findings for one account — already in this
//! order, so only the findings within a section are ever sorted.

use std::cmp::Ordering;

use super::finding::Finding;

/// The report order: [`Finding::sort_key`], then [`content`] between findings with equal keys.
pub(crate) fn report_order(a: &Finding, b: &Finding) -> Ordering {
    a.sort_key()
        .cmp(&b.sort_key())
        .then_with(|| content(a).cmp(&content(b)))
}

/// What tells two findings with the same sort key apart, so that the order (and which of two
/// near-duplicates survives) never depends on the order rules produced them in.
fn content(f: &Finding) -> String {
    serde_json::to_string(&(&f.remediation, &f.details)).unwrap_or_default()
}

/// Sort findings into report order, then drop each finding that repeats the one before it (the
/// same rule, fingerprint and message: a rule that reports a resource twice).
pub(crate) fn sort_and_dedup(findings: &mut Vec<Finding>) {
    sort(findings);
    findings.dedup_by(|a, b| {
        a.rule_id == b.rule_id && a.fingerprint == b.fingerprint && a.message == b.message
    });
}

/// Sort into report order. Beyond a few dozen findings a permutation is sorted rather than the
/// findings themselves (a finding is a few hundred bytes; an index is four), and the findings
/// then move once each, to their place.
fn sort(findings: &mut [Finding]) {
    const BY_INDEX_FROM: usize = 64;
    let n = findings.len();
    if n < BY_INDEX_FROM || u32::try_from(n).is_err() {
        findings.sort_unstable_by(report_order);
        return;
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by(|a, b| report_order(&findings[*a as usize], &findings[*b as usize]));
    permute(findings, &mut order);
}

/// Rearrange `items` so that position `k` holds what was at `order[k]`, following each cycle of
/// the permutation with swaps (`order` is consumed: every entry ends as its own index).
fn permute<T>(items: &mut [T], order: &mut [u32]) {
    for start in 0..items.len() {
        let mut k = start;
        loop {
            let from = order[k] as usize;
            order[k] = k as u32;
            if from == start || from == k {
                break;
            }
            items.swap(k, from);
            k = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_places_each_item_where_the_order_says() {
        let items: Vec<u32> = (0..1000u32)
            .map(|i| i.wrapping_mul(2_654_435_761) % 997)
            .collect();
        let mut order: Vec<u32> = (0..1000).collect();
        order.sort_by_key(|&i| (items[i as usize], i));
        let mut expected: Vec<u32> = order.iter().map(|&i| items[i as usize]).collect();
        let mut permuted = items.clone();
        permute(&mut permuted, &mut order);
        assert_eq!(permuted, expected);
        expected.sort();
        assert_eq!(permuted, expected);
    }
}
