# METADATA
# title: IAM user name breaks the naming convention
# description: >-
#   People are named `<initial>.<surname>` (d.kowalski), workload users under /service/ are
#   lowercase kebab-case with at least two words (billing-exporter), break-glass users start with
#   `breakglass-`. Names that follow the convention can be matched to the HR and CMDB records in
#   access reviews. The patterns can be replaced with `params.human_user_name_regex`,
#   `params.service_user_name_regex` and `params.break_glass_user_name_regex`.
# custom:
#   id: ORG004
#   slug: user-name-convention
#   severity: low
#   resource_type: aws_iam_user
#   controls:
#     acme-iam-standard: ["IAM-1.4"]
#   remediation: >-
#     Create a correctly named user, move the workload or person to it, then delete the old user.
package org.rules.user_naming_convention

import rego.v1

import data.credwarden.lib

params := data.credwarden.config.params

pattern(name, fallback) := p if {
	p := lib.field(params, name, fallback)
	is_string(p)
} else := fallback

human_regex := pattern("human_user_name_regex", `^[a-z]\.[a-z]+(-[a-z]+)*$`)

service_regex := pattern("service_user_name_regex", `^[a-z][a-z0-9]*(-[a-z0-9]+)+$`)

break_glass_regex := pattern("break_glass_user_name_regex", `^breakglass-[a-z0-9-]+$`)

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	[kind, expected] := convention(user)
	not regex.match(expected, user.user_name)
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf("IAM user name %s does not follow the %s naming convention (%s)", [user.user_name, kind, expected]),
		"remediation": lib.manual({"user_name": user.user_name}, "recreate the user under a conforming name"),
		"details": {"kind": kind, "expected_pattern": expected, "path": lib.field(user, "path", "/")},
	}
}

convention(user) := ["break-glass", break_glass_regex] if {
	lib.is_break_glass(user)
} else := ["service", service_regex] if {
	path := lib.field(user, "path", "/")
	is_string(path)
	startswith(path, "/service/")
} else := ["human", human_regex]
