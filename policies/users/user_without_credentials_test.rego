package credwarden.rules.user_without_credentials_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.user_without_credentials as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

test_user_without_anything_fires if {
	fs := findings(t.single([t.user("orphan", {})]))
	count(fs) == 1
	some f in fs
	f.resource == {"type": "aws_iam_user", "id": "orphan", "arn": "arn:aws:iam::222222222222:user/orphan"}
	f.remediation.action == "manual"
	contains(f.message, "orphan")
}

test_user_with_only_inactive_keys_fires if {
	fs := findings(t.single([t.user("orphan", {"access_keys": [t.key("AKIA1", "Inactive", 100, null)]})]))
	count(fs) == 1
	some f in fs
	f.details.inactive_keys == 1
}

test_console_user_is_fine if {
	fs := findings(t.single([t.user("alice", {"password": t.password(null)})]))
	count(fs) == 0
}

test_user_with_active_key_is_fine if {
	fs := findings(t.single([t.user("svc", {"access_keys": [t.key("AKIA1", "Active", 10, null)]})]))
	count(fs) == 0
}

test_missing_password_object_counts_as_no_password if {
	fs := findings(t.single([object.remove(t.user("orphan", {}), ["password"])]))
	count(fs) == 1
}

test_only_orphans_are_reported if {
	users := [t.user("orphan", {}), t.user("alice", {"password": t.password(1)}), t.user("svc", {"access_keys": [t.key("AKIA1", "Active", 10, 1)]})]
	fs := findings(t.single(users))
	{f.resource.id | some f in fs} == {"orphan"}
}

test_account_with_error_is_skipped if {
	fs := findings(t.snapshot([t.errored(t.account([t.user("orphan", {})]))]))
	count(fs) == 0
}
