package credwarden.rules.access_key_not_rotated_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.access_key_not_rotated as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

test_old_key_fires if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 200, 1)]})]))
	count(fs) == 1
	some f in fs
	f.resource == {"type": "aws_iam_access_key", "id": "AKIA1", "arn": "arn:aws:iam::222222222222:user/alice", "user": "alice"}
	f.details.age_days == 200
	f.remediation.action == "manual"
	f.remediation.params.access_key_id == "AKIA1"
	contains(f.message, "AKIA1")
	contains(f.message, "200 days old")
}

test_young_key_is_fine if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 30, 1)]})]))
	count(fs) == 0
}

test_exactly_at_threshold_does_not_fire if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 90, 1)]})]))
	count(fs) == 0
}

test_one_day_over_threshold_fires if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 91, 1)]})]))
	count(fs) == 1
}

test_never_used_old_key_fires if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 120, null)]})]))
	count(fs) == 1
	some f in fs
	f.details.last_used_at == null
}

test_inactive_key_is_not_reported if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Inactive", 400, null)]})]))
	count(fs) == 0
}

test_credential_report_key_without_id if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.report_key(1, "Active", 400, 2)]})]))
	count(fs) == 1
	some f in fs
	f.resource.id == "alice/key-1"
	f.remediation.params.slot == 1
	f.remediation.params.access_key_id == null
}

test_account_with_error_is_skipped if {
	fs := findings(t.snapshot([t.errored(t.account([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 400, 2)]})]))]))
	count(fs) == 0
}
