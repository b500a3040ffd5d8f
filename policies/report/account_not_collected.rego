# METADATA
# title: Account not collected
# description: >-
#   The collector could not read this account (for example, assuming the member-account role
#   was refused), so none of its credentials were evaluated. Its risks are unknown, not absent.
# custom:
#   id: CW902
#   slug: account-not-collected
#   severity: high
#   resource_type: aws_account
#   controls:
#     nist-800-53-r5: ["CA-7"]
#     iso-27001-2022: ["A.5.36"]
#   remediation: >-
#     Fix the access named in the message (the member role's trust policy, the external id, an
#     SCP that blocks the collector's read-only calls) and collect again.
package credwarden.rules.account_not_collected

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in input.accounts
	error := lib.field(account, "error", null)
	is_object(error)
	finding := {
		"account_id": account.account_id,
		"resource": lib.account_resource(account.account_id),
		"message": sprintf("Account %s was not collected: %s", [account.account_id, error.message]),
		"remediation": lib.manual({"account_id": account.account_id}, "restore the collector's access and collect again"),
		"details": {"error_code": error.code},
	}
}
