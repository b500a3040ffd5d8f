package credwarden.rules.console_user_without_mfa_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.console_user_without_mfa as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

test_console_user_without_mfa_fires if {
	fs := findings(t.single([t.user("alice", {"password": t.password(1), "mfa_active": false})]))
	count(fs) == 1
	some f in fs
	f.resource == {"type": "aws_iam_user", "id": "alice", "arn": "arn:aws:iam::222222222222:user/alice"}
	f.remediation == {"action": "enable_mfa", "params": {"user_name": "alice"}}
	contains(f.message, "alice")
}

test_console_user_with_mfa_is_fine if {
	fs := findings(t.single([t.user("alice", {"password": t.password(1), "mfa_active": true})]))
	count(fs) == 0
}

test_user_without_password_is_fine if {
	fs := findings(t.single([t.user("svc", {"mfa_active": false, "access_keys": [t.key("AKIA1", "Active", 1, 1)]})]))
	count(fs) == 0
}

test_never_used_password_still_fires if {
	fs := findings(t.single([t.user("alice", {"password": t.password(null)})]))
	count(fs) == 1
	some f in fs
	f.details.password_last_used == null
}

test_break_glass_user_is_never_acted_on if {
	fs := findings(t.single([t.user("breakglass-admin", {"password": t.password(null)})]))
	count(fs) == 1
	some f in fs
	f.remediation.action == "manual"
	f.details.break_glass == true
}

test_account_with_error_is_skipped if {
	fs := findings(t.snapshot([t.errored(t.account([t.user("alice", {"password": t.password(1)})]))]))
	count(fs) == 0
}
