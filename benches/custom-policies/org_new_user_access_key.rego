# METADATA
# title: Access key on a user in its onboarding period
# description: >-
#   An active access key of an IAM user created less than `params.new_user_days` (default 45)
#   days ago. New joiners and new workloads start with IAM Identity Center or a role; a key
#   during onboarding needs a security review first, and a key that appears on a brand-new user
#   is also a classic sign of an attacker's persistence.
# custom:
#   id: ORG010
#   slug: new-user-access-key
#   severity: medium
#   resource_type: aws_iam_access_key
#   controls:
#     nist-800-53-r5: ["AC-2(1)", "IA-5"]
#     acme-iam-standard: ["IAM-3.2"]
#   remediation: >-
#     Check that the key was requested and reviewed (ticket in the security queue). If not,
#     deactivate it and find out who created it (CloudTrail CreateAccessKey).
package org.rules.new_user_access_key

import rego.v1

import data.credwarden.lib

new_days := d if {
	d := lib.field(data.credwarden.config.params, "new_user_days", 45)
	is_number(d)
} else := 45

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	user_age := lib.days_since(user.created_at)
	user_age < new_days
	some key in user.access_keys
	lib.is_active(key)
	finding := {
		"account_id": account.account_id,
		"resource": lib.key_resource(user, key),
		"message": sprintf(
			"Active access key %s belongs to IAM user %s, created %d days ago (onboarding period: %d days)",
			[lib.key_label(key), user.user_name, user_age, new_days],
		),
		"remediation": lib.key_remediation(user, key, "deactivate_access_key"),
		"details": {
			"user_created_at": user.created_at,
			"user_age_days": user_age,
			"key_created_at": key.created_at,
			"new_user_days": new_days,
		},
	}
}
