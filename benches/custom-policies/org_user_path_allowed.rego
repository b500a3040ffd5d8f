# METADATA
# title: IAM user outside the approved paths
# description: >-
#   IAM users must live under one of the approved IAM paths (`params.allowed_user_paths`,
#   default /service/, /engineering/, /contractors/, /people/): the path decides which
#   permission boundaries, SCP conditions and review queues apply. A user created at the default
#   path `/` escapes all of them. Break-glass users are exempt.
# custom:
#   id: ORG003
#   slug: user-outside-approved-path
#   severity: medium
#   resource_type: aws_iam_user
#   controls:
#     nist-800-53-r5: ["AC-2", "AC-6"]
#     acme-iam-standard: ["IAM-2.1"]
#   remediation: >-
#     Recreate the user under the right path (IAM cannot move an existing user: aws iam
#     update-user --new-path is the exception and keeps credentials), or move the workload to
#     an IAM role.
package org.rules.user_path_allowed

import rego.v1

import data.credwarden.lib

default_paths := ["/service/", "/engineering/", "/contractors/", "/people/"]

paths_param := p if {
	p := lib.field(data.credwarden.config.params, "allowed_user_paths", default_paths)
	is_array(p)
} else := default_paths

allowed_paths := [p | some p in paths_param; is_string(p)]

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	path := lib.field(user, "path", "/")
	is_string(path)
	not approved(path)
	not lib.is_break_glass(user)
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf("IAM user %s is at path %s, outside the approved paths (%s)", [user.user_name, path, concat(", ", allowed_paths)]),
		"remediation": lib.manual({"user_name": user.user_name, "path": path}, "move the user to an approved path"),
		"details": {"path": path, "allowed_paths": allowed_paths},
	}
}

approved(path) if {
	some prefix in allowed_paths
	startswith(path, prefix)
}
