# METADATA
# title: Root user used recently
# description: >-
#   The root user's password or one of its access keys was used within `root_use_days`
#   (default 90) days. The root user is for the few tasks that require it, not for daily work.
# custom:
#   id: CW202
#   slug: root-user-recently-used
#   severity: high
#   resource_type: aws_root_user
#   controls:
#     cis-aws-1.2: ["1.1"]
#     cis-aws-1.4: ["1.7"]
#     cis-aws-1.5: ["1.7"]
#     cis-aws-2.0: ["1.7"]
#     cis-aws-3.0: ["1.7"]
#     cis-aws-5.0: ["1.6"]
#     nist-800-53-r5: ["AC-6(2)", "AC-6(5)"]
#     iso-27001-2022: ["A.8.2"]
#   remediation: >-
#     Find out who used the root user and why (CloudTrail, userIdentity.type Root). Use IAM
#     Identity Center or roles for daily work; keep root for the tasks that require it.
package credwarden.rules.root_user_recently_used

import rego.v1

import data.credwarden.lib

# Each use of the root user within the window: [days ago, timestamp, how].
recent_uses(root) := {[days, ts, how] |
	some [ts, how] in uses(root)
	days := lib.days_since(ts)
	days <= data.credwarden.config.thresholds.root_use_days
}

uses(root) := {[ts, "password"] | ts := root.password_last_used; is_string(ts)} | {[ts, how] |
	some slot in object.get(root, "access_keys", [])
	ts := object.get(slot, "last_used_at", null)
	is_string(ts)
	how := sprintf("access key in slot %v", [slot.slot])
}

deny contains finding if {
	some account in lib.collected_accounts
	root := account.root
	is_object(root)
	recent := recent_uses(root)
	count(recent) > 0
	[days, ts, how] := min(recent)
	finding := {
		"account_id": account.account_id,
		"resource": lib.root_resource(root),
		"message": sprintf(
			"The root user of account %s was used %d days ago (%s, %s)",
			[account.account_id, max([days, 0]), how, ts],
		),
		"remediation": lib.manual({"account_id": account.account_id}, "stop using the root user for daily work"),
		"details": {
			"last_used_at": ts,
			"days_since_last_use": days,
			"used_with": sort([h | some [_, _, h] in recent]),
		},
	}
}
