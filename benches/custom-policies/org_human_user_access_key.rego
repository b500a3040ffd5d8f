# METADATA
# title: Access key on a human IAM user
# description: >-
#   An active access key of an IAM user that is not a service account (its path is not
#   /service/) and not a break-glass user. People get short-lived CLI credentials from IAM
#   Identity Center (aws sso login); a person's long-lived key lives on in laptops, dotfiles and
#   CI variables after the person has left.
# custom:
#   id: ORG018
#   slug: human-user-access-key
#   severity: medium
#   resource_type: aws_iam_access_key
#   controls:
#     nist-800-53-r5: ["IA-2", "IA-5"]
#     acme-iam-standard: ["IAM-2.4"]
#   remediation: >-
#     Set the person up with IAM Identity Center and the AWS CLI's SSO profile, then deactivate
#     and delete the key.
package org.rules.human_user_access_key

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	not service_account(user)
	not lib.is_break_glass(user)
	some key in user.access_keys
	lib.is_active(key)
	finding := {
		"account_id": account.account_id,
		"resource": lib.key_resource(user, key),
		"message": sprintf(
			"Active access key %s belongs to IAM user %s (path %s), which is not a service account",
			[lib.key_label(key), user.user_name, lib.field(user, "path", "/")],
		),
		"remediation": lib.key_remediation(user, key, "deactivate_access_key"),
		"details": {
			"path": lib.field(user, "path", "/"),
			"console_password": lib.password_enabled(user),
			"last_used_at": lib.field(key, "last_used_at", null),
			"created_at": key.created_at,
		},
	}
}

service_account(user) if {
	path := lib.field(user, "path", "/")
	is_string(path)
	startswith(path, "/service/")
}
