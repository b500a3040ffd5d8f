package org.rules.contractor_key_age_test

import rego.v1

import data.org.rules.contractor_key_age as rule

# ---------------------------------------------------------------------------
# Fixtures (a custom test cannot import credwarden.lib_test: bundled tests are not loaded)
# ---------------------------------------------------------------------------

now := "2026-11-21T00:00:00Z"

now_ns := time.parse_rfc3339_ns(now)

# The effective configuration credwarden passes in; `params` is what the test varies.
config(params) := {
	"thresholds": {
		"unused_days": 90, "rotation_days": 90, "inactive_user_days": 90, "root_use_days": 90,
		"inactive_key_grace_days": 30, "break_glass_use_days": 30, "stale_report_hours": 4,
	},
	"break_glass": {"users": ["breakglass-contractor"], "tag_key": "credwarden:break-glass", "tag_value": "true"},
	"params": params,
}

# The RFC 3339 time n days before `now`.
days_ago(n) := time.format(now_ns - (n * 86400000000000))

key(id, status, created_days) := {
	"access_key_id": id, "slot": 1, "status": status,
	"created_at": days_ago(created_days), "last_used_at": days_ago(1),
	"last_used_service": "s3", "last_used_region": "eu-west-1",
}

user(name, path, keys) := {
	"user_name": name,
	"user_id": sprintf("AIDA%s", [upper(name)]),
	"arn": sprintf("arn:aws:iam::123456789012:user%s%s", [path, name]),
	"path": path,
	"created_at": "2026-01-05T00:00:00Z",
	"tags": {},
	"password": {"enabled": false, "last_used": null, "last_changed": null},
	"mfa_active": false,
	"access_keys": keys,
}

snapshot(users) := {
	"schema": "1.0",
	"collected_at": now,
	"source": "aws",
	"organization": null,
	"accounts": [{"account_id": "123456789012", "root": null, "users": users, "error": null}],
}

# The rule's findings for a snapshot and config params. Every `with` value is bound to a local
# variable first (a regorus quirk: see docs/writing-policies.md).
findings_with(inp, params) := fs if {
	n := now_ns
	c := config(params)
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as c
}

findings(inp) := findings_with(inp, {})

# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

test_old_contractor_key_fires if {
	fs := findings(snapshot([user("c.jones", "/contractors/", [key("AKIACONTRACTOR000001", "Active", 45)])]))
	count(fs) == 1
	some f in fs
	f.account_id == "123456789012"
	f.resource == {
		"type": "aws_iam_access_key", "id": "AKIACONTRACTOR000001",
		"arn": "arn:aws:iam::123456789012:user/contractors/c.jones", "user": "c.jones",
	}
	f.message == "Active access key AKIACONTRACTOR000001 of contractor c.jones is 45 days old (created 2026-10-07T00:00:00Z); contractor keys must be younger than 30 days"
	f.remediation == {"action": "deactivate_access_key", "params": {"user_name": "c.jones", "access_key_id": "AKIACONTRACTOR000001"}}
	f.details == {"age_days": 45, "created_at": "2026-10-07T00:00:00Z", "max_days": 30, "path": "/contractors/"}
}

test_key_exactly_30_days_old_fires if {
	count(findings(snapshot([user("c.jones", "/contractors/", [key("AKIA1", "Active", 30)])]))) == 1
}

test_key_29_days_old_is_fine if {
	count(findings(snapshot([user("c.jones", "/contractors/", [key("AKIA1", "Active", 29)])]))) == 0
}

test_sub_path_counts_as_contractor if {
	count(findings(snapshot([user("n.vendor", "/contractors/northwind/", [key("AKIA1", "Active", 60)])]))) == 1
}

test_employee_key_is_ignored if {
	inp := snapshot([
		user("alice", "/", [key("AKIA1", "Active", 200)]),
		user("bob", "/engineering/", [key("AKIA2", "Active", 200)]),
		user("carol", "/contractors-archive/", [key("AKIA3", "Active", 200)]),
	])
	count(findings(inp)) == 0
}

test_inactive_key_is_ignored if {
	count(findings(snapshot([user("c.jones", "/contractors/", [key("AKIA1", "Inactive", 200)])]))) == 0
}

test_only_the_old_key_of_two_fires if {
	fs := findings(snapshot([user("c.jones", "/contractors/", [key("AKIAOLD", "Active", 90), key("AKIANEW", "Active", 3)])]))
	count(fs) == 1
	some f in fs
	f.resource.id == "AKIAOLD"
}

test_params_override_the_limit if {
	inp := snapshot([user("c.jones", "/contractors/", [key("AKIA1", "Active", 20)])])
	count(findings(inp)) == 0
	fs := findings_with(inp, {"contractor_key_days": 14})
	count(fs) == 1
	some f in fs
	f.details.max_days == 14
	contains(f.message, "younger than 14 days")
}

test_break_glass_contractor_gets_manual_remediation if {
	fs := findings(snapshot([user("breakglass-contractor", "/contractors/", [key("AKIA1", "Active", 45)])]))
	some f in fs
	f.remediation.action == "manual"
	f.remediation.params.intended_action == "deactivate_access_key"
	f.remediation.params.break_glass == true
}

test_key_without_id_is_named_by_slot if {
	k := object.union(key(null, "Active", 45), {"slot": 2})
	fs := findings(snapshot([user("c.jones", "/contractors/", [k])]))
	some f in fs
	f.resource.id == "c.jones/key-2"
	f.remediation.action == "manual"
	contains(f.message, "in slot 2")
}

test_uncollected_account_is_skipped if {
	inp := object.union(snapshot([user("c.jones", "/contractors/", [key("AKIA1", "Active", 45)])]), {"accounts": [{
		"account_id": "123456789012", "root": null,
		"users": [user("c.jones", "/contractors/", [key("AKIA1", "Active", 45)])],
		"error": {"code": "AccessDenied", "message": "assume-role failed"},
	}]})
	count(findings(inp)) == 0
}
