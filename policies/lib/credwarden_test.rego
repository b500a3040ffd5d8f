# Tests of the shared library, and the fixtures every bundled policy test builds on
# (import data.credwarden.lib_test as t).
package credwarden.lib_test

import rego.v1

import data.credwarden.lib

# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------

now := "2026-11-21T12:00:00Z"

now_ns := time.parse_rfc3339_ns(now)

account_id := "222222222222"

config := {
	"thresholds": {
		"unused_days": 90,
		"rotation_days": 90,
		"inactive_user_days": 90,
		"root_use_days": 90,
		"inactive_key_grace_days": 30,
		"break_glass_use_days": 30,
		"stale_report_hours": 4,
	},
	"break_glass": {
		"users": ["breakglass-admin", "arn:aws:iam::222222222222:user/ops/emergency"],
		"tag_key": "credwarden:break-glass",
		"tag_value": "true",
	},
	"params": {},
}

# The RFC 3339 time n days / hours before `now`.
days_ago(n) := time.format(now_ns - (n * 86400000000000))

hours_ago(n) := time.format(now_ns - (n * 3600000000000))

# A timestamp n days ago, or null for null.
maybe_days_ago(n) := days_ago(n) if {
	is_number(n)
} else := null

# An IAM user with no password, no MFA, no keys, created 400 days ago; `overrides` wins.
user(name, overrides) := object.union(
	{
		"user_name": name,
		"user_id": sprintf("AIDA%s", [upper(name)]),
		"arn": sprintf("arn:aws:iam::%s:user/%s", [account_id, name]),
		"path": "/",
		"created_at": days_ago(400),
		"tags": {},
		"password": {"enabled": false, "last_used": null, "last_changed": null},
		"mfa_active": false,
		"access_keys": [],
	},
	overrides,
)

# A console password, last used `used_days` days ago (null: never).
password(used_days) := {"enabled": true, "last_used": maybe_days_ago(used_days), "last_changed": days_ago(400)}

# An access key created `created_days` ago and last used `used_days` ago (null: never).
key(id, status, created_days, used_days) := {
	"access_key_id": id,
	"slot": 1,
	"status": status,
	"created_at": days_ago(created_days),
	"last_used_at": maybe_days_ago(used_days),
	"last_used_service": null,
	"last_used_region": null,
}

# The same key as a credential report names it: no id, a slot.
report_key(slot, status, created_days, used_days) := object.union(
	key(null, status, created_days, used_days),
	{"slot": slot},
)

root_slot(slot, active, rotated_days, used_days) := {
	"slot": slot,
	"active": active,
	"last_rotated": maybe_days_ago(rotated_days),
	"last_used_at": maybe_days_ago(used_days),
	"last_used_service": null,
	"last_used_region": null,
}

# A well-kept root user: MFA on, no keys, not used for a year.
root := {
	"arn": sprintf("arn:aws:iam::%s:root", [account_id]),
	"password_enabled": true,
	"password_last_used": days_ago(365),
	"mfa_active": true,
	"access_keys": [root_slot(1, false, null, null), root_slot(2, false, null, null)],
	"account_access_keys_present": false,
	"account_mfa_enabled": true,
}

root_with(overrides) := object.union(root, overrides)

account(users) := {
	"account_id": account_id,
	"alias": "acme-prod",
	"credential_report": {"generated_at": hours_ago(1)},
	"root": root,
	"users": users,
	"error": null,
}

account_with(users, overrides) := object.union(account(users), overrides)

# An account the collector could not read.
failed_account(id) := {
	"account_id": id,
	"alias": null,
	"credential_report": null,
	"root": null,
	"users": [],
	"error": {"code": "AccessDenied", "message": "assume-role failed"},
}

# The same account marked as not collected (its users must then be ignored).
errored(acct) := object.union(acct, {"error": {"code": "AccessDenied", "message": "assume-role failed"}})

snapshot(accounts) := {
	"schema": "1.0",
	"generator": {"tool": "credwarden", "version": "0.1.0"},
	"collected_at": now,
	"source": "aws",
	"organization": null,
	"accounts": accounts,
}

# A one-account snapshot with these users.
single(users) := snapshot([account(users)])

# An organization: management 111111111111; root r-a1b2; OUs Workloads > Prod (nested) and
# Sandbox; members prod 222222222222 (in Prod), sandbox 333333333333 (in Sandbox) and the
# suspended 444444444444; only the AWS-managed FullAWSAccess (an Allow) attached, at the root.
org_id := "o-a1b2c3d4e5"

management_id := "111111111111"

org_root := "r-a1b2"

ou_workloads := "ou-a1b2-11111111"

ou_prod := "ou-a1b2-22222222"

ou_sandbox := "ou-a1b2-33333333"

full_aws_access := {
	"id": "p-FullAWSAccess",
	"name": "FullAWSAccess",
	"arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
	"aws_managed": true,
	"document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
	"targets": [org_root],
}

organization := {
	"id": org_id,
	"management_account_id": management_id,
	"roots": [{"id": org_root, "name": "Root", "policy_types": ["SERVICE_CONTROL_POLICY"]}],
	"organizational_units": [
		{"id": ou_workloads, "name": "Workloads", "parent_id": org_root},
		{"id": ou_prod, "name": "Prod", "parent_id": ou_workloads},
		{"id": ou_sandbox, "name": "Sandbox", "parent_id": org_root},
	],
	"accounts": [
		{"id": management_id, "name": "management", "email": "aws@example.com", "status": "ACTIVE", "parent_id": org_root},
		{"id": "222222222222", "name": "prod", "email": "prod@example.com", "status": "ACTIVE", "parent_id": ou_prod},
		{"id": "333333333333", "name": "sandbox", "email": "sandbox@example.com", "status": "ACTIVE", "parent_id": ou_sandbox},
		{"id": "444444444444", "name": "old", "email": "old@example.com", "status": "SUSPENDED", "parent_id": ou_sandbox},
	],
	"policies": [full_aws_access],
}

# A customer-managed SCP with these statements, attached to these targets.
scp(id, statements, targets) := {
	"id": id,
	"name": sprintf("policy-%s", [id]),
	"arn": sprintf("arn:aws:organizations::%s:policy/%s/service_control_policy/%s", [management_id, org_id, id]),
	"aws_managed": false,
	"document": {"Version": "2012-10-17", "Statement": statements},
	"targets": targets,
}

deny_statement(actions) := {"Effect": "Deny", "Action": actions, "Resource": "*"}

# A snapshot of the organization with these extra SCPs; `accounts` are the collected ones.
org_snapshot(policies, accounts) := object.union(snapshot(accounts), {"organization": object.union(
	organization,
	{"policies": array.concat([full_aws_access], policies)},
)})

# ---------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------

# regorus evaluates a `with` value that refers to a rule after it has reset its rule cache,
# so an expression that uses that rule again comes out undefined. Tests therefore bind
# every `with` value and every argument to a local variable first.

test_days_since_whole_days if {
	ts := days_ago(90)
	n := now_ns
	lib.days_since(ts) == 90 with data.credwarden.now_ns as n
}

test_days_since_floors_partial_days if {
	# 89 days and 23 hours is 89 whole days.
	ts := hours_ago((89 * 24) + 23)
	n := now_ns
	lib.days_since(ts) == 89 with data.credwarden.now_ns as n
}

test_days_since_future_is_negative if {
	ts := days_ago(-2)
	n := now_ns
	lib.days_since(ts) == -2 with data.credwarden.now_ns as n
}

test_days_since_null_is_undefined if {
	n := now_ns
	not lib.days_since(null) with data.credwarden.now_ns as n
}

test_hours_since if {
	ts := hours_ago(5)
	n := now_ns
	lib.hours_since(ts) == 5 with data.credwarden.now_ns as n
	lib.hours_since("2026-11-21T07:30:00Z") == 4 with data.credwarden.now_ns as n
}

test_latest_ignores_nulls if {
	lib.latest([days_ago(10), null, days_ago(3), days_ago(40)]) == days_ago(3)
}

test_latest_of_nothing_is_undefined if {
	not lib.latest([null, null])
	not lib.latest([])
}

# ---------------------------------------------------------------------------
# Accounts and keys
# ---------------------------------------------------------------------------

test_collected_accounts_skip_errors if {
	inp := snapshot([account([]), failed_account("333333333333")])
	ids := {a.account_id | some a in lib.collected_accounts} with input as inp
	ids == {account_id}
}

test_collected_accounts_absent_error_field if {
	inp := snapshot([object.remove(account([]), ["error"])])
	count(lib.collected_accounts) == 1 with input as inp
}

test_last_activity_prefers_last_use if {
	lib.last_activity(key("AKIA1", "Active", 200, 5)) == days_ago(5)
}

test_last_activity_never_used_is_creation if {
	lib.last_activity(key("AKIA1", "Active", 200, null)) == days_ago(200)
}

test_key_present if {
	lib.key_present(root_slot(1, true, null, null))
	lib.key_present(root_slot(1, false, 100, null))
	not lib.key_present(root_slot(1, false, null, null))
}

test_root_key_slots if {
	lib.root_key_slots(root_with({"access_keys": [root_slot(2, false, 10, null), root_slot(1, true, 10, null)]})) == [1, 2]
	lib.root_key_slots(root) == []
}

test_key_id_known if {
	lib.key_id(user("alice", {}), key("AKIA1", "Active", 1, 1)) == "AKIA1"
}

test_key_id_from_slot_when_unknown if {
	lib.key_id(user("alice", {}), report_key(2, "Active", 1, 1)) == "alice/key-2"
}

test_key_id_without_slot if {
	lib.key_id(user("alice", {}), object.union(report_key(2, "Active", 1, 1), {"slot": null})) == "alice/key"
}

# ---------------------------------------------------------------------------
# Break-glass
# ---------------------------------------------------------------------------

test_break_glass_by_config_name if {
	cfg := config
	u := user("breakglass-admin", {})
	lib.is_break_glass(u) with data.credwarden.config as cfg
}

test_break_glass_by_config_name_ignores_case if {
	cfg := config
	u := user("BreakGlass-Admin", {})
	lib.is_break_glass(u) with data.credwarden.config as cfg
}

test_break_glass_by_config_arn if {
	cfg := config
	u := user("emergency", {"arn": "arn:aws:iam::222222222222:user/ops/emergency", "path": "/ops/"})
	lib.is_break_glass(u) with data.credwarden.config as cfg
}

test_break_glass_arn_must_match_whole_arn if {
	# Same name, other account: the configured ARN does not name this user.
	cfg := config
	u := user("emergency", {"arn": "arn:aws:iam::999999999999:user/ops/emergency"})
	not lib.is_break_glass(u) with data.credwarden.config as cfg
}

test_break_glass_by_tag_value_ignores_case if {
	cfg := config
	u := user("vault", {"tags": {"credwarden:break-glass": "TRUE"}})
	lib.is_break_glass(u) with data.credwarden.config as cfg
}

test_break_glass_tag_with_other_value if {
	cfg := config
	u := user("vault", {"tags": {"credwarden:break-glass": "false"}})
	not lib.is_break_glass(u) with data.credwarden.config as cfg
}

test_break_glass_tag_key_is_configurable if {
	cfg := object.union(config, {"break_glass": {"users": [], "tag_key": "Emergency", "tag_value": "yes"}})
	tagged := user("vault", {"tags": {"Emergency": "Yes"}})
	default_tag := user("vault", {"tags": {"credwarden:break-glass": "true"}})
	lib.is_break_glass(tagged) with data.credwarden.config as cfg
	not lib.is_break_glass(default_tag) with data.credwarden.config as cfg
}

test_break_glass_empty_config if {
	cfg := object.union(config, {"break_glass": {"users": [], "tag_key": "credwarden:break-glass", "tag_value": "true"}})
	u := user("breakglass-admin", {})
	not lib.is_break_glass(u) with data.credwarden.config as cfg
}

test_ordinary_user_is_not_break_glass if {
	cfg := config
	u := user("alice", {"tags": {"team": "payments"}})
	not lib.is_break_glass(u) with data.credwarden.config as cfg
}

# ---------------------------------------------------------------------------
# Resources and remediation
# ---------------------------------------------------------------------------

test_key_resource if {
	lib.key_resource(user("alice", {}), key("AKIA1", "Active", 1, 1)) == {
		"type": "aws_iam_access_key",
		"id": "AKIA1",
		"arn": "arn:aws:iam::222222222222:user/alice",
		"user": "alice",
	}
}

test_account_resource_with_organization if {
	inp := object.union(snapshot([]), {"organization": {"id": "o-a1b2c3d4e5", "management_account_id": "111111111111"}})
	r := lib.account_resource("222222222222") with input as inp
	r == {
		"type": "aws_account",
		"id": "222222222222",
		"arn": "arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/222222222222",
	}
}

test_account_resource_without_organization if {
	inp := snapshot([])
	r := lib.account_resource("222222222222") with input as inp
	r.arn == "arn:aws:iam::222222222222:root"
}

test_key_remediation_acts_on_ordinary_user if {
	cfg := config
	u := user("alice", {})
	k := key("AKIA1", "Active", 1, 1)
	r := lib.key_remediation(u, k, "deactivate_access_key") with data.credwarden.config as cfg
	r == {"action": "deactivate_access_key", "params": {"user_name": "alice", "access_key_id": "AKIA1"}}
}

test_key_remediation_never_acts_on_break_glass if {
	cfg := config
	u := user("breakglass-admin", {})
	k := key("AKIA1", "Active", 1, 1)
	r := lib.key_remediation(u, k, "deactivate_access_key") with data.credwarden.config as cfg
	r.action == "manual"
	r.params.break_glass == true
	r.params.intended_action == "deactivate_access_key"
}

test_key_remediation_without_key_id_is_manual if {
	cfg := config
	u := user("alice", {})
	k := report_key(2, "Active", 1, 1)
	r := lib.key_remediation(u, k, "delete_access_key") with data.credwarden.config as cfg
	r.action == "manual"
	r.params.slot == 2
}

# ---------------------------------------------------------------------------
# IAM wildcards
# ---------------------------------------------------------------------------

test_action_matches_exact_ignoring_case if {
	lib.action_matches("iam:CreateAccessKey", "iam:CreateAccessKey")
	lib.action_matches("IAM:createaccesskey", "iam:CreateAccessKey")
}

test_action_matches_wildcards if {
	lib.action_matches("*", "iam:CreateAccessKey")
	lib.action_matches("iam:*", "iam:CreateAccessKey")
	lib.action_matches("iam:Create*", "iam:CreateAccessKey")
	lib.action_matches("iam:*AccessKey", "iam:CreateAccessKey")
	lib.action_matches("iam:Create?ccessKey", "iam:CreateAccessKey")
	lib.action_matches("*:*", "iam:CreateUser")
}

test_action_matches_is_anchored if {
	not lib.action_matches("iam:CreateAccessKey", "iam:CreateAccessKeyV2")
	not lib.action_matches("iam:Create", "iam:CreateUser")
	not lib.action_matches("CreateUser", "iam:CreateUser")
	not lib.action_matches("iam:Delete*", "iam:CreateUser")
	not lib.action_matches("s3:*", "iam:CreateUser")
}

test_action_matches_escapes_regex_metacharacters if {
	not lib.action_matches("iam:Create.ccessKey", "iam:CreateAccessKey")
	lib.action_matches("iam:Create.ccessKey", "iam:Create.ccessKey")
	not lib.action_matches("iam:(Create)+User", "iam:CreateUser")
	not lib.action_matches("iam:[C]reateUser", "iam:CreateUser")
	not lib.action_matches("iam:Create|iam:CreateUser", "iam:CreateUser")
}

test_action_matches_question_mark_is_one_character if {
	not lib.action_matches("iam:Create?User", "iam:CreateUser")
	lib.action_matches("iam:Create?ser", "iam:CreateUser")
}

test_action_matches_non_strings_do_not_match if {
	not lib.action_matches(null, "iam:CreateUser")
	not lib.action_matches(["iam:*"], "iam:CreateUser")
}

test_wildcard_match_is_case_sensitive if {
	lib.wildcard_match("arn:aws:iam::*:user/*", "arn:aws:iam::222222222222:user/alice")
	not lib.wildcard_match("arn:aws:iam::*:USER/*", "arn:aws:iam::222222222222:user/alice")
}
