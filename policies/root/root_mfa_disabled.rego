# METADATA
# title: Root user without MFA
# description: >-
#   The root user has no MFA device: the credential report says mfa_active false, or the account
#   summary says AccountMFAEnabled is 0. Not reported when the root user has no credentials at
#   all (password "not_supported" under centralized root access, and no access key), since there
#   is nothing to protect with MFA. Nothing is reported when the root user could not be read.
# custom:
#   id: CW203
#   slug: root-mfa-disabled
#   severity: critical
#   resource_type: aws_root_user
#   controls:
#     cis-aws-1.2: ["1.13"]
#     cis-aws-1.4: ["1.5"]
#     cis-aws-1.5: ["1.5"]
#     cis-aws-2.0: ["1.5"]
#     cis-aws-3.0: ["1.5"]
#     cis-aws-5.0: ["1.4"]
#     nist-800-53-r5: ["IA-2(1)"]
#     iso-27001-2022: ["A.5.17", "A.8.5"]
#   remediation: >-
#     Sign in as the root user and assign an MFA device (a hardware key or passkey is best), or
#     remove the root credentials of member accounts with centralized root access.
package credwarden.rules.root_mfa_disabled

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	root := account.root
	is_object(root)
	mfa_off(root)
	finding := {
		"account_id": account.account_id,
		"resource": lib.root_resource(root),
		"message": sprintf("The root user of account %s has no MFA device", [account.account_id]),
		"remediation": lib.manual({"account_id": account.account_id}, "sign in as root and enable MFA"),
		"details": {
			"mfa_active": root.mfa_active,
			"account_mfa_enabled": object.get(root, "account_mfa_enabled", null),
		},
	}
}

mfa_off(root) if root.mfa_active == false

mfa_off(root) if object.get(root, "account_mfa_enabled", null) == false
