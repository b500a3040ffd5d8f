# METADATA
# title: Deactivated access key not deleted
# description: >-
#   An inactive access key that is still present more than `inactive_key_grace_days` (default
#   30) days after its last activity. AWS records no deactivation time, so the grace period is
#   counted from the key's last use, or from its creation when that is later or the key was
#   never used: a deactivated key whose last activity is that old has been idle at least as long.
#   A deactivated key can be reactivated by anyone allowed to call iam:UpdateAccessKey.
# custom:
#   id: CW104
#   slug: inactive-access-key-not-deleted
#   severity: low
#   resource_type: aws_iam_access_key
#   controls:
#     nist-800-53-r5: ["AC-2", "IA-5"]
#     iso-27001-2022: ["A.5.17", "A.5.18"]
#   remediation: >-
#     Delete the key (aws iam delete-access-key). If nothing failed while it was inactive,
#     nothing needs it.
package credwarden.rules.inactive_access_key_not_deleted

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	some key in user.access_keys
	lib.is_inactive(key)
	last := lib.latest([object.get(key, "last_used_at", null), key.created_at])
	days := lib.days_since(last)
	days > data.credwarden.config.thresholds.inactive_key_grace_days
	finding := {
		"account_id": account.account_id,
		"resource": lib.key_resource(user, key),
		"message": sprintf(
			"Inactive access key %s of user %s is still present; its last activity was %d days ago (%s)",
			[lib.key_label(key), user.user_name, days, last],
		),
		"remediation": lib.key_remediation(user, key, "delete_access_key"),
		"details": {
			"days_since_last_activity": days,
			"last_activity": last,
			"created_at": key.created_at,
			"last_used_at": object.get(key, "last_used_at", null),
		},
	}
}
