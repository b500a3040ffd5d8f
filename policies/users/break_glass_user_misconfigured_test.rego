package credwarden.rules.break_glass_user_misconfigured_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.break_glass_user_misconfigured as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

# A well-kept break-glass user: console only, MFA, last used 200 days ago.
good := t.user("breakglass-admin", {"password": t.password(200), "mfa_active": true})

test_well_kept_break_glass_user_is_fine if {
	fs := findings(t.single([good]))
	count(fs) == 0
}

test_break_glass_user_with_a_key_fires if {
	u := object.union(good, {"access_keys": [t.key("AKIA1", "Active", 300, 250)]})
	fs := findings(t.single([u]))
	count(fs) == 1
	some f in fs
	f.resource == {"type": "aws_iam_user", "id": "breakglass-admin", "arn": "arn:aws:iam::222222222222:user/breakglass-admin"}
	f.details.problems == ["access_keys"]
	f.remediation.action == "manual"
	contains(f.message, "breakglass-admin")
	contains(f.message, "AKIA1")
}

test_inactive_key_counts_too if {
	u := object.union(good, {"access_keys": [t.key("AKIA1", "Inactive", 300, null)]})
	fs := findings(t.single([u]))
	count(fs) == 1
	some f in fs
	f.details.problems == ["access_keys"]
	contains(f.message, "inactive")
}

test_break_glass_user_without_mfa_fires if {
	u := object.union(good, {"mfa_active": false})
	fs := findings(t.single([u]))
	count(fs) == 1
	some f in fs
	f.details.problems == ["no_mfa"]
	contains(f.message, "no MFA")
}

test_recent_console_use_fires if {
	u := object.union(good, {"password": t.password(2)})
	fs := findings(t.single([u]))
	count(fs) == 1
	some f in fs
	f.details.problems == ["recent_use"]
	contains(f.message, "2 days ago")
}

test_use_exactly_at_threshold_fires if {
	u := object.union(good, {"password": t.password(30)})
	fs := findings(t.single([u]))
	count(fs) == 1
}

test_use_one_day_past_threshold_is_fine if {
	u := object.union(good, {"password": t.password(31)})
	fs := findings(t.single([u]))
	count(fs) == 0
}

test_all_problems_in_one_finding if {
	u := object.union(good, {"mfa_active": false, "access_keys": [t.key("AKIA1", "Active", 300, 1)]})
	fs := findings(t.single([u]))
	count(fs) == 1
	some f in fs
	f.details.problems == ["access_keys", "no_mfa", "recent_use"]
	contains(f.message, "access key AKIA1")
}

test_break_glass_by_tag if {
	u := t.user("vault", {"tags": {"credwarden:break-glass": "true"}, "password": t.password(200), "mfa_active": false})
	fs := findings(t.single([u]))
	count(fs) == 1
	some f in fs
	f.resource.id == "vault"
}

test_break_glass_by_arn if {
	u := t.user("emergency", {"arn": "arn:aws:iam::222222222222:user/ops/emergency", "mfa_active": false})
	fs := findings(t.single([u]))
	count(fs) == 1
}

test_ordinary_user_is_not_checked if {
	fs := findings(t.single([t.user("alice", {"mfa_active": false, "access_keys": [t.key("AKIA1", "Active", 1, 1)]})]))
	count(fs) == 0
}

test_account_with_error_is_skipped if {
	u := object.union(good, {"mfa_active": false})
	fs := findings(t.snapshot([t.errored(t.account([u]))]))
	count(fs) == 0
}
