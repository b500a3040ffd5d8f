# METADATA
# title: IAM user without an owner tag
# description: >-
#   Every IAM user must carry an `owner` tag (the key is `params.owner_tag_key`) naming the
#   person or team mailbox accountable for it, as an e-mail address. Without one, nobody can be
#   asked whether the user and its credentials are still needed.
# custom:
#   id: ORG001
#   slug: user-without-owner-tag
#   severity: medium
#   resource_type: aws_iam_user
#   controls:
#     nist-800-53-r5: ["AC-2"]
#     iso-27001-2022: ["A.5.9"]
#     acme-iam-standard: ["IAM-1.1"]
#   remediation: >-
#     Tag the user with its owner's e-mail address (aws iam tag-user --tags Key=owner,Value=...),
#     or delete the user if nobody claims it.
package org.rules.user_owner_tag

import rego.v1

import data.credwarden.lib

# credwarden.yaml: `params: {owner_tag_key: accountable}` renames the tag.
owner_key := k if {
	k := lib.field(data.credwarden.config.params, "owner_tag_key", "owner")
	is_string(k)
} else := "owner"

# An owner is an e-mail address (a person or a team mailbox).
owner_pattern := `^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$`

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	owner := lib.field(lib.field(user, "tags", {}), owner_key, null)
	not valid_owner(owner)
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": message(user, owner),
		"remediation": lib.manual({"user_name": user.user_name, "tag_key": owner_key}, "tag the user with its owner's e-mail address"),
		"details": {"tag_key": owner_key, "owner": owner, "path": lib.field(user, "path", "/")},
	}
}

valid_owner(owner) if {
	is_string(owner)
	regex.match(owner_pattern, owner)
}

message(user, owner) := sprintf("IAM user %s has no %s tag", [user.user_name, owner_key]) if {
	owner == null
} else := sprintf("IAM user %s has an %s tag that is not an e-mail address (%v)", [user.user_name, owner_key, owner])
