package credwarden.rules.non_break_glass_user_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.non_break_glass_user as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

test_ordinary_user_fires if {
	fs := findings(t.single([t.user("alice", {"password": t.password(1)})]))
	count(fs) == 1
	some f in fs
	f.resource == {"type": "aws_iam_user", "id": "alice", "arn": "arn:aws:iam::222222222222:user/alice"}
	f.remediation.action == "manual"
	f.details.password_enabled == true
	contains(f.message, "alice")
}

test_break_glass_by_config_name_is_exempt if {
	fs := findings(t.single([t.user("breakglass-admin", {})]))
	count(fs) == 0
}

test_break_glass_by_config_arn_is_exempt if {
	u := t.user("emergency", {"arn": "arn:aws:iam::222222222222:user/ops/emergency", "path": "/ops/"})
	fs := findings(t.single([u]))
	count(fs) == 0
}

test_break_glass_by_tag_is_exempt if {
	fs := findings(t.single([t.user("vault", {"tags": {"credwarden:break-glass": "True"}})]))
	count(fs) == 0
}

test_tag_with_other_value_is_not_exempt if {
	fs := findings(t.single([t.user("vault", {"tags": {"credwarden:break-glass": "no"}})]))
	count(fs) == 1
}

test_every_other_user_is_reported if {
	users := [t.user("alice", {}), t.user("bob", {}), t.user("breakglass-admin", {})]
	fs := findings(t.single(users))
	{f.resource.id | some f in fs} == {"alice", "bob"}
	count(fs) == 2
}

test_break_glass_config_without_users if {
	cfg := object.union(t.config, {"break_glass": {"users": [], "tag_key": "credwarden:break-glass", "tag_value": "true"}})
	n := t.now_ns
	inp := t.single([t.user("breakglass-admin", {})])
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
	count(fs) == 1
}

test_account_with_error_is_skipped if {
	fs := findings(t.snapshot([t.errored(t.account([t.user("alice", {})]))]))
	count(fs) == 0
}
