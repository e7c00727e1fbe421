#!/usr/bin/env bash
# Builds the OPA bundles that cloud deployments pull from GCS (infra/terraform/modules/opa_bundle):
#   scripts/opa-bundle.sh [OUT]                      policy bundle   (default build/opa/bundle.tar.gz)
#   scripts/opa-bundle.sh --emergency [JSON] OUT     emergency bundle (default JSON services/opa/data/mcp/emergency.json)
# `make bundle` builds both.
#
# The policy bundle holds the policies of services/opa/policies as they are and the data of
# services/opa/data merged per directory into data.json (a bundle only loads files named
# data.json; OPA and mcpgw merge a directory's files the same way), except the emergency switch.
# The switch (data.mcp.emergency) is a bundle of its own, so that an operator can publish it in
# seconds for every replica without touching the policy (docs/operations.md). Each .manifest
# names the revision (the git commit) and the roots the bundle owns; the two sets of roots do
# not overlap. The archives are reproducible: same sources, same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
policies=services/opa/policies
data=services/opa/data
emergency_rel=mcp/emergency.json

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)
if [[ -n $(git status --porcelain -- "$policies" "$data" 2>/dev/null) ]]; then revision="${revision}-dirty"; fi

# pack OUT ROOTS_JSON: writes the .manifest and a deterministic tar.gz of $stage.
pack() {
  local out=$1 roots=$2 entries
  printf '{"revision": "%s", "roots": %s, "rego_version": 1, "metadata": {"source": "services/opa"}}\n' \
    "$revision" "$roots" >"$stage/.manifest"
  mkdir -p "$(dirname "$out")"
  entries=$(cd "$stage" && find . -mindepth 1 -maxdepth 1 -printf '%f\n' | sort)
  # shellcheck disable=SC2086 # one word per top-level entry
  tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - $entries | gzip -n -9 >"$out"
  echo "bundle: $out (revision $revision, roots $roots)"
}

if [[ ${1:-} == --emergency ]]; then
  shift
  if (($# >= 2)); then src=$1 && shift; else src=$data/$emergency_rel; fi
  out=${1:?usage: opa-bundle.sh --emergency [JSON] OUT}
  # The switch as services/opa/data/mcp/emergency.json holds it ({"emergency": {...}}) or bare.
  mkdir -p "$stage/mcp/emergency"
  node -e '
    const fs = require("fs");
    let d = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    if (d && typeof d === "object" && "emergency" in d && Object.keys(d).length === 1) d = d.emergency;
    const list = (x) => x === undefined || (Array.isArray(x) && x.every((s) => typeof s === "string"));
    if (!d || typeof d !== "object" || Array.isArray(d) || typeof d.deny_all !== "boolean" || !list(d.tools) || !list(d.servers)) {
      console.error(process.argv[1] + ": not an emergency switch ({\"deny_all\": true|false, \"tools\": [...], \"servers\": [...]})");
      process.exit(1);
    }
    fs.writeFileSync(process.argv[2], JSON.stringify(d, null, 2) + "\n");
  ' "$src" "$stage/mcp/emergency/data.json"
  pack "$out" '["mcp/emergency"]'
  exit 0
fi
out=${1:-build/opa/bundle.tar.gz}

# Policies, with their directory layout (tests stay out).
(cd "$policies" && find . -name '*.rego' ! -name '*_test.rego' -print0) | while IFS= read -r -d '' f; do
  mkdir -p "$stage/$(dirname "$f")"
  cp "$policies/$f" "$stage/$f"
done

# Data: every directory's *.json merged into one data.json; a key defined twice is an error.
# Prints the roots: every package path and every data key's path.
roots=$(node - "$data" "$stage" "$emergency_rel" <<'EOF'
const fs = require("fs");
const path = require("path");
const [src, dst, emergency] = process.argv.slice(2);
const roots = new Set();
const walk = (dir) => {
  const files = fs.readdirSync(dir, { withFileTypes: true });
  const json = files.filter((f) => f.isFile() && f.name.endsWith(".json")).map((f) => f.name).sort()
    .filter((name) => path.relative(src, path.join(dir, name)) !== emergency);
  const rel = path.relative(src, dir);
  if (json.length) {
    const merged = {};
    for (const name of json) {
      const doc = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
      for (const [k, v] of Object.entries(doc)) {
        if (k in merged) throw new Error(`${path.join(dir, name)}: key "${k}" is already defined in ${dir}`);
        merged[k] = v;
        roots.add(rel ? `${rel}/${k}` : k);
      }
    }
    fs.mkdirSync(path.join(dst, rel), { recursive: true });
    fs.writeFileSync(path.join(dst, rel, "data.json"), JSON.stringify(merged, null, 2) + "\n");
  }
  for (const f of files) if (f.isDirectory()) walk(path.join(dir, f.name));
};
walk(src);
const rego = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((f) =>
  f.isDirectory() ? rego(path.join(dir, f.name)) : f.name.endsWith(".rego") ? [path.join(dir, f.name)] : []);
for (const f of rego(dst)) {
  const m = fs.readFileSync(f, "utf8").match(/^package\s+([\w.]+)/m);
  if (m) roots.add(m[1].replace(/\./g, "/"));
}
if ([...roots].some((r) => r === "mcp/emergency" || r.startsWith("mcp/emergency/")))
  throw new Error("the policy bundle must not own mcp/emergency (the emergency bundle does)");
console.log(JSON.stringify([...roots].sort()));
EOF
)
pack "$out" "$roots"
