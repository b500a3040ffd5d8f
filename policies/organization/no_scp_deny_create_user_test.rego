package credwarden.rules.no_scp_deny_create_user_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.no_scp_deny_create_user as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

with_scps(policies) := findings(t.org_snapshot(policies, []))

flagged(fs) := {f.account_id | some f in fs}

deny_root(statements) := t.scp("p-root", statements, [t.org_root])

test_no_deny_flags_every_active_member if {
	fs := with_scps([])
	flagged(fs) == {"222222222222", "333333333333"}
	some f in fs
	f.account_id == "333333333333"
	f.resource.type == "aws_account"
	f.details.ancestry == ["333333333333", t.ou_sandbox, t.org_root]
	f.details.denied_action == "iam:CreateUser"
	contains(f.message, "iam:CreateUser")
}

test_deny_at_root_covers_everyone if {
	fs := with_scps([deny_root([t.deny_statement("iam:CreateUser")])])
	count(fs) == 0
}

test_deny_at_nested_ou if {
	fs := with_scps([t.scp("p-prod", [t.deny_statement("iam:CreateUser")], [t.ou_prod])])
	flagged(fs) == {"333333333333"}
}

test_deny_on_the_account_itself if {
	fs := with_scps([t.scp("p-acct", [t.deny_statement("iam:CreateUser")], ["222222222222"])])
	flagged(fs) == {"333333333333"}
}

test_denying_access_keys_only_does_not_cover if {
	fs := with_scps([deny_root([t.deny_statement("iam:CreateAccessKey")])])
	count(fs) == 2
}

test_wildcards_cover if {
	count(with_scps([deny_root([t.deny_statement("iam:Create*")])])) == 0
	count(with_scps([deny_root([t.deny_statement("iam:*")])])) == 0
	count(with_scps([deny_root([t.deny_statement("*")])])) == 0
	count(with_scps([deny_root([t.deny_statement("iam:CreateU?er")])])) == 0
}

test_not_action if {
	count(with_scps([deny_root([{"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}])])) == 0
	count(with_scps([deny_root([{"Effect": "Deny", "NotAction": ["iam:Create*"], "Resource": "*"}])])) == 2
}

test_conditional_deny_still_covers if {
	statement := object.union(t.deny_statement("iam:CreateUser"), {"Condition": {"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/BreakGlass"}}})
	fs := with_scps([deny_root([statement])])
	count(fs) == 0
}

test_allow_only_does_not_cover if {
	fs := with_scps([deny_root([{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}])])
	count(fs) == 2
}

test_scps_disabled if {
	org := object.union(t.organization, {
		"roots": [{"id": t.org_root, "name": "Root", "policy_types": ["BACKUP_POLICY"]}],
		"policies": [deny_root([t.deny_statement("iam:CreateUser")])],
	})
	fs := findings(object.union(t.snapshot([]), {"organization": org}))
	count(fs) == 2
}

test_suspended_account_is_skipped if {
	fs := with_scps([t.scp("p-prod", [t.deny_statement("iam:CreateUser")], [t.ou_workloads])])
	flagged(fs) == {"333333333333"}
	not "444444444444" in flagged(fs)
}

test_management_account_with_users if {
	mgmt := object.union(t.account([t.user("admin", {}), t.user("ci", {})]), {"account_id": t.management_id})
	fs := findings(t.org_snapshot([deny_root([t.deny_statement("iam:CreateUser")])], [mgmt]))
	count(fs) == 1
	some f in fs
	f.account_id == t.management_id
	f.details.management_account == true
	f.details.iam_users == 2
}

test_without_organization_nothing_is_reported if {
	fs := findings(t.single([t.user("alice", {})]))
	count(fs) == 0
}
