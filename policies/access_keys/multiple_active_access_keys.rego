# METADATA
# title: User with more than one active access key
# description: >-
#   An IAM user with two active access keys. Two keys are only needed for the few minutes of a
#   rotation; kept longer, the second key doubles what can leak and hides which one is in use.
# custom:
#   id: CW103
#   slug: multiple-active-access-keys
#   severity: medium
#   resource_type: aws_iam_user
#   controls:
#     cis-aws-1.4: ["1.13"]
#     cis-aws-1.5: ["1.13"]
#     cis-aws-2.0: ["1.13"]
#     cis-aws-3.0: ["1.13"]
#     cis-aws-5.0: ["1.12"]
#     nist-800-53-r5: ["IA-5"]
#     iso-27001-2022: ["A.5.17"]
#   remediation: >-
#     Find which key is in use (last used date and service), move every consumer to it, then
#     deactivate and delete the other key.
package credwarden.rules.multiple_active_access_keys

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	active := lib.active_keys(user)
	count(active) >= 2
	labels := [lib.key_label(key) | some key in active]
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf(
			"User %s has %d active access keys (%s); keep at most one",
			[user.user_name, count(active), concat(", ", labels)],
		),
		"remediation": lib.manual({"user_name": user.user_name}, "keep one active access key, deactivate the other"),
		"details": {"active_keys": [key_summary(key) | some key in active]},
	}
}

key_summary(key) := {
	"access_key_id": object.get(key, "access_key_id", null),
	"slot": object.get(key, "slot", null),
	"created_at": key.created_at,
	"last_used_at": object.get(key, "last_used_at", null),
}
