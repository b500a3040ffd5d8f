package credwarden.rules.multiple_active_access_keys_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.multiple_active_access_keys as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

key2(id, status) := object.union(t.key(id, status, 10, 1), {"slot": 2})

test_two_active_keys_fire if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 20, 1), key2("AKIA2", "Active")]})]))
	count(fs) == 1
	some f in fs
	f.resource == {"type": "aws_iam_user", "id": "alice", "arn": "arn:aws:iam::222222222222:user/alice"}
	count(f.details.active_keys) == 2
	contains(f.message, "AKIA1")
	contains(f.message, "AKIA2")
	f.remediation.action == "manual"
}

test_one_active_one_inactive_is_fine if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 20, 1), key2("AKIA2", "Inactive")]})]))
	count(fs) == 0
}

test_single_key_is_fine if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 20, 1)]})]))
	count(fs) == 0
}

test_no_keys_is_fine if {
	fs := findings(t.single([t.user("alice", {})]))
	count(fs) == 0
}

test_credential_report_keys_without_ids if {
	keys := [t.report_key(1, "Active", 20, 1), t.report_key(2, "Active", 10, null)]
	fs := findings(t.single([t.user("alice", {"access_keys": keys})]))
	count(fs) == 1
	some f in fs
	contains(f.message, "slot 1")
	contains(f.message, "slot 2")
}

test_one_finding_per_user if {
	two := [t.key("AKIA1", "Active", 20, 1), key2("AKIA2", "Active")]
	fs := findings(t.single([t.user("alice", {"access_keys": two}), t.user("bob", {"access_keys": two}), t.user("carol", {})]))
	{f.resource.id | some f in fs} == {"alice", "bob"}
}

test_account_with_error_is_skipped if {
	two := [t.key("AKIA1", "Active", 20, 1), key2("AKIA2", "Active")]
	fs := findings(t.snapshot([t.errored(t.account([t.user("alice", {"access_keys": two})]))]))
	count(fs) == 0
}
