# METADATA
# title: IAM user without credentials
# description: >-
#   An IAM user with no console password and no active access key. Nobody can sign in as it
#   and no workload uses it: an orphan that still holds its permissions and can be given
#   credentials again by anyone allowed to.
# custom:
#   id: CW302
#   slug: user-without-credentials
#   severity: low
#   resource_type: aws_iam_user
#   controls:
#     nist-800-53-r5: ["AC-2"]
#     iso-27001-2022: ["A.5.16", "A.5.18"]
#   remediation: >-
#     Confirm the user is not needed, delete its inactive access keys, detach its policies and
#     groups, then delete it.
package credwarden.rules.user_without_credentials

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	not lib.password_enabled(user)
	count(lib.active_keys(user)) == 0
	inactive := count([key | some key in object.get(user, "access_keys", []); lib.is_inactive(key)])
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf(
			"IAM user %s has no console password and no active access key (%d inactive key(s))",
			[user.user_name, inactive],
		),
		"remediation": lib.manual(
			{"user_name": user.user_name, "break_glass": lib.break_glass_flag(user)},
			"delete the orphaned user",
		),
		"details": {"inactive_keys": inactive, "created_at": user.created_at},
	}
}
