#!/usr/bin/env python3
"""Generates the policy benchmark's data set: 50 tools on 8 servers, 10 roles.

Writes, next to this script:
  mcp/data.json  the policy data. Loaded the way OPA loads a directory (`bench/policy-data` as a
                 root puts it at data.mcp), together with services/opa/policies.
  inputs.jsonl   one decision per line: {"name", "want_allow", "input"}, a mix of what a busy
                 gateway asks (role and token scopes, admins, denies, path arguments, prompts,
                 resources, list filtering, the audit API, labels). The extension keeps the
                 policy loader from reading it as data.

The output is deterministic (no randomness, sorted keys), so re-running it changes nothing unless
this script changed. Usage: python3 bench/policy-data/gen.py
"""

import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent

R, W, X, D = "read", "write", "execute", "delete"

# server -> [(exposed tool name, action, labels)]. Names that two servers share are exposed with
# the gateway's <server>__ prefix (tool_prefix: on-conflict), as the client sees them.
SERVERS = {
    "github": [
        ("list_issues", R, []),
        ("github__get_issue", R, []),
        ("create_issue", W, []),
        ("update_issue", W, []),
        ("list_pull_requests", R, []),
        ("create_pull_request", W, []),
        ("merge_pull_request", W, ["business-hours"]),
        ("search_code", R, []),
        ("get_file_contents", R, []),
        ("delete_branch", D, ["sensitive"]),
    ],
    "jira": [
        ("search_issues", R, []),
        ("jira__get_issue", R, []),
        ("create_ticket", W, []),
        ("transition_ticket", W, []),
        ("add_comment", W, []),
        ("delete_ticket", D, ["sensitive"]),
    ],
    "slack": [
        ("list_channels", R, []),
        ("read_channel_history", R, []),
        ("post_message", W, []),
        ("add_reaction", W, []),
        ("upload_file", W, []),
    ],
    "postgres": [
        ("query", R, ["internal-network"]),
        ("list_tables", R, []),
        ("describe_table", R, []),
        ("explain_query", R, []),
        ("execute_sql", W, ["sensitive", "internal-network"]),
    ],
    "fs": [
        ("read_file", R, []),
        ("read_text_file", R, []),
        ("list_directory", R, []),
        ("search_files", R, []),
        ("get_file_info", R, []),
        ("write_file", W, []),
        ("edit_file", W, []),
        ("move_file", W, ["internal-network"]),
    ],
    "excel": [
        ("list_sheets", R, []),
        ("read_sheet", R, []),
        ("write_sheet", W, []),
        ("create_workbook", W, []),
        ("export_pdf", X, []),
    ],
    "k8s": [
        ("get_pods", R, []),
        ("get_logs", R, []),
        ("describe_deployment", R, []),
        ("scale_deployment", W, ["business-hours", "internal-network"]),
        ("restart_deployment", X, ["business-hours"]),
        ("delete_pod", D, ["sensitive"]),
    ],
    "everything": [
        ("echo", R, []),
        ("get-sum", R, []),
        ("get-tiny-image", R, []),
        ("trigger-long-running-operation", X, []),
        ("get-env", R, ["sensitive", "dev-only"]),
    ],
}

TOOLS = {name: {"action": action, "labels": labels, "server": server}
         for server, tools in SERVERS.items() for name, action, labels in tools}
assert len(TOOLS) == 50, len(TOOLS)


def scopes(servers=None, actions=(R, W, X, D)):
    """tool:<name>:<action> for the tools of `servers` (all when None) with one of `actions`,
    leaving out sensitive tools (only admins use those)."""
    out = []
    for name, t in TOOLS.items():
        if servers is not None and t["server"] not in servers:
            continue
        if t["action"] in actions and "sensitive" not in t["labels"]:
            out.append(f"tool:{name}:{t['action']}")
    return out


ADMIN = ["mcp:read", "mcp:write", "mcp:admin"]
ROLE_SCOPES = {
    "admin": ADMIN,
    "platform-admin": ADMIN,
    "user": ["mcp:read"] + scopes({"everything", "fs", "excel", "slack"}, (R, W, X)),
    "developer": ["mcp:read", "mcp:write"]
    + scopes({"github", "fs", "everything"})
    + scopes({"k8s"}, (R, X))
    + scopes({"postgres"}, (R,)),
    "analyst": ["mcp:read"] + scopes({"postgres", "jira"}, (R,)) + scopes({"excel"}),
    "support": ["mcp:read"] + scopes({"jira", "slack"}) + scopes({"github"}, (R,)),
    "data-engineer": ["mcp:read", "mcp:write"]
    + scopes({"postgres", "fs", "excel"})
    + scopes({"k8s"}, (R,)),
    "readonly": ["mcp:read"] + scopes(None, (R,)),
    "auditor": ["mcp:read"],
    "service": ["mcp:read", "tool:echo:read", "tool:post_message:write"],
}
assert len(ROLE_SCOPES) == 10

DATA = {
    "role_scopes": ROLE_SCOPES,
    "tools": {name: {"action": t["action"], "labels": t["labels"]} for name, t in TOOLS.items()},
    "emergency": {"deny_all": False, "tools": ["delete_branch", "upload_file"],
                  "servers": ["legacy-crm"]},
    "path_prefixes": {
        "admin": ["/"],
        "platform-admin": ["/"],
        "user": ["/data/public", "/data/uploads"],
        "developer": ["/data/public", "/data/uploads", "/srv/repos"],
        "data-engineer": ["/data"],
        "analyst": ["/data/public", "/data/reports"],
        "support": ["/data/public"],
        "readonly": ["/data/public"],
    },
    "network": {"internal_cidrs": ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12",
                                   "192.168.0.0/16", "::1/128", "fc00::/7"]},
    "hours": {"timezone": "UTC",
              "weekdays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
              "start_hour": 8, "end_hour": 18},
}

WEDNESDAY_14H = 1795615200000000000  # 2026-11-25T14:00:00Z


def user(sub, roles, scopes=(), tenant="acme"):
    return {"sub": sub, "roles": list(roles), "scopes": ["mcp:read"] + list(scopes),
            "groups": ["eng"], "tenant": tenant, "client_id": "mcp-inspector",
            "authenticated": True}


def tool_input(who, tool, args=None, list_=False, action="", labels=(), tenant="",
               ip="10.1.2.3"):
    server = TOOLS[tool]["server"] if tool in TOOLS else "unknown"
    upstream = tool.split("__", 1)[1] if "__" in tool else tool
    doc = {
        "method": "POST",
        "path": f"/tools/{tool}/invoke",
        "mcp_method": "tools/call",
        "list": list_,
        "user": who,
        "resource": {"kind": "tool", "server": server, "tenant": tenant, "tool": tool,
                     "name": upstream, "action": action, "labels": list(labels)},
        "session": "3f1c2a9e-5b7d-4e61-9a0c-1d2e3f4a5b6c",
        "env": "prod",
        "network": {"ip": ip},
        "time": {"now_ns": WEDNESDAY_14H, "rfc3339": "2026-11-25T14:00:00Z"},
    }
    if not list_:
        doc["args"] = args if args is not None else {}
    return doc


def other_input(who, kind, mcp_method, path, **resource):
    return {
        "method": "POST" if kind != "api" else "GET",
        "path": path,
        "mcp_method": mcp_method,
        "list": False,
        "user": who,
        "resource": {"kind": kind, "tenant": "", "action": "", "labels": [], **resource},
        "session": "3f1c2a9e-5b7d-4e61-9a0c-1d2e3f4a5b6c",
        "env": "prod",
        "network": {"ip": "10.1.2.3"},
        "time": {"now_ns": WEDNESDAY_14H, "rfc3339": "2026-11-25T14:00:00Z"},
    }


ALICE = user("alice", ["user", "readonly"])
DANA = user("dana", ["developer", "support"], ["tool:export_pdf:execute"])
ERIN = user("erin", ["analyst", "data-engineer"])
BOB = user("bob", ["admin"])
OLGA = user("olga", ["auditor"])

INPUTS = [
    # The common case: a tool granted through one of several roles, action from the data.
    ("role_scope_allow", True, tool_input(DANA, "create_pull_request", {"title": "fix"})),
    ("token_scope_allow", True, tool_input(DANA, "export_pdf", {"sheet": "Q3"})),
    ("admin_allow", True, tool_input(BOB, "execute_sql", {"sql": "vacuum"})),
    ("configured_action_allow", True,
     tool_input(ALICE, "echo", {"message": "hi"}, action="read")),
    ("prefixed_name_allow", True, tool_input(DANA, "github__get_issue", {"number": 7})),
    ("path_allow", True, tool_input(ERIN, "read_file", {"path": "/data/reports/q3.csv"})),
    ("list_visibility_allow", True, tool_input(ALICE, "list_sheets", list_=True)),
    ("internal_network_allow", True, tool_input(ERIN, "query", {"sql": "select 1"})),
    ("business_hours_allow", True,
     tool_input(DANA, "restart_deployment", {"name": "api"})),
    ("prompt_allow", True,
     other_input(ALICE, "prompt", "prompts/get", "/prompts/summarize/get",
                 server="everything", name="summarize")),
    ("resource_allow", True,
     other_input(ALICE, "resource", "resources/read", "/resources/read",
                 server="fs", name="report", uri="file:///data/public/report.md")),
    ("audit_api_allow", True, other_input(OLGA, "api", "api", "/api/v1/audit?limit=50")),
    # Denies: the gateway then also evaluates `reasons`.
    ("missing_scope_deny", False, tool_input(ALICE, "create_issue", {"title": "x"})),
    ("sensitive_deny", False, tool_input(DANA, "delete_pod", {"name": "api-1"})),
    ("path_deny", False, tool_input(ALICE, "read_file", {"path": "/etc/shadow"})),
    ("emergency_tool_deny", False, tool_input(ALICE, "upload_file", {"name": "a.txt"})),
    ("tenant_deny", False, tool_input(ALICE, "echo", {"message": "hi"}, tenant="globex")),
    ("unknown_tool_deny", False, tool_input(ALICE, "no_such_tool", {})),
    ("audit_api_deny", False, other_input(ALICE, "api", "api", "/api/v1/audit")),
]


def main():
    (HERE / "mcp").mkdir(exist_ok=True)
    with open(HERE / "mcp" / "data.json", "w", encoding="utf-8") as f:
        json.dump(DATA, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(HERE / "inputs.jsonl", "w", encoding="utf-8") as f:
        for name, want, doc in INPUTS:
            f.write(json.dumps({"name": name, "want_allow": want, "input": doc},
                               sort_keys=True) + "\n")
    sizes = {role: len(s) for role, s in ROLE_SCOPES.items()}
    print(f"{len(TOOLS)} tools, {len(ROLE_SCOPES)} roles {sizes}, {len(INPUTS)} inputs")


if __name__ == "__main__":
    main()
