# Users and input documents shared by the tests of services/opa/policies/mcp/authz.rego.
# Run with: mcpgw policy test services/opa/policies services/opa/data tests/policies
# (the tests read the shipped data in services/opa/data/mcp unless they override it with `with`).
package mcp.authz_test

# 2026-11-25 is a Wednesday; the shipped window (data.mcp.hours) is Mon-Fri 08:00-18:00 UTC.
wed_14h := 1795615200000000000 # 2026-11-25T14:00:00Z

wed_07h59 := 1795593599000000000 # 2026-11-25T07:59:59Z

wed_08h := 1795593600000000000 # 2026-11-25T08:00:00Z

wed_17h59 := 1795629599000000000 # 2026-11-25T17:59:59Z

wed_18h := 1795629600000000000 # 2026-11-25T18:00:00Z

sat_12h := 1795867200000000000 # 2026-11-28T12:00:00Z

# The users of services/auth-server/users.yaml, and a few more roles.
alice := {
	"sub": "alice", "roles": ["user"], "scopes": ["mcp:read", "tool:echo:read"],
	"groups": ["engineering"], "tenant": "acme", "client_id": "mcp-inspector", "authenticated": true,
}

bob := {
	"sub": "bob", "roles": ["admin"],
	"scopes": ["mcp:read", "mcp:write", "mcp:admin", "tool:echo:read"], "groups": ["admin"],
	"tenant": "acme", "client_id": "mcp-inspector", "authenticated": true,
}

carol := {
	"sub": "carol", "roles": ["user"], "scopes": ["mcp:read", "tool:echo:read"],
	"groups": ["sales"], "tenant": "globex", "client_id": "mcp-inspector", "authenticated": true,
}

petra := {
	"sub": "petra", "roles": ["platform-admin"], "scopes": [],
	"groups": ["platform"], "tenant": "platform", "client_id": "ops-console", "authenticated": true,
}

olga := {
	"sub": "olga", "roles": ["auditor"], "scopes": [],
	"groups": ["audit"], "tenant": "acme", "client_id": "audit-ui", "authenticated": true,
}

rita := {
	"sub": "rita", "roles": ["readonly"], "scopes": [],
	"groups": ["support"], "tenant": "acme", "client_id": "mcp-inspector", "authenticated": true,
}

# No role, no scope: only what a test gives it.
nobody := {
	"sub": "mallory", "roles": [], "scopes": [],
	"groups": [], "tenant": "acme", "client_id": "mcp-inspector", "authenticated": true,
}

# A user with exactly these token scopes and no role.
with_scopes(scopes) := object.union(nobody, {"scopes": scopes})

# A tools/call as the gateway sends it: no action or labels in the configuration (the policy
# data supplies them), a shared server, the dev environment, from loopback, on a Wednesday 14:00.
call(user, server, tool, args) := {
	"method": "POST",
	"path": concat("", ["/tools/", tool, "/invoke"]),
	"mcp_method": "tools/call",
	"list": false,
	"user": user,
	"resource": {
		"kind": "tool", "server": server, "tenant": "", "tool": tool, "name": tool,
		"action": "", "labels": [],
	},
	"args": args,
	"session": "session-1",
	"env": "dev",
	"network": {"ip": "127.0.0.1"},
	"time": {"now_ns": wed_14h, "rfc3339": "2026-11-25T14:00:00Z"},
}

# The same call with some fields of `resource` replaced.
call_res(user, server, tool, args, resource) := object.union(
	call(user, server, tool, args),
	{"resource": resource},
)

# A tools/list visibility decision: the item's call, "list": true, no arguments.
list_item(user, server, tool) := object.remove(
	object.union(call(user, server, tool, {}), {"mcp_method": "tools/call", "list": true}),
	["args"],
)

prompt(user, server, name) := {
	"method": "POST",
	"path": concat("", ["/prompts/", name, "/get"]),
	"mcp_method": "prompts/get",
	"list": false,
	"user": user,
	"resource": {
		"kind": "prompt", "server": server, "tenant": "", "prompt": name, "name": name,
		"action": "", "labels": [],
	},
	"args": {},
	"session": "session-1",
	"env": "dev",
	"network": {"ip": "127.0.0.1"},
	"time": {"now_ns": wed_14h, "rfc3339": "2026-11-25T14:00:00Z"},
}

resource(user, server, uri) := {
	"method": "POST",
	"path": "/resources/read",
	"mcp_method": "resources/read",
	"list": false,
	"user": user,
	"resource": {
		"kind": "resource", "server": server, "tenant": "", "name": uri, "uri": uri,
		"action": "", "labels": [],
	},
	"session": "session-1",
	"env": "dev",
	"network": {"ip": "127.0.0.1"},
	"time": {"now_ns": wed_14h, "rfc3339": "2026-11-25T14:00:00Z"},
}

api(user, method, path) := {
	"method": method,
	"path": path,
	"mcp_method": "api",
	"list": false,
	"user": user,
	"resource": {"kind": "api", "action": "", "labels": []},
	"env": "dev",
	"network": {"ip": "127.0.0.1"},
	"time": {"now_ns": wed_14h, "rfc3339": "2026-11-25T14:00:00Z"},
}

# The input without resource.<key> (object.remove does not reach into nested objects).
without_resource_field(inp, key) := object.union(
	object.remove(inp, ["resource"]),
	{"resource": object.remove(inp.resource, [key])},
)

no_emergency := {"deny_all": false, "tools": [], "servers": []}
