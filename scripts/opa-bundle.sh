#!/usr/bin/env bash
# Builds the OPA bundle that cloud deployments pull from GCS (infra/terraform/modules/opa_bundle):
#   scripts/opa-bundle.sh [OUT]        (default build/opa/bundle.tar.gz; `make bundle`)
# Contents: the policies of services/opa/policies as they are, the data of services/opa/data
# merged per directory into data.json (a bundle only loads files named data.json; running OPA or
# mcpgw on the directories merges them the same way), and a .manifest with the revision (the git
# commit) and the roots the bundle owns. The archive is reproducible: same sources, same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/opa/bundle.tar.gz}
policies=services/opa/policies
data=services/opa/data

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Policies, with their directory layout.
(cd "$policies" && find . -name '*.rego' ! -name '*_test.rego' -print0) | while IFS= read -r -d '' f; do
  mkdir -p "$stage/$(dirname "$f")"
  cp "$policies/$f" "$stage/$f"
done

# Data: every directory's *.json merged into one data.json; a key defined twice is an error.
node - "$data" "$stage" <<'EOF'
const fs = require("fs");
const path = require("path");
const [src, dst] = process.argv.slice(2);
const walk = (dir) => {
  const files = fs.readdirSync(dir, { withFileTypes: true });
  const json = files.filter((f) => f.isFile() && f.name.endsWith(".json")).map((f) => f.name).sort();
  if (json.length) {
    const merged = {};
    for (const name of json) {
      const doc = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
      for (const [k, v] of Object.entries(doc)) {
        if (k in merged) throw new Error(`${path.join(dir, name)}: key "${k}" is already defined in ${dir}`);
        merged[k] = v;
      }
    }
    const rel = path.relative(src, dir);
    fs.mkdirSync(path.join(dst, rel), { recursive: true });
    fs.writeFileSync(path.join(dst, rel, "data.json"), JSON.stringify(merged, null, 2) + "\n");
  }
  for (const f of files) if (f.isDirectory()) walk(path.join(dir, f.name));
};
walk(src);
EOF

revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)
if [[ -n $(git status --porcelain -- "$policies" "$data" 2>/dev/null) ]]; then revision="${revision}-dirty"; fi
# The roots: the top-level directories (packages and data paths) the bundle owns.
roots=$(cd "$stage" && find . -mindepth 1 -maxdepth 1 -type d -printf '"%f",' | sed 's/,$//')
printf '{"revision": "%s", "roots": [%s], "rego_version": 1, "metadata": {"source": "services/opa"}}\n' \
  "$revision" "$roots" >"$stage/.manifest"

mkdir -p "$(dirname "$out")"
entries=$(cd "$stage" && find . -mindepth 1 -maxdepth 1 -printf '%f\n' | sort)
# shellcheck disable=SC2086 # one word per top-level entry
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - $entries | gzip -n -9 >"$out"
echo "bundle: $out (revision $revision, roots [$roots])"
tar -tzf "$out" | sed 's/^/  /'
