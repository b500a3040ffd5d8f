package credwarden.rules.inactive_access_key_not_deleted_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.inactive_access_key_not_deleted as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

test_old_inactive_key_fires if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Inactive", 400, 60)]})]))
	count(fs) == 1
	some f in fs
	f.resource.id == "AKIA1"
	f.resource.type == "aws_iam_access_key"
	f.details.days_since_last_activity == 60
	f.remediation == {"action": "delete_access_key", "params": {"user_name": "alice", "access_key_id": "AKIA1"}}
	contains(f.message, "AKIA1")
	contains(f.message, "60 days")
}

test_recently_used_inactive_key_is_within_grace if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Inactive", 400, 10)]})]))
	count(fs) == 0
}

test_exactly_at_grace_does_not_fire if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Inactive", 400, 30)]})]))
	count(fs) == 0
}

test_one_day_past_grace_fires if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Inactive", 400, 31)]})]))
	count(fs) == 1
}

test_never_used_inactive_key_counts_from_creation if {
	old := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Inactive", 45, null)]})]))
	count(old) == 1
	young := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Inactive", 5, null)]})]))
	count(young) == 0
}

test_active_key_is_not_reported if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.key("AKIA1", "Active", 400, 300)]})]))
	count(fs) == 0
}

test_credential_report_key_without_id_is_manual if {
	fs := findings(t.single([t.user("alice", {"access_keys": [t.report_key(2, "Inactive", 400, 100)]})]))
	count(fs) == 1
	some f in fs
	f.resource.id == "alice/key-2"
	f.remediation.action == "manual"
}

test_break_glass_user_is_never_acted_on if {
	fs := findings(t.single([t.user("vault", {"tags": {"credwarden:break-glass": "true"}, "access_keys": [t.key("AKIA1", "Inactive", 400, 100)]})]))
	count(fs) == 1
	some f in fs
	f.remediation.action == "manual"
}

test_account_with_error_is_skipped if {
	fs := findings(t.snapshot([t.errored(t.account([t.user("alice", {"access_keys": [t.key("AKIA1", "Inactive", 400, 60)]})]))]))
	count(fs) == 0
}
