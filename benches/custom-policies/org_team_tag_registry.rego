# METADATA
# title: IAM user team tag not in the team registry
# description: >-
#   Every IAM user must carry a `team` tag whose value is one of the teams of the company's team
#   registry (`params.allowed_teams`). Cost allocation, on-call routing and access reviews all
#   key on it; a typo or a team that was dissolved sends them nowhere.
# custom:
#   id: ORG002
#   slug: team-tag-not-in-registry
#   severity: low
#   resource_type: aws_iam_user
#   controls:
#     nist-800-53-r5: ["AC-2", "CM-8"]
#     acme-iam-standard: ["IAM-1.2"]
#   remediation: >-
#     Set the user's team tag to a team of the registry (aws iam tag-user --tags Key=team,Value=...).
#     If the team was renamed or dissolved, move the user to the team that now owns the workload.
package org.rules.team_tag_registry

import rego.v1

import data.credwarden.lib

# The team registry as of the last platform sync; credwarden.yaml `params.allowed_teams` replaces it.
default_teams := [
	"analytics", "audit", "data", "finance", "finance-engineering", "identity", "ml",
	"partnerships", "payments", "platform", "security", "sre",
]

teams_param := t if {
	t := lib.field(data.credwarden.config.params, "allowed_teams", default_teams)
	is_array(t)
} else := default_teams

allowed_teams := {lower(t) | some t in teams_param; is_string(t)}

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	team := lib.field(lib.field(user, "tags", {}), "team", null)
	not known_team(team)
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": message(user, team),
		"remediation": lib.manual({"user_name": user.user_name, "tag_key": "team"}, "set the team tag to a team of the registry"),
		"details": {"team": team, "allowed_teams": sort(allowed_teams)},
	}
}

known_team(team) if {
	is_string(team)
	lower(team) in allowed_teams
}

message(user, team) := sprintf("IAM user %s has no team tag", [user.user_name]) if {
	team == null
} else := sprintf("IAM user %s is tagged with team %v, which is not in the team registry", [user.user_name, team])
