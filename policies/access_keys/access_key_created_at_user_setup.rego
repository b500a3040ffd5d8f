# METADATA
# title: Access key created with a console user and never used
# description: >-
#   A console user (password enabled) with an active access key that has never been used: the
#   mark of a key created during initial user setup "just in case". CIS asks that keys be created
#   only when the user needs them, as a separate step.
# custom:
#   id: CW105
#   slug: access-key-created-at-user-setup
#   severity: low
#   resource_type: aws_iam_access_key
#   controls:
#     cis-aws-1.2: ["1.21"]
#     cis-aws-1.4: ["1.11"]
#     cis-aws-1.5: ["1.11"]
#     cis-aws-2.0: ["1.11"]
#     cis-aws-3.0: ["1.11"]
#     cis-aws-5.0: ["1.10"]
#     nist-800-53-r5: ["AC-2", "IA-5"]
#     iso-27001-2022: ["A.5.17", "A.5.18"]
#   remediation: >-
#     Deactivate, then delete the unused key. If the user later needs programmatic access, they
#     create a key themselves (or, better, use IAM Identity Center credentials).
package credwarden.rules.access_key_created_at_user_setup

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	lib.password_enabled(user)
	some key in user.access_keys
	lib.is_active(key)
	lib.never_used(key)
	finding := {
		"account_id": account.account_id,
		"resource": lib.key_resource(user, key),
		"message": sprintf(
			"Console user %s has an active access key %s that has never been used (created %s)",
			[user.user_name, lib.key_label(key), key.created_at],
		),
		"remediation": lib.key_remediation(user, key, "deactivate_access_key"),
		"details": {"key_created_at": key.created_at, "user_created_at": user.created_at},
	}
}
