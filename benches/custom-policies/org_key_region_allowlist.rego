# METADATA
# title: Access key used in a region outside the data-residency allow list
# description: >-
#   An active access key last used in a region outside the approved EU regions
#   (`params.allowed_regions`, default eu-west-1, eu-central-1, eu-north-1). Calls to global
#   services (IAM, STS, Organizations, Cost Explorer, Route 53, CloudFront, ...) are made in
#   us-east-1 and are allowed there.
# custom:
#   id: ORG007
#   slug: access-key-unapproved-region
#   severity: high
#   resource_type: aws_iam_access_key
#   controls:
#     iso-27001-2022: ["A.5.34"]
#     acme-data-residency: ["DR-2"]
#   remediation: >-
#     Find out what the workload does in that region (CloudTrail, the key id and the region); move
#     it to an approved region or get a data-residency exception, then restrict the user's
#     policies with an aws:RequestedRegion condition.
package org.rules.key_region_allowlist

import rego.v1

import data.credwarden.lib

default_regions := ["eu-west-1", "eu-central-1", "eu-north-1"]

regions_param := r if {
	r := lib.field(data.credwarden.config.params, "allowed_regions", default_regions)
	is_array(r)
} else := default_regions

allowed_regions := {r | some r in regions_param; is_string(r)}

# Services whose endpoint is in us-east-1 whatever region the caller works in.
global_services := {
	"budgets", "ce", "cloudfront", "health", "iam", "organizations", "route53", "sts", "support",
	"trustedadvisor", "waf",
}

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	some key in user.access_keys
	lib.is_active(key)
	region := lib.field(key, "last_used_region", null)
	is_string(region)
	not region in allowed_regions
	service := lib.field(key, "last_used_service", null)
	not global_call(region, service)
	finding := {
		"account_id": account.account_id,
		"resource": lib.key_resource(user, key),
		"message": sprintf(
			"Active access key %s of user %s was last used in %s (%v), outside the approved regions",
			[lib.key_label(key), user.user_name, region, service],
		),
		"remediation": lib.manual(lib.key_params(user, key), "move the workload to an approved region or restrict the user's regions"),
		"details": {"last_used_region": region, "last_used_service": service, "allowed_regions": sort(allowed_regions)},
	}
}

global_call(region, service) if {
	region == "us-east-1"
	is_string(service)
	lower(service) in global_services
}
