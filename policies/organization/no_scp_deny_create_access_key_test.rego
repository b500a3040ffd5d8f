package credwarden.rules.no_scp_deny_create_access_key_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.no_scp_deny_create_access_key as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

# Findings for these SCPs (besides FullAWSAccess), with no account collected.
with_scps(policies) := findings(t.org_snapshot(policies, []))

flagged(fs) := {f.account_id | some f in fs}

deny_root(statements) := t.scp("p-root", statements, [t.org_root])

test_no_deny_flags_every_active_member if {
	fs := with_scps([])
	flagged(fs) == {"222222222222", "333333333333"}
	count(fs) == 2
	some f in fs
	f.account_id == "222222222222"
	f.resource == {
		"type": "aws_account",
		"id": "222222222222",
		"arn": "arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/222222222222",
	}
	f.details.ancestry == ["222222222222", t.ou_prod, t.ou_workloads, t.org_root]
	f.details.scps_enabled == true
	f.remediation == {"action": "attach_scp", "params": {"target_id": "222222222222", "account_id": "222222222222", "deny_actions": ["iam:CreateAccessKey"]}}
	contains(f.message, "222222222222")
	contains(f.message, "iam:CreateAccessKey")
}

test_suspended_and_management_accounts_are_not_members if {
	fs := with_scps([])
	not "444444444444" in flagged(fs)
	not t.management_id in flagged(fs)
}

test_deny_at_root_covers_everyone if {
	fs := with_scps([deny_root([t.deny_statement("iam:CreateAccessKey")])])
	count(fs) == 0
}

test_deny_at_parent_ou_covers_nested_ou if {
	fs := with_scps([t.scp("p-ou", [t.deny_statement("iam:CreateAccessKey")], [t.ou_workloads])])
	flagged(fs) == {"333333333333"}
}

test_deny_on_the_account_itself if {
	fs := with_scps([t.scp("p-acct", [t.deny_statement("iam:CreateAccessKey")], ["333333333333"])])
	flagged(fs) == {"222222222222"}
}

test_deny_on_another_ou_does_not_cover if {
	fs := with_scps([t.scp("p-sandbox", [t.deny_statement("iam:CreateAccessKey")], [t.ou_sandbox])])
	flagged(fs) == {"222222222222"}
}

test_wildcard_iam_create if {
	fs := with_scps([deny_root([t.deny_statement(["sts:AssumeRole", "iam:Create*"])])])
	count(fs) == 0
}

test_wildcard_iam_star if {
	fs := with_scps([deny_root([t.deny_statement("iam:*")])])
	count(fs) == 0
}

test_wildcard_star if {
	fs := with_scps([deny_root([t.deny_statement("*")])])
	count(fs) == 0
}

test_not_action_that_spares_other_services_covers if {
	fs := with_scps([deny_root([{"Effect": "Deny", "NotAction": ["s3:*", "ec2:*"], "Resource": "*"}])])
	count(fs) == 0
}

test_not_action_that_spares_the_action_does_not_cover if {
	fs := with_scps([deny_root([{"Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*"}])])
	count(fs) == 2
}

test_conditional_deny_exempting_break_glass_still_covers if {
	statement := object.union(t.deny_statement("iam:CreateAccessKey"), {"Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/BreakGlass"}}})
	fs := with_scps([deny_root([statement])])
	count(fs) == 0
}

test_allow_only_scp_does_not_cover if {
	fs := with_scps([deny_root([{"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"}])])
	count(fs) == 2
}

test_deny_of_another_action_does_not_cover if {
	fs := with_scps([deny_root([t.deny_statement(["iam:CreateUser", "iam:DeleteAccessKey"])])])
	count(fs) == 2
}

test_statement_as_single_object if {
	p := object.union(deny_root([]), {"document": {"Version": "2012-10-17", "Statement": t.deny_statement("iam:CreateAccessKey")}})
	fs := with_scps([p])
	count(fs) == 0
}

test_document_as_json_text if {
	text := "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"iam:CreateAccessKey\",\"Resource\":\"*\"}]}"
	p := object.union(deny_root([]), {"document": text})
	fs := with_scps([p])
	count(fs) == 0
}

test_deny_for_some_users_only_does_not_cover if {
	statement := {"Effect": "Deny", "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::*:user/ops/*"}
	fs := with_scps([deny_root([object.union(statement, {"Sid": "OpsOnly"})])])
	count(fs) == 2
	some f in fs
	f.details.partial_denies == ["policy-p-root (OpsOnly)"]
}

test_deny_for_all_users_by_arn_covers if {
	fs := with_scps([deny_root([{"Effect": "Deny", "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::*:user/*"}])])
	count(fs) == 0
}

test_not_resource_exempting_break_glass_user_covers if {
	statement := {"Effect": "Deny", "Action": "iam:CreateAccessKey", "NotResource": "arn:aws:iam::*:user/breakglass-admin"}
	fs := with_scps([deny_root([statement])])
	count(fs) == 0
}

test_scps_disabled_nothing_is_covered if {
	org := object.union(t.organization, {
		"roots": [{"id": t.org_root, "name": "Root", "policy_types": ["TAG_POLICY"]}],
		"policies": [deny_root([t.deny_statement("iam:CreateAccessKey")])],
	})
	fs := findings(object.union(t.snapshot([]), {"organization": org}))
	flagged(fs) == {"222222222222", "333333333333"}
	some f in fs
	f.details.scps_enabled == false
	f.remediation.action == "manual"
	contains(f.message, "disabled")
}

test_management_account_with_users_gets_its_own_finding if {
	mgmt := object.union(t.account([t.user("admin", {})]), {"account_id": t.management_id})
	fs := findings(t.org_snapshot([deny_root([t.deny_statement("iam:CreateAccessKey")])], [mgmt]))
	count(fs) == 1
	some f in fs
	f.account_id == t.management_id
	f.details.management_account == true
	f.details.iam_users == 1
	f.resource.arn == "arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/111111111111"
	contains(f.message, "management account")
	f.remediation.action == "manual"
}

test_management_account_without_users_is_fine if {
	mgmt := object.union(t.account([]), {"account_id": t.management_id})
	fs := findings(t.org_snapshot([deny_root([t.deny_statement("iam:CreateAccessKey")])], [mgmt]))
	count(fs) == 0
}

test_management_account_not_collected_is_fine if {
	mgmt := t.errored(object.union(t.account([t.user("admin", {})]), {"account_id": t.management_id}))
	fs := findings(t.org_snapshot([deny_root([t.deny_statement("iam:CreateAccessKey")])], [mgmt]))
	count(fs) == 0
}

test_without_organization_nothing_is_reported if {
	fs := findings(t.single([t.user("alice", {})]))
	count(fs) == 0
}
