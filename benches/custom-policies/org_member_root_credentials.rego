# METADATA
# title: Member account root user still has credentials
# description: >-
#   The company uses centralised root access (IAM "root access management" in the Organization):
#   the root user of a member account must have no password and no access keys, and privileged
#   root tasks are done from the management account. A member account whose root user still has
#   a password or a key is outside that model. The management account, and snapshots without an
#   Organization, are not checked.
# custom:
#   id: ORG014
#   slug: member-root-credentials
#   severity: high
#   resource_type: aws_root_user
#   controls:
#     nist-800-53-r5: ["AC-6(5)", "IA-2"]
#     acme-iam-standard: ["ROOT-1"]
#   remediation: >-
#     Enable centralised root access for member accounts (aws iam enable-organizations-root-
#     credentials-management), then delete the account's root credentials from the management
#     account (aws iam delete-login-profile and delete-access-key on an assumed root session).
package org.rules.member_root_credentials

import rego.v1

import data.credwarden.lib

management_account_id := id if {
	org := lib.field(input, "organization", null)
	is_object(org)
	id := org.management_account_id
}

deny contains finding if {
	some account in lib.collected_accounts
	account.account_id != management_account_id
	root := account.root
	is_object(root)
	password := password_flag(root)
	slots := lib.root_key_slots(root)
	credentials := [c | some c in ["password", "access key"]; has(c, password, slots)]
	count(credentials) > 0
	finding := {
		"account_id": account.account_id,
		"resource": lib.root_resource(root),
		"message": sprintf(
			"The root user of member account %s still has credentials (%s); member root users must have none",
			[account.account_id, concat(", ", credentials)],
		),
		"remediation": lib.manual({"account_id": account.account_id}, "delete the root credentials through centralised root access"),
		"details": {
			"password_enabled": password,
			"access_key_slots": slots,
			"password_last_used": lib.field(root, "password_last_used", null),
			"mfa_active": lib.field(root, "mfa_active", null),
		},
	}
}

password_flag(root) := true if {
	lib.field(root, "password_enabled", null) == true
} else := false

has("password", password, _) if password == true

has("access key", _, slots) if count(slots) > 0
