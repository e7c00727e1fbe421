# Grants of the shipped policy: roles, scopes, labels, kinds, default deny and the reasons given.
package mcp.authz_test

import data.mcp.authz

# ---------------------------------------------------------------------------------------------
# Scopes, directly in the token and via roles
# ---------------------------------------------------------------------------------------------

test_scope_in_token_allows_tool if {
	inp := call(with_scopes(["tool:echo:read"]), "everything", "echo", {"message": "hi"})
	authz.allow with input as inp
}

test_scope_via_role_allows_tool if {
	# get-sum is not in alice's token; her role "user" grants tool:get-sum:read.
	authz.allow with input as call(alice, "everything", "get-sum", {"a": 1, "b": 2})
}

test_role_scope_needs_role_in_data if {
	inp := call(object.union(nobody, {"roles": ["ghost"]}), "everything", "get-sum", {})
	not authz.allow with input as inp
	authz.reasons == {"scope tool:get-sum:read required"} with input as inp
}

test_role_scopes_from_data_override if {
	inp := call(object.union(nobody, {"roles": ["tester"]}), "everything", "get-sum", {})
	authz.allow with input as inp with data.mcp.role_scopes as {"tester": ["tool:get-sum:read"]}
	not authz.allow with input as inp with data.mcp.role_scopes as {"tester": ["tool:echo:read"]}
}

test_scope_granted_by_second_role_of_user if {
	inp := call(object.union(nobody, {"roles": ["ghost", "tester"]}), "everything", "get-sum", {})
	authz.allow with input as inp with data.mcp.role_scopes as {"tester": ["tool:get-sum:read"], "other": ["tool:get-sum:read"]}
	not authz.allow with input as inp with data.mcp.role_scopes as {"other": ["tool:get-sum:read"]}
}

test_scope_for_other_action_denied if {
	inp := call(with_scopes(["tool:echo:write"]), "everything", "echo", {"message": "hi"})
	not authz.allow with input as inp
	authz.reasons == {"scope tool:echo:read required"} with input as inp
}

test_scope_for_other_tool_denied if {
	inp := call(with_scopes(["tool:echo:read"]), "everything", "get-sum", {})
	not authz.allow with input as inp
	authz.reasons == {"scope tool:get-sum:read required"} with input as inp
}

test_wildcard_scope_allows_every_action if {
	authz.allow with input as call(with_scopes(["tool:get-sum:*"]), "everything", "get-sum", {})
	authz.allow with input as call_res(
		with_scopes(["tool:get-sum:*"]), "everything", "get-sum", {},
		{"action": "delete"},
	)
}

test_wildcard_of_other_tool_denied if {
	not authz.allow with input as call(with_scopes(["tool:echo:*"]), "everything", "get-sum", {})
}

test_mcp_read_does_not_grant_tools if {
	inp := call(with_scopes(["mcp:read", "mcp:write"]), "everything", "get-sum", {})
	not authz.allow with input as inp
}

test_readonly_role_reads if {
	authz.allow with input as call(rita, "memory", "read_graph", {})
}

test_readonly_role_cannot_write if {
	inp := call(rita, "memory", "create_entities", {"entities": []})
	not authz.allow with input as inp
	authz.reasons == {"scope tool:create_entities:write required"} with input as inp
}

test_user_role_cannot_delete if {
	inp := call(alice, "memory", "delete_entities", {"entityNames": ["x"]})
	not authz.allow with input as inp
	authz.reasons == {"scope tool:delete_entities:delete required"} with input as inp
}

test_auditor_role_has_no_tools if {
	inp := call(olga, "everything", "echo", {"message": "hi"})
	not authz.allow with input as inp
	authz.reasons == {"scope tool:echo:read required"} with input as inp
}

test_sdk_conformance_fixture_tools_for_user if {
	authz.allow with input as call(alice, "conformance", "test_simple_text", {})
	authz.allow with input as call(alice, "conformance", "test_sampling", {"prompt": "hi"})
}

# ---------------------------------------------------------------------------------------------
# Actions: configuration first, policy data second
# ---------------------------------------------------------------------------------------------

test_configured_action_wins_over_data if {
	# data says echo is "read"; the gateway configuration says "write".
	inp := call_res(alice, "everything", "echo", {"message": "hi"}, {"action": "write"})
	not authz.allow with input as inp
	authz.reasons == {"scope tool:echo:write required"} with input as inp
}

test_configured_action_for_tool_unknown_to_data if {
	inp := call_res(with_scopes(["tool:brand_new:read"]), "x", "brand_new", {}, {"action": "read"})
	authz.allow with input as inp
}

test_unknown_tool_denied if {
	inp := call(alice, "x", "no_such_tool", {})
	not authz.allow with input as inp
	want := "tool no_such_tool has no action configured (scope tool:no_such_tool:* required)"
	authz.reasons == {want} with input as inp
}

test_unknown_tool_allowed_by_wildcard if {
	authz.allow with input as call(with_scopes(["tool:no_such_tool:*"]), "x", "no_such_tool", {})
}

test_unknown_tool_allowed_for_admin if {
	inp := call(bob, "x", "no_such_tool", {})
	authz.allow with input as inp
	count(authz.reasons) == 0 with input as inp
}

# With tool_prefix the client sees "<server>__<tool>": scopes name that exposed tool; the data
# entry is found by the exposed name first, then by the upstream's own name.
test_prefixed_tool_uses_upstream_data_entry if {
	inp := call_res(alice, "everything", "everything__get-sum", {}, {"name": "get-sum"})
	not authz.allow with input as inp
	authz.reasons == {"scope tool:everything__get-sum:read required"} with input as inp
}

test_prefixed_tool_allowed_with_exposed_scope if {
	user := with_scopes(["tool:everything__get-sum:read"])
	inp := call_res(user, "everything", "everything__get-sum", {}, {"name": "get-sum"})
	authz.allow with input as inp
}

test_exposed_name_data_entry_wins if {
	tools := {
		"fs__read_file": {"action": "write", "labels": []},
		"read_file": {"action": "read", "labels": []},
	}
	user := with_scopes(["tool:fs__read_file:read"])
	inp := call_res(user, "fs", "fs__read_file", {}, {"name": "read_file"})
	not authz.allow with input as inp with data.mcp.tools as tools
	want := {"scope tool:fs__read_file:write required"}
	authz.reasons == want with input as inp with data.mcp.tools as tools
}

# ---------------------------------------------------------------------------------------------
# Admins
# ---------------------------------------------------------------------------------------------

test_admin_allowed_without_scopes if {
	inp := call(object.union(bob, {"scopes": []}), "memory", "delete_entities", {"entityNames": ["x"]})
	authz.allow with input as inp
	count(authz.reasons) == 0 with input as inp
}

test_platform_admin_is_admin if {
	authz.allow with input as call(petra, "memory", "delete_entities", {"entityNames": ["x"]})
}

test_admin_scope_alone_is_not_admin if {
	# mcp:admin is a token scope, not the admin role: it does not grant tools by itself.
	not authz.allow with input as call(with_scopes(["mcp:admin"]), "memory", "delete_entities", {})
}

test_admin_with_unknown_kind_denied if {
	inp := object.union(call(bob, "x", "y", {}), {"resource": {"kind": "sampling"}})
	not authz.allow with input as inp
	authz.reasons == {"unknown resource kind"} with input as inp
}

# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------

test_sensitive_tool_denied_to_user_with_scope if {
	# get-env is labelled sensitive (and dev-only) in the data; the env is dev.
	inp := call(with_scopes(["tool:get-env:read"]), "everything", "get-env", {})
	not authz.allow with input as inp
	authz.reasons == {"admin role required (resource labelled sensitive)"} with input as inp
}

test_sensitive_tool_allowed_to_admin if {
	authz.allow with input as call(bob, "everything", "get-env", {})
}

test_sensitive_without_scope_gives_both_reasons if {
	inp := call(alice, "everything", "get-env", {})
	authz.reasons == {
		"scope tool:get-env:read required",
		"admin role required (resource labelled sensitive)",
	} with input as inp
}

test_configured_labels_win_over_data if {
	# Configuration labels replace the data's: echo becomes sensitive ...
	inp := call_res(alice, "everything", "echo", {"message": "hi"}, {"labels": ["sensitive"]})
	not authz.allow with input as inp
	authz.reasons == {"admin role required (resource labelled sensitive)"} with input as inp

	# ... and get-env with configured labels loses its data labels.
	user := with_scopes(["tool:get-env:read"])
	inp2 := call_res(user, "everything", "get-env", {}, {"labels": ["public"]})
	authz.allow with input as object.union(inp2, {"env": "prod"})
}

test_labels_from_data_when_configuration_has_none if {
	tools := {"echo": {"action": "read", "labels": ["sensitive"]}}
	inp := call(alice, "everything", "echo", {"message": "hi"})
	not authz.allow with input as inp with data.mcp.tools as tools
}

test_other_labels_do_not_restrict if {
	inp := call_res(alice, "everything", "echo", {"message": "hi"}, {"labels": ["public", "pii-free"]})
	authz.allow with input as inp
}

# ---------------------------------------------------------------------------------------------
# Prompts and resources: prompt:<name>:get / resource:<server>:read, or mcp:read
# ---------------------------------------------------------------------------------------------

test_prompt_allowed_with_mcp_read if {
	inp := prompt(with_scopes(["mcp:read"]), "everything", "simple-prompt")
	authz.allow with input as inp
	count(authz.reasons) == 0 with input as inp
}

test_prompt_allowed_with_prompt_scope if {
	user := with_scopes(["prompt:simple-prompt:get"])
	authz.allow with input as prompt(user, "everything", "simple-prompt")
}

test_prompt_allowed_with_mcp_read_via_role if {
	# The auditor role grants mcp:read; olga's token has no scope.
	authz.allow with input as prompt(olga, "everything", "simple-prompt")
}

test_prompt_denied_without_scope if {
	user := with_scopes(["prompt:args-prompt:get", "tool:echo:read"])
	inp := prompt(user, "everything", "simple-prompt")
	not authz.allow with input as inp
	authz.reasons == {"scope prompt:simple-prompt:get or mcp:read required"} with input as inp
}

test_prefixed_prompt_scope_names_exposed_prompt if {
	inp := object.union(
		prompt(with_scopes(["prompt:everything__simple-prompt:get"]), "everything", "simple-prompt"),
		{"resource": {"prompt": "everything__simple-prompt"}},
	)
	authz.allow with input as inp
	denied := object.union(inp, {"user": {"scopes": ["prompt:simple-prompt:get"]}})
	not authz.allow with input as denied
	want := {"scope prompt:everything__simple-prompt:get or mcp:read required"}
	authz.reasons == want with input as denied
}

test_prompt_name_falls_back_to_upstream_name if {
	inp := prompt(with_scopes(["prompt:simple-prompt:get"]), "everything", "simple-prompt")
	authz.allow with input as without_resource_field(inp, "prompt")
}

test_sensitive_prompt_needs_admin if {
	inp := object.union(
		prompt(alice, "everything", "simple-prompt"),
		{"resource": {"labels": ["sensitive"]}},
	)
	not authz.allow with input as inp
	authz.reasons == {"admin role required (resource labelled sensitive)"} with input as inp
	authz.allow with input as object.union(inp, {"user": bob})
}

test_resource_allowed_with_mcp_read if {
	authz.allow with input as resource(alice, "fs", "file:///data/public/a.txt")
}

test_resource_allowed_with_server_scope if {
	user := with_scopes(["resource:fs:read"])
	authz.allow with input as resource(user, "fs", "file:///data/public/a.txt")
}

test_resource_denied_with_scope_of_other_server if {
	inp := resource(with_scopes(["resource:memory:read"]), "fs", "file:///data/public/a.txt")
	not authz.allow with input as inp
	authz.reasons == {"scope resource:fs:read or mcp:read required"} with input as inp
}

test_resource_subscribe_same_rule if {
	read := resource(with_scopes(["resource:fs:read"]), "fs", "file:///x")
	inp := object.union(read, {"mcp_method": "resources/subscribe"})
	authz.allow with input as inp
}

# ---------------------------------------------------------------------------------------------
# The gateway's own APIs
# ---------------------------------------------------------------------------------------------

test_history_api_for_any_authenticated_user if {
	authz.allow with input as api(alice, "GET", "/api/v1/history")
	authz.allow with input as api(nobody, "GET", "/api/v1/history?limit=20")
	authz.allow with input as api(rita, "GET", "/api/v1/history/export")
}

test_history_api_needs_authentication if {
	inp := api(object.union(alice, {"authenticated": false}), "GET", "/api/v1/history")
	not authz.allow with input as inp
	authz.reasons == {"authentication required"} with input as inp
}

test_audit_api_for_admin_and_auditor if {
	authz.allow with input as api(bob, "GET", "/api/v1/audit")
	authz.allow with input as api(olga, "GET", "/api/v1/audit?since=2026-11-01")
	authz.allow with input as api(olga, "GET", "/api/v1/analytics/tools")
	authz.allow with input as api(petra, "GET", "/api/v1/analytics")
}

test_audit_api_denied_to_user if {
	inp := api(alice, "GET", "/api/v1/audit")
	not authz.allow with input as inp
	authz.reasons == {"admin or auditor role required"} with input as inp
	not authz.allow with input as api(alice, "GET", "/api/v1/analytics")
}

test_api_prefix_is_a_path_segment if {
	# "/api/v1/auditx" is not under "/api/v1/audit": only admins reach other API paths.
	inp := api(olga, "GET", "/api/v1/auditx")
	not authz.allow with input as inp
	authz.reasons == {"admin role required"} with input as inp
}

test_other_api_paths_admin_only if {
	inp := api(alice, "POST", "/api/v1/emergency")
	not authz.allow with input as inp
	authz.reasons == {"admin role required"} with input as inp
	authz.allow with input as api(bob, "POST", "/api/v1/emergency")
}

# ---------------------------------------------------------------------------------------------
# Default deny
# ---------------------------------------------------------------------------------------------

test_empty_input_denied if {
	not authz.allow with input as {}
	authz.reasons == {"authentication required", "unknown resource kind"} with input as {}
}

test_no_input_denied if {
	not authz.allow
	authz.allow == false
}

test_missing_user_denied if {
	inp := object.remove(call(alice, "everything", "echo", {"message": "hi"}), ["user"])
	not authz.allow with input as inp
	"authentication required" in authz.reasons with input as inp
}

test_unauthenticated_admin_denied if {
	inp := call(object.remove(bob, ["authenticated"]), "everything", "echo", {"message": "hi"})
	not authz.allow with input as inp
	authz.reasons == {"authentication required"} with input as inp
}

test_missing_resource_denied if {
	inp := object.remove(call(bob, "everything", "echo", {}), ["resource"])
	not authz.allow with input as inp
	"unknown resource kind" in authz.reasons with input as inp
}

test_allow_is_boolean if {
	authz.allow == true with input as call(alice, "everything", "echo", {"message": "hi"})
	authz.allow == false with input as call(rita, "memory", "create_entities", {})
}

# ---------------------------------------------------------------------------------------------
# Reasons and the combined decision
# ---------------------------------------------------------------------------------------------

test_no_reasons_when_allowed if {
	count(authz.reasons) == 0 with input as call(alice, "everything", "echo", {"message": "hi"})
	read := call(alice, "fs", "read_text_file", {"path": "/data/public/a.txt"})
	count(authz.reasons) == 0 with input as read
	count(authz.reasons) == 0 with input as api(olga, "GET", "/api/v1/audit")
}

test_decision_document if {
	allowed := call(alice, "everything", "echo", {"message": "hi"})
	authz.decision == {"allow": true, "reasons": set()} with input as allowed
	authz.decision == {
		"allow": false,
		"reasons": {"scope tool:create_entities:write required"},
	} with input as call(rita, "memory", "create_entities", {})
}

test_list_visibility_uses_same_rules if {
	authz.allow with input as list_item(alice, "everything", "get-sum")
	not authz.allow with input as list_item(rita, "memory", "create_entities")
	not authz.allow with input as list_item(alice, "everything", "get-env")
}

# ---------------------------------------------------------------------------------------------
# The shipped data is consistent
# ---------------------------------------------------------------------------------------------

test_role_scopes_name_known_tools_and_actions if {
	every role, scopes in data.mcp.role_scopes {
		is_string(role)
		every scope in scopes {
			known_scope(scope)
		}
	}
}

known_scope(scope) if not startswith(scope, "tool:")

known_scope(scope) if {
	[_, tool, action] := split(scope, ":")
	data.mcp.tools[tool].action == action
}

test_tools_have_known_actions if {
	every tool in data.mcp.tools {
		tool.action in {"read", "write", "execute", "delete"}
		is_array(tool.labels)
	}
}

test_required_roles_exist if {
	every role in ["admin", "platform-admin", "user", "auditor", "readonly"] {
		data.mcp.role_scopes[role]
	}
}
