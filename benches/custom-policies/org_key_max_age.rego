# METADATA
# title: Access key older than the maximum key lifetime
# description: >-
#   An active access key created `params.max_key_age_days` (default 365) days ago or more. The
#   rotation rule (CW102) asks for rotation; this is the hard stop of the company standard: no
#   long-lived key survives its first birthday, whatever exception the rotation rule has.
# custom:
#   id: ORG005
#   slug: access-key-past-max-lifetime
#   severity: high
#   resource_type: aws_iam_access_key
#   controls:
#     nist-800-53-r5: ["IA-5(1)"]
#     iso-27001-2022: ["A.5.17"]
#     acme-iam-standard: ["IAM-3.1"]
#   remediation: >-
#     Create a new key, move the workload to it, deactivate and then delete the old one. Better:
#     replace the key by an IAM role (OIDC federation for CI, Roles Anywhere for on-premises).
package org.rules.key_max_age

import rego.v1

import data.credwarden.lib

max_days := d if {
	d := lib.field(data.credwarden.config.params, "max_key_age_days", 365)
	is_number(d)
} else := 365

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	some key in user.access_keys
	lib.is_active(key)
	age := lib.days_since(key.created_at)
	age >= max_days
	finding := {
		"account_id": account.account_id,
		"resource": lib.key_resource(user, key),
		"message": sprintf(
			"Active access key %s of user %s is %d days old (created %s); the maximum key lifetime is %d days",
			[lib.key_label(key), user.user_name, age, key.created_at, max_days],
		),
		"remediation": lib.key_remediation(user, key, "deactivate_access_key"),
		"details": {"age_days": age, "created_at": key.created_at, "max_days": max_days},
	}
}
