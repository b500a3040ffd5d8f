package credwarden.rules.inactive_user_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.inactive_user as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

test_inactive_console_user_fires if {
	fs := findings(t.single([t.user("alice", {"password": t.password(120)})]))
	count(fs) == 1
	some f in fs
	f.resource == {"type": "aws_iam_user", "id": "alice", "arn": "arn:aws:iam::222222222222:user/alice"}
	f.details.days_inactive == 120
	f.details.last_used_at == t.days_ago(120)
	f.remediation == {"action": "delete_login_profile", "params": {"user_name": "alice"}}
	contains(f.message, "alice")
	contains(f.message, "120 days")
}

test_recent_console_use_is_fine if {
	fs := findings(t.single([t.user("alice", {"password": t.password(5)})]))
	count(fs) == 0
}

test_recent_key_use_counts_as_activity if {
	u := t.user("alice", {"password": t.password(200), "access_keys": [t.key("AKIA1", "Active", 400, 10)]})
	fs := findings(t.single([u]))
	count(fs) == 0
}

test_use_of_an_inactive_key_counts_as_activity if {
	u := t.user("svc", {"access_keys": [t.key("AKIA1", "Inactive", 400, 10)]})
	fs := findings(t.single([u]))
	count(fs) == 0
}

test_latest_activity_is_used if {
	keys := [t.key("AKIA1", "Active", 400, 150), object.union(t.key("AKIA2", "Active", 400, 95), {"slot": 2})]
	fs := findings(t.single([t.user("svc", {"password": t.password(300), "access_keys": keys})]))
	count(fs) == 1
	some f in fs
	f.details.days_inactive == 95
	f.remediation.action == "delete_login_profile"
}

test_exactly_at_threshold_fires if {
	fs := findings(t.single([t.user("alice", {"password": t.password(90)})]))
	count(fs) == 1
}

test_one_day_below_threshold_is_fine if {
	fs := findings(t.single([t.user("alice", {"password": t.password(89)})]))
	count(fs) == 0
}

test_never_used_user_counts_from_creation if {
	fs := findings(t.single([t.user("ghost", {"access_keys": [t.key("AKIA1", "Active", 400, null)]})]))
	count(fs) == 1
	some f in fs
	f.details.last_used_at == null
	f.details.days_inactive == 400
	f.remediation.action == "manual"
	contains(f.message, "never signed in")
}

test_new_never_used_user_is_fine if {
	fs := findings(t.single([t.user("newbie", {"created_at": t.days_ago(3), "password": t.password(null)})]))
	count(fs) == 0
}

test_break_glass_user_gets_manual_remediation if {
	fs := findings(t.single([t.user("breakglass-admin", {"password": t.password(200), "mfa_active": true})]))
	count(fs) == 1
	some f in fs
	f.details.break_glass == true
	f.remediation.action == "manual"
}

test_account_with_error_is_skipped if {
	fs := findings(t.snapshot([t.errored(t.account([t.user("alice", {"password": t.password(120)})]))]))
	count(fs) == 0
}
