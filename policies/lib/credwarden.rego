# The shared library of the bundled credwarden policies (and of custom ones): its values and
# IAM wildcard matching. Its other functions are in functions.rego.
#
# Everything here is pure: time comes from data.credwarden.now_ns, thresholds and
# break-glass settings from data.credwarden.config. No helper reads the clock.
#
# Helpers never raise evaluation errors on missing or null data: a helper given a
# null timestamp, say, is simply undefined, so the rule that called it does not fire.
#
# Nothing here calls a function of functions.rego: credwarden evaluates those natively on its
# fast path (src/evaluate/native/library.rs), where functions.rego is not loaded.
package credwarden.lib

import rego.v1

ns_per_hour := 3600000000000

ns_per_day := 86400000000000

# The evaluation time, nanoseconds since the epoch.
now_ns := data.credwarden.now_ns

# The effective configuration (the host fills in every default).
config := data.credwarden.config

# ---------------------------------------------------------------------------
# Accounts, users, keys
# ---------------------------------------------------------------------------

# Accounts that were collected (no `error`). Rules about users and the root user use these.
collected_accounts contains account if {
	some account in object.get(input, "accounts", [])
	object.get(account, "error", null) == null
}

# ---------------------------------------------------------------------------
# Break-glass
# ---------------------------------------------------------------------------

# What field(obj, key, fallback) of functions.rego does, spelled out.
break_glass := object.get(config, "break_glass", {}) if is_object(config) else := {}

break_glass_users := object.get(break_glass, "users", []) if is_object(break_glass) else := []

break_glass_names contains lower(entry) if {
	some entry in break_glass_users
	is_string(entry)
}

break_glass_tag_key := object.get(break_glass, "tag_key", "credwarden:break-glass") if {
	is_object(break_glass)
} else := "credwarden:break-glass"

break_glass_tag_value := object.get(break_glass, "tag_value", "true") if {
	is_object(break_glass)
} else := "true"

# ---------------------------------------------------------------------------
# IAM wildcards
# ---------------------------------------------------------------------------

# Characters that mean something in a regular expression, other than IAM's `*` and `?`.
regex_meta := {".", "+", "^", "$", "(", ")", "[", "]", "{", "}", "|", "\\"}

wildcard_char(c) := ".*" if {
	c == "*"
} else := "." if {
	c == "?"
} else := concat("", ["\\", c]) if {
	c in regex_meta
} else := c

# An anchored regular expression for an IAM wildcard pattern (`*` any run, `?` one character).
wildcard_regex(pattern) := concat("", ["^", concat("", [wildcard_char(c) | some c in split(pattern, "")]), "$"])

# Case-sensitive wildcard match (ARNs).
wildcard_match(pattern, value) if {
	is_string(pattern)
	is_string(value)
	regex.match(wildcard_regex(pattern), value)
}

# IAM action match: `iam:Create*` matches `iam:CreateAccessKey`; case-insensitive, as in IAM.
action_matches(pattern, action) if {
	is_string(pattern)
	is_string(action)
	regex.match(wildcard_regex(lower(pattern)), lower(action))
}
