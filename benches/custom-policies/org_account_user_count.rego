# METADATA
# title: Too many IAM users in one account
# description: >-
#   An account with more than `params.max_users_per_account` (default 250) IAM users. Past that
#   size, user-by-user access reviews stop happening; the account needs a plan to move people to
#   IAM Identity Center and workloads to roles.
# custom:
#   id: ORG012
#   slug: too-many-iam-users
#   severity: low
#   resource_type: aws_account
#   controls:
#     nist-800-53-r5: ["AC-2"]
#     acme-iam-standard: ["IAM-5.1"]
#   remediation: >-
#     Agree a migration plan with the account's owners: people to IAM Identity Center, workloads to
#     IAM roles, and delete the users as they move.
package org.rules.account_user_count

import rego.v1

import data.credwarden.lib

max_users := n if {
	n := lib.field(data.credwarden.config.params, "max_users_per_account", 250)
	is_number(n)
} else := 250

deny contains finding if {
	some account in lib.collected_accounts
	users := lib.field(account, "users", [])
	total := count(users)
	total > max_users
	service := count([u | some u in users; is_service(u)])
	finding := {
		"account_id": account.account_id,
		"resource": lib.account_resource(account.account_id),
		"message": sprintf(
			"Account %s has %d IAM users (%d service accounts), more than the %d allowed",
			[account.account_id, total, service, max_users],
		),
		"remediation": lib.manual({"account_id": account.account_id}, "plan the migration of the account's users to Identity Center and roles"),
		"details": {"users": total, "service_accounts": service, "other_users": total - service, "max_users": max_users},
	}
}

is_service(user) if {
	path := lib.field(user, "path", "/")
	is_string(path)
	startswith(path, "/service/")
}
