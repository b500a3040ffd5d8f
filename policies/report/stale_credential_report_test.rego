package credwarden.rules.stale_credential_report_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.stale_credential_report as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

with_report(report) := t.snapshot([t.account_with([], {"credential_report": report})])

test_old_report_fires if {
	fs := findings(with_report({"generated_at": t.hours_ago(30)}))
	count(fs) == 1
	some f in fs
	f.account_id == t.account_id
	f.resource == {"type": "aws_credential_report", "id": "credential-report", "arn": "arn:aws:iam::222222222222:root"}
	f.details.age_hours == 30
	contains(f.message, "30 hours ago")
}

test_fresh_report_is_fine if {
	fs := findings(t.single([]))
	count(fs) == 0
}

test_exactly_at_threshold_does_not_fire if {
	fs := findings(with_report({"generated_at": t.hours_ago(4)}))
	count(fs) == 0
}

test_one_hour_past_threshold_fires if {
	fs := findings(with_report({"generated_at": t.hours_ago(5)}))
	count(fs) == 1
}

test_four_and_a_half_hours_does_not_fire if {
	# 4 h 30 min is 4 whole hours.
	fs := findings(with_report({"generated_at": "2026-11-21T07:30:00Z"}))
	count(fs) == 0
}

test_unknown_generation_time_is_fine if {
	fs := findings(with_report({"generated_at": null}))
	count(fs) == 0
}

test_no_report_is_fine if {
	fs := findings(with_report(null))
	count(fs) == 0
}

test_account_with_error_is_skipped if {
	fs := findings(t.snapshot([t.errored(t.account_with([], {"credential_report": {"generated_at": t.hours_ago(30)}}))]))
	count(fs) == 0
}

test_one_finding_per_stale_account if {
	stale := t.account_with([], {"credential_report": {"generated_at": t.hours_ago(48)}})
	other := object.union(stale, {"account_id": "333333333333"})
	fresh := object.union(t.account([]), {"account_id": "444444444444"})
	fs := findings(t.snapshot([stale, other, fresh]))
	{f.account_id | some f in fs} == {"222222222222", "333333333333"}
}
