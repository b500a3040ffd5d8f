package credwarden.rules.access_key_created_at_user_setup_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.access_key_created_at_user_setup as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

test_console_user_with_unused_key_fires if {
	fs := findings(t.single([t.user("alice", {"password": t.password(2), "access_keys": [t.key("AKIA1", "Active", 400, null)]})]))
	count(fs) == 1
	some f in fs
	f.resource == {"type": "aws_iam_access_key", "id": "AKIA1", "arn": "arn:aws:iam::222222222222:user/alice", "user": "alice"}
	f.remediation == {"action": "deactivate_access_key", "params": {"user_name": "alice", "access_key_id": "AKIA1"}}
	contains(f.message, "alice")
	contains(f.message, "AKIA1")
}

test_used_key_is_fine if {
	fs := findings(t.single([t.user("alice", {"password": t.password(2), "access_keys": [t.key("AKIA1", "Active", 400, 3)]})]))
	count(fs) == 0
}

test_user_without_password_is_fine if {
	fs := findings(t.single([t.user("svc", {"access_keys": [t.key("AKIA1", "Active", 400, null)]})]))
	count(fs) == 0
}

test_inactive_unused_key_is_fine if {
	fs := findings(t.single([t.user("alice", {"password": t.password(2), "access_keys": [t.key("AKIA1", "Inactive", 400, null)]})]))
	count(fs) == 0
}

test_only_the_unused_key_is_reported if {
	keys := [t.key("AKIA1", "Active", 400, 3), object.union(t.key("AKIA2", "Active", 10, null), {"slot": 2})]
	fs := findings(t.single([t.user("alice", {"password": t.password(null), "access_keys": keys})]))
	{f.resource.id | some f in fs} == {"AKIA2"}
}

test_credential_report_key_without_id if {
	fs := findings(t.single([t.user("alice", {"password": t.password(2), "access_keys": [t.report_key(1, "Active", 400, null)]})]))
	count(fs) == 1
	some f in fs
	f.resource.id == "alice/key-1"
	f.remediation.action == "manual"
}

test_account_with_error_is_skipped if {
	u := t.user("alice", {"password": t.password(2), "access_keys": [t.key("AKIA1", "Active", 400, null)]})
	fs := findings(t.snapshot([t.errored(t.account([u]))]))
	count(fs) == 0
}
