# METADATA
# title: Root user has an access key
# description: >-
#   The account's root user has an access key, active or not: a key slot of the credential
#   report is active or has been rotated (created), or the account summary reports
#   AccountAccessKeysPresent. A root key can do anything in the account and cannot be limited
#   by IAM policies.
# custom:
#   id: CW201
#   slug: root-access-key-present
#   severity: critical
#   resource_type: aws_root_user
#   controls:
#     cis-aws-1.2: ["1.12"]
#     cis-aws-1.4: ["1.4"]
#     cis-aws-1.5: ["1.4"]
#     cis-aws-2.0: ["1.4"]
#     cis-aws-3.0: ["1.4"]
#     cis-aws-5.0: ["1.3"]
#     nist-800-53-r5: ["AC-6(2)", "IA-5"]
#     iso-27001-2022: ["A.5.15", "A.8.2"]
#   remediation: >-
#     Sign in as the root user, open Security credentials and delete every root access key
#     (only the root user itself can). Replace whatever used it with an IAM role.
package credwarden.rules.root_access_key_present

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	root := account.root
	is_object(root)
	slots := lib.root_key_slots(root)
	summary := object.get(root, "account_access_keys_present", null)
	has_root_key(slots, summary)
	active := sort([slot.slot | some slot in object.get(root, "access_keys", []); slot.active == true])
	finding := {
		"account_id": account.account_id,
		"resource": lib.root_resource(root),
		"message": message(account.account_id, slots, active),
		"remediation": lib.manual({"account_id": account.account_id}, "sign in as root and delete the root access keys"),
		"details": {
			"key_slots": slots,
			"active_key_slots": active,
			"account_access_keys_present": summary,
		},
	}
}

has_root_key(slots, _) if count(slots) > 0

has_root_key(_, summary) if summary == true

message(account_id, slots, active) := sprintf(
	"The root user of account %s has access keys in slot(s) %s (active: %s)",
	[account_id, concat(", ", [format_int(s, 10) | some s in slots]), active_text(active)],
) if {
	count(slots) > 0
} else := sprintf(
	"The root user of account %s has an access key (the account summary reports AccountAccessKeysPresent)",
	[account_id],
)

active_text(active) := "none" if {
	count(active) == 0
} else := concat(", ", [format_int(s, 10) | some s in active])
