package credwarden.rules.root_mfa_disabled_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.root_mfa_disabled as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

with_root(root) := t.snapshot([t.account_with([], {"root": root})])

test_root_without_mfa_fires if {
	fs := findings(with_root(t.root_with({"mfa_active": false, "account_mfa_enabled": false})))
	count(fs) == 1
	some f in fs
	f.account_id == t.account_id
	f.resource == {"type": "aws_root_user", "id": "root", "arn": "arn:aws:iam::222222222222:root"}
	contains(f.message, "222222222222")
	f.details.mfa_active == false
}

test_root_with_mfa_is_fine if {
	fs := findings(t.single([]))
	count(fs) == 0
}

test_account_summary_alone_fires if {
	fs := findings(with_root(t.root_with({"mfa_active": true, "account_mfa_enabled": false})))
	count(fs) == 1
}

test_credential_report_alone_fires if {
	fs := findings(with_root(t.root_with({"mfa_active": false, "account_mfa_enabled": null})))
	count(fs) == 1
}

test_password_disabled_still_fires if {
	fs := findings(with_root(t.root_with({"mfa_active": false, "password_enabled": false})))
	count(fs) == 1
}

# AWS always reports the root's password_enabled as not_supported (null): MFA is still required.
test_password_not_supported_still_fires if {
	fs := findings(with_root(t.root_with({"mfa_active": false, "account_mfa_enabled": false, "password_enabled": null})))
	count(fs) == 1
}

test_password_not_supported_with_a_key_fires if {
	root := t.root_with({
		"mfa_active": false,
		"password_enabled": null,
		"access_keys": [t.root_slot(1, true, 10, null)],
	})
	fs := findings(with_root(root))
	count(fs) == 1
}

test_unknown_root_is_fine if {
	fs := findings(with_root(null))
	count(fs) == 0
}

test_account_with_error_is_skipped if {
	acct := t.errored(t.account_with([], {"root": t.root_with({"mfa_active": false})}))
	fs := findings(t.snapshot([acct]))
	count(fs) == 0
}
