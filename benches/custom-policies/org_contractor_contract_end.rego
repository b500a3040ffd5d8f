# METADATA
# title: Contractor with credentials and no valid contract end
# description: >-
#   An IAM user under /contractors/ that holds a console password or an active access key while
#   its `contract-end` tag (YYYY-MM-DD) is missing, malformed, or in the past. Vendor management
#   sets the tag from the contract; without it, a contractor's access outlives the contract.
# custom:
#   id: ORG017
#   slug: contractor-contract-end
#   severity: high
#   resource_type: aws_iam_user
#   controls:
#     nist-800-53-r5: ["AC-2(2)", "PS-7"]
#     iso-27001-2022: ["A.5.19", "A.5.18"]
#     acme-iam-standard: ["IAM-6.1"]
#   remediation: >-
#     Ask vendor management for the contract end and tag the user with it (contract-end=YYYY-MM-DD).
#     If the contract has ended, delete the user's login profile and access keys.
package org.rules.contractor_contract_end

import rego.v1

import data.credwarden.lib

contractor_path := "/contractors/"

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	path := lib.field(user, "path", "/")
	is_string(path)
	startswith(path, contractor_path)
	credentials := held_credentials(user)
	count(credentials) > 0
	end := lib.field(lib.field(user, "tags", {}), "contract-end", null)
	problem := contract_problem(end)
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf("Contractor %s holds %s but %s", [user.user_name, concat(" and ", credentials), problem]),
		"remediation": lib.manual({"user_name": user.user_name}, "set the contract-end tag, or remove the contractor's credentials"),
		"details": {"contract_end": end, "credentials": credentials, "path": path},
	}
}

held_credentials(user) := [c |
	some c in ["a console password", "an active access key"]
	holds(c, user)
]

holds("a console password", user) if lib.password_enabled(user)

holds("an active access key", user) if count(lib.active_keys(user)) > 0

date_pattern := `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`

# Why the contract end is not acceptable; undefined when it is fine (a valid date in the future).
contract_problem(end) := "has no contract-end tag" if {
	end == null
} else := sprintf("its contract-end tag %v is not a YYYY-MM-DD date", [end]) if {
	not valid_date(end)
} else := sprintf("its contract ended on %s (%d days ago)", [end, days]) if {
	days := lib.days_since(sprintf("%sT23:59:59Z", [end]))
	days >= 0
}

valid_date(end) if {
	is_string(end)
	regex.match(date_pattern, end)
	lib.ts_ns(sprintf("%sT00:00:00Z", [end]))
}
