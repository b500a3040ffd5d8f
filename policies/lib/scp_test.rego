package credwarden.scp_test

import rego.v1

import data.credwarden.scp
import data.credwarden.lib_test as t

test_ancestry_of_nested_account if {
	inp := t.org_snapshot([], [])
	path := scp.ancestry_path("222222222222") with input as inp
	path == ["222222222222", t.ou_prod, t.ou_workloads, t.org_root]
	ids := scp.ancestry("222222222222") with input as inp
	ids == {"222222222222", t.ou_prod, t.ou_workloads, t.org_root}
}

test_ancestry_of_account_under_root if {
	inp := t.org_snapshot([], [])
	path := scp.ancestry_path(t.management_id) with input as inp
	path == [t.management_id, t.org_root]
}

test_ancestry_with_unknown_parent if {
	# An OU the collector could not list still appears, as a top of the tree.
	org := object.union(t.organization, {"accounts": [{"id": "555555555555", "name": "x", "status": "ACTIVE", "parent_id": "ou-gone"}]})
	inp := object.union(t.snapshot([]), {"organization": org})
	path := scp.ancestry_path("555555555555") with input as inp
	path == ["555555555555", "ou-gone"]
}

test_member_accounts_are_active_non_management if {
	inp := t.org_snapshot([], [])
	ids := {a.id | some a in scp.member_accounts} with input as inp
	ids == {"222222222222", "333333333333"}
}

test_no_organization if {
	inp := t.snapshot([])
	members := scp.member_accounts with input as inp
	count(members) == 0
}

test_statements_object_or_array if {
	st := {"Effect": "Deny", "Action": "iam:CreateUser"}
	scp.statements({"Statement": st}) == [st]
	scp.statements({"Statement": [st, st]}) == [st, st]
	scp.statements({"Version": "2012-10-17"}) == []
	scp.statements(null) == []
}

test_document_as_json_text if {
	doc := scp.document({"document": "{\"Statement\": {\"Effect\": \"Deny\", \"Action\": \"*\"}}"})
	doc.Statement.Effect == "Deny"
}

test_statement_denies_by_action if {
	scp.statement_denies({"Effect": "Deny", "Action": "iam:CreateAccessKey"}, "iam:CreateAccessKey")
	scp.statement_denies({"Effect": "Deny", "Action": ["s3:*", "iam:Create*"]}, "iam:CreateAccessKey")
	scp.statement_denies({"Effect": "Deny", "Action": "*"}, "iam:CreateUser")
	scp.statement_denies({"Effect": "Deny", "Action": "IAM:*"}, "iam:CreateUser")
}

test_statement_denies_not_other_actions if {
	not scp.statement_denies({"Effect": "Deny", "Action": "iam:DeleteUser"}, "iam:CreateUser")
	not scp.statement_denies({"Effect": "Deny", "Action": ["iam:CreateUserX"]}, "iam:CreateUser")
	not scp.statement_denies({"Effect": "Allow", "Action": "*"}, "iam:CreateUser")
	not scp.statement_denies({"Effect": "Deny"}, "iam:CreateUser")
}

test_statement_denies_by_not_action if {
	scp.statement_denies({"Effect": "Deny", "NotAction": ["s3:*", "sts:*"]}, "iam:CreateUser")
	scp.statement_denies({"Effect": "Deny", "NotAction": "iam:Get*"}, "iam:CreateUser")
	not scp.statement_denies({"Effect": "Deny", "NotAction": "iam:*"}, "iam:CreateUser")
	not scp.statement_denies({"Effect": "Deny", "NotAction": ["s3:*", "iam:Create*"]}, "iam:CreateUser")
	not scp.statement_denies({"Effect": "Allow", "NotAction": "s3:*"}, "iam:CreateUser")
}

entry(resource, not_resource) := {"resource": resource, "not_resource": not_resource, "partition": "aws"}

test_covers_users if {
	scp.covers_users(entry(null, null), "222222222222")
	scp.covers_users(entry("*", null), "222222222222")
	scp.covers_users(entry(["arn:aws:s3:::x", "arn:aws:iam::*:user/*"], null), "222222222222")
	scp.covers_users(entry("arn:aws:iam::222222222222:*", null), "222222222222")
	scp.covers_users(entry(null, "arn:aws:iam::*:user/breakglass-admin"), "222222222222")
}

test_does_not_cover_some_users_only if {
	not scp.covers_users(entry("arn:aws:iam::*:user/ops/*", null), "222222222222")
	not scp.covers_users(entry("arn:aws:iam::333333333333:user/*", null), "222222222222")
	not scp.covers_users(entry("arn:aws:iam::*:role/*", null), "222222222222")
	not scp.covers_users(entry(null, "arn:aws:iam::*:user/*"), "222222222222")
}

test_deny_index_by_target if {
	p := t.scp("p-1", [t.deny_statement("iam:CreateAccessKey"), t.deny_statement("s3:*")], [t.ou_prod, "333333333333"])
	inp := t.org_snapshot([p], [])
	index := scp.deny_index("iam:CreateAccessKey") with input as inp
	object.keys(index) == {t.ou_prod, "333333333333"}
	count(index[t.ou_prod]) == 1
	some e in index[t.ou_prod]
	e.policy_id == "p-1"
	e.statement == "#0"
	e.conditional == false
}

test_covered_through_nested_ou if {
	p := t.scp("p-1", [t.deny_statement("iam:CreateAccessKey")], [t.ou_workloads])
	inp := t.org_snapshot([p], [])
	index := scp.deny_index("iam:CreateAccessKey") with input as inp
	scp.covered(index, "222222222222") with input as inp
	not scp.covered(index, "333333333333") with input as inp
}

test_scps_disabled if {
	org := object.union(t.organization, {"roots": [{"id": t.org_root, "name": "Root", "policy_types": ["TAG_POLICY"]}]})
	scp.scps_disabled with input as object.union(t.snapshot([]), {"organization": org})
}

test_scps_enabled if {
	inp := t.org_snapshot([], [])
	not scp.scps_disabled with input as inp
	scp.scps_enabled == true with input as inp
}

test_unknown_policy_types_count_as_enabled if {
	org := object.union(t.organization, {"roots": [{"id": t.org_root, "name": "Root", "policy_types": []}]})
	not scp.scps_disabled with input as object.union(t.snapshot([]), {"organization": org})
}

test_partition_from_policy_arn if {
	scp.partition({"arn": "arn:aws-us-gov:organizations::111111111111:policy/o-x/service_control_policy/p-1"}) == "aws-us-gov"
	scp.partition({"arn": null}) == "aws"
	scp.partition({}) == "aws"
}
