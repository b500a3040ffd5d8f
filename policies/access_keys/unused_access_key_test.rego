package credwarden.rules.unused_access_key_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.unused_access_key as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

test_unused_key_fires if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 400, 120)]})]))
	count(fs) == 1
	some f in fs
	f.account_id == t.account_id
	f.resource == {"type": "aws_iam_access_key", "id": "AKIA1", "arn": "arn:aws:iam::222222222222:user/alice", "user": "alice"}
	f.details.days_unused == 120
	f.details.never_used == false
	f.remediation == {"action": "deactivate_access_key", "params": {"user_name": "alice", "access_key_id": "AKIA1"}}
	contains(f.message, "AKIA1")
	contains(f.message, "alice")
	contains(f.message, "120 days")
}

test_recently_used_key_is_fine if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 400, 1)]})]))
	count(fs) == 0
}

test_exactly_at_threshold_fires if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 400, 90)]})]))
	count(fs) == 1
	some f in fs
	f.details.days_unused == 90
}

test_one_day_below_threshold_is_fine if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 400, 89)]})]))
	count(fs) == 0
}

test_never_used_key_counts_from_creation if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 95, null)]})]))
	count(fs) == 1
	some f in fs
	f.details.never_used == true
	f.details.days_unused == 95
	contains(f.message, "never used")
}

test_new_never_used_key_is_fine if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 10, null)]})]))
	count(fs) == 0
}

test_inactive_key_is_not_reported if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Inactive", 400, 300)]})]))
	count(fs) == 0
}

test_each_stale_key_is_one_finding if {
	keys := [t.key("AKIA1", "Active", 400, 200), object.union(t.key("AKIA2", "Active", 300, 5), {"slot": 2})]
	fs := findings(t.single([t.user("alice", {"access_keys": keys}), t.user("bob", {"access_keys": [t.key("AKIA3", "Active", 100, null)]})]))
	{f.resource.id | some f in fs} == {"AKIA1", "AKIA3"}
	count(fs) == 2
}

test_credential_report_key_without_id if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.report_key(2, "Active", 400, 100)]})]))
	count(fs) == 1
	some f in fs
	f.resource.id == "alice/key-2"
	f.remediation.action == "manual"
	contains(f.message, "slot 2")
}

test_break_glass_user_gets_manual_remediation if {
	fs := findings(t.single([t.user("breakglass-admin", {"access_keys": [t.key("AKIA9", "Active", 400, 200)]})]))
	count(fs) == 1
	some f in fs
	f.remediation.action == "manual"
	f.remediation.params.break_glass == true
}

test_account_with_error_is_skipped if {
	broken := t.errored(t.account([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 400, 200)]})]))
	fs := findings(t.snapshot([broken]))
	count(fs) == 0
}

test_threshold_comes_from_config if {
	cfg := object.union(t.config, {"thresholds": object.union(t.config.thresholds, {"unused_days": 30})})
	n := t.now_ns
	inp := t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 400, 45)]})])
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
	count(fs) == 1
	count(findings(inp)) == 0
}
