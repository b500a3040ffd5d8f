# METADATA
# title: IAM user with both a console password and an active access key
# description: >-
#   A user is either a person (console, ideally through IAM Identity Center) or a workload
#   (access key), never both: a person's key ends up in scripts and laptops, a workload's
#   password is shared. Break-glass users are reported too (they should have neither in daily use).
# custom:
#   id: ORG009
#   slug: console-and-access-key
#   severity: medium
#   resource_type: aws_iam_user
#   controls:
#     nist-800-53-r5: ["AC-2", "IA-2"]
#     acme-iam-standard: ["IAM-2.3"]
#   remediation: >-
#     Decide what the user is. For a person, delete the access keys and use short-lived
#     credentials from IAM Identity Center; for a workload, delete the login profile.
package org.rules.console_and_access_key

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	lib.password_enabled(user)
	keys := lib.active_keys(user)
	count(keys) > 0
	key_ids := [lib.key_id(user, key) | some key in keys]
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf(
			"IAM user %s has a console password and %d active access key(s) (%s)",
			[user.user_name, count(keys), concat(", ", key_ids)],
		),
		"remediation": lib.manual({"user_name": user.user_name, "access_key_ids": key_ids}, "remove either the login profile or the access keys"),
		"details": {
			"active_keys": key_ids,
			"password_last_used": lib.field(user.password, "last_used", null),
			"mfa_active": lib.field(user, "mfa_active", null),
			"break_glass": lib.break_glass_flag(user),
		},
	}
}
