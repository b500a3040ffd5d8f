# METADATA
# title: Account without an IAM account alias
# description: >-
#   A collected account that has no IAM account alias. The alias is the name people sign in to
#   (https://<alias>.signin.aws.amazon.com) and what alerts, reports and runbooks name the
#   account by; without one they show a twelve-digit number that nobody recognises.
# custom:
#   id: ORG013
#   slug: account-without-alias
#   severity: low
#   resource_type: aws_account
#   controls:
#     nist-800-53-r5: ["CM-8"]
#     acme-iam-standard: ["ACC-1.1"]
#   remediation: >-
#     Create the alias from the account's name in the account register (aws iam
#     create-account-alias --account-alias <company>-<name>).
package org.rules.account_alias

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	alias := lib.field(account, "alias", null)
	not has_alias(alias)
	finding := {
		"account_id": account.account_id,
		"resource": lib.account_resource(account.account_id),
		"message": sprintf("Account %s (%s) has no IAM account alias", [account.account_id, org_name(account.account_id)]),
		"remediation": lib.manual({"account_id": account.account_id}, "create an IAM account alias"),
		"details": {"alias": alias, "organization_name": org_name(account.account_id)},
	}
}

has_alias(alias) if {
	is_string(alias)
	trim_space(alias) != ""
}

# The account's name in the Organization, or "-" when the Organization is unknown.
org_name(account_id) := name if {
	org := lib.field(input, "organization", null)
	some member in lib.field(org, "accounts", [])
	member.id == account_id
	name := lib.field(member, "name", "-")
	is_string(name)
} else := "-"
