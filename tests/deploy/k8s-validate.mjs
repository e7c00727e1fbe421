#!/usr/bin/env node
// Validates rendered Kubernetes / Cloud Run manifests offline, against the models that
// kubernetes-models, @kubernetes-models/gke and @kubernetes-models/knative generate from the
// Kubernetes OpenAPI document and the CRDs (ManagedCertificate, BackendConfig, Knative Service):
//
//  1. schema: each object is validated by the model's JSON-schema validator (types, required
//     fields, formats, enums);
//  2. strict: unknown fields are rejected, like `kubectl apply --validate=strict` — each object is
//     type-checked against the model's TypeScript interface by the TypeScript compiler, whose
//     excess-property check refuses any field the schema does not declare;
//  3. coherence of the set: selectors match pod labels, every Service / ConfigMap / Secret /
//     ServiceAccount / scale target named exists, every container has resources and the gateway
//     container has /health and /ready probes.
//
//   node tests/deploy/k8s-validate.mjs FILE.yaml...          (multi-document YAML; "-" = stdin)
//   node tests/deploy/k8s-validate.mjs --fixtures DIR         (each DIR/*.yaml must be rejected
//                                                              with the message on its "# expect:" line)
import { readFileSync, writeFileSync, mkdtempSync, mkdirSync, rmSync, readdirSync, existsSync } from "node:fs";
import { join, dirname, relative } from "node:path";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { parseAllDocuments } from "yaml";

const require = createRequire(import.meta.url);
const here = dirname(new URL(import.meta.url).pathname);
const testsDir = join(here, "..");

// The API versions current clusters (GKE 1.30+) and Cloud Run serve; removed betas are refused
// even though the models still describe them.
const SERVED = new Set([
  "v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1",
  "rbac.authorization.k8s.io/v1", "networking.gke.io/v1", "cloud.google.com/v1", "serving.knative.dev/v1",
]);

// apiVersion -> [package, directory inside the package]
function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  let pkg;
  if (group === "" || group.endsWith(".k8s.io") || ["apps", "batch", "policy", "autoscaling"].includes(group)) pkg = "kubernetes-models";
  else if (group.endsWith("gke.io") || group === "cloud.google.com") pkg = "@kubernetes-models/gke";
  else if (group.endsWith("knative.dev")) pkg = "@kubernetes-models/knative";
  else return null;
  const pkgDir = dirname(require.resolve(`${pkg}/package.json`));
  const sub = group === "" ? version : `${group}/${version}`;
  if (!existsSync(join(pkgDir, sub, `${kind}.d.ts`))) return null;
  return { pkg, sub, spec: `${pkg}/${sub}/${kind}` };
}

function load(files) {
  const objects = [];
  for (const f of files) {
    const text = f === "-" ? readFileSync(0, "utf8") : readFileSync(f, "utf8");
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) throw new Error(`${f}: YAML: ${doc.errors[0].message}`);
      const obj = doc.toJS();
      if (obj === null || obj === undefined) continue;
      objects.push({ file: f, obj });
    }
  }
  return objects;
}

async function validate(objects) {
  const problems = [];
  const name = (o) => `${o.obj?.kind ?? "?"}/${o.obj?.metadata?.name ?? "?"}`;
  const typed = [];
  for (const o of objects) {
    const { apiVersion, kind } = o.obj ?? {};
    if (!apiVersion || !kind) {
      problems.push(`${o.file}: an object without apiVersion/kind`);
      continue;
    }
    if (!SERVED.has(apiVersion)) {
      problems.push(`${o.file}: ${name(o)}: apiVersion ${apiVersion} is not served by current GKE / Cloud Run (removed or beta API)`);
      continue;
    }
    const model = modelFor(apiVersion, kind);
    if (!model) {
      problems.push(`${o.file}: ${name(o)}: no schema for ${apiVersion} ${kind}`);
      continue;
    }
    // Cloud Run accepts a few fields beyond the Knative schema: containers[].startupProbe, a
    // core/v1 Probe. They are checked against that type and taken out of the Knative check.
    let value = o.obj;
    if (apiVersion === "serving.knative.dev/v1") {
      value = structuredClone(o.obj);
      for (const c of value.spec?.template?.spec?.containers ?? []) {
        if (c.startupProbe !== undefined) {
          typed.push({ o, spec: "kubernetes-models/v1/Probe", typeName: "IProbe", value: c.startupProbe });
          delete c.startupProbe;
        }
      }
    }
    const mod = await import(model.spec);
    const Cls = mod[kind] ?? mod.default;
    try {
      new Cls(value).validate();
    } catch (e) {
      problems.push(`${o.file}: ${name(o)}: schema: ${String(e.message).split("\n").slice(0, 3).join("; ")}`);
    }
    typed.push({ o, spec: model.spec, typeName: `I${kind}`, value });
  }

  // Strict: TypeScript excess-property checks against the generated interfaces.
  if (typed.length) {
    // Inside tests/ so that the models resolve from tests/node_modules (tests/.tmp is ignored).
    mkdirSync(join(testsDir, ".tmp"), { recursive: true });
    const dir = mkdtempSync(join(testsDir, ".tmp", "k8s-validate-"));
    try {
      const lines = [];
      const owner = [];
      typed.forEach(({ spec, typeName }, i) => {
        lines.push(`import type { ${typeName} as T${i} } from "${spec}";`);
        owner.push(null);
      });
      typed.forEach(({ value }, i) => {
        const body = JSON.stringify(value, null, 2).split("\n");
        body[0] = `export const o${i}: T${i} = ${body[0]}`;
        body[body.length - 1] += ";";
        for (const l of body) {
          lines.push(l);
          owner.push(i);
        }
      });
      writeFileSync(join(dir, "objects.ts"), lines.join("\n") + "\n");
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext",
            skipLibCheck: true, types: [],
          },
          files: ["objects.ts"],
        }),
      );
      let out = "";
      try {
        execFileSync(process.execPath, [join(dirname(require.resolve("typescript/package.json")), "bin", "tsc"), "-p", join(dir, "tsconfig.json"), "--pretty", "false"], {
          encoding: "utf8",
          cwd: testsDir,
        });
      } catch (e) {
        out = `${e.stdout ?? ""}${e.stderr ?? ""}`;
        if (!out.trim()) throw e;
      }
      for (const line of out.split("\n")) {
        if (!line.trim()) continue;
        const m = line.match(/objects\.ts\((\d+),(\d+)\): error (TS\d+): (.*)$/);
        if (!m) {
          // Anything tsc says that is not about an object (a configuration error, a missing
          // model) fails the check rather than passing it unchecked.
          if (/error TS\d+/.test(line)) problems.push(`strict: tsc: ${line.trim()}`);
          continue;
        }
        const i = owner[Number(m[1]) - 1];
        const src = lines[Number(m[1]) - 1].trim();
        if (i === null || i === undefined) {
          problems.push(`strict: ${m[4]}`);
          continue;
        }
        const { o } = typed[i];
        const msg = m[4].replace(/Object literal may only specify known properties, and '"?([^'"]+)"?' does not exist in type .*/, "unknown field \"$1\"");
        problems.push(`${o.file}: ${name(o)}: strict: ${msg} (at ${src.slice(0, 80)})`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // Coherence of the rendered set.
  const byKind = (k) => objects.filter((o) => o.obj?.kind === k);
  const ns = (o) => o.obj.metadata?.namespace ?? "";
  const exists = (kind, n, namespace) => byKind(kind).some((o) => o.obj.metadata?.name === n && ns(o) === namespace);
  const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
  for (const d of [...byKind("Deployment"), ...byKind("StatefulSet")]) {
    const spec = d.obj.spec ?? {};
    const podLabels = spec.template?.metadata?.labels ?? {};
    const pod = spec.template?.spec ?? {};
    const where = `${d.file}: ${name(d)}`;
    if (!matches(spec.selector?.matchLabels, podLabels)) problems.push(`${where}: selector does not match the pod template's labels`);
    if (pod.serviceAccountName && !exists("ServiceAccount", pod.serviceAccountName, ns(d)))
      problems.push(`${where}: service account ${pod.serviceAccountName} is not defined`);
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pod securityContext.runAsNonRoot must be true`);
    const containers = [...(pod.initContainers ?? []).filter((c) => c.restartPolicy === "Always"), ...(pod.containers ?? [])];
    for (const c of containers) {
      if (!c.resources?.requests || !c.resources?.limits) problems.push(`${where}: container ${c.name} has no resource requests and limits`);
      if (c.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${where}: container ${c.name} must set allowPrivilegeEscalation: false`);
      for (const ef of c.envFrom ?? []) {
        if (ef.configMapRef && !exists("ConfigMap", ef.configMapRef.name, ns(d))) problems.push(`${where}: ConfigMap ${ef.configMapRef.name} (envFrom) is not defined`);
        if (ef.secretRef && !exists("Secret", ef.secretRef.name, ns(d))) problems.push(`${where}: Secret ${ef.secretRef.name} (envFrom) is not defined`);
      }
    }
    for (const v of pod.volumes ?? []) {
      if (v.configMap && !exists("ConfigMap", v.configMap.name, ns(d))) problems.push(`${where}: ConfigMap ${v.configMap.name} (volume ${v.name}) is not defined`);
      if (v.secret && !exists("Secret", v.secret.secretName, ns(d))) problems.push(`${where}: Secret ${v.secret.secretName} (volume ${v.name}) is not defined`);
    }
    const gw = (pod.containers ?? []).find((c) => c.name === "gateway");
    if (gw) {
      if (gw.livenessProbe?.httpGet?.path !== "/health") problems.push(`${where}: gateway livenessProbe must GET /health`);
      if (gw.readinessProbe?.httpGet?.path !== "/ready") problems.push(`${where}: gateway readinessProbe must GET /ready`);
    }
  }
  const workloads = [...byKind("Deployment"), ...byKind("StatefulSet")];
  for (const s of byKind("Service")) {
    const sel = s.obj.spec?.selector;
    if (sel && !workloads.some((w) => ns(w) === ns(s) && matches(sel, w.obj.spec?.template?.metadata?.labels)))
      problems.push(`${s.file}: ${name(s)}: selector matches no pod template`);
    const bc = s.obj.metadata?.annotations?.["cloud.google.com/backend-config"];
    if (bc) {
      for (const n of Object.values(JSON.parse(bc))) {
        const names = typeof n === "string" ? [n] : Object.values(n);
        for (const b of names) if (!exists("BackendConfig", b, ns(s))) problems.push(`${s.file}: ${name(s)}: BackendConfig ${b} is not defined`);
      }
    }
  }
  for (const i of byKind("Ingress")) {
    const backends = [];
    if (i.obj.spec?.defaultBackend?.service) backends.push(i.obj.spec.defaultBackend.service);
    for (const r of i.obj.spec?.rules ?? []) for (const p of r.http?.paths ?? []) if (p.backend?.service) backends.push(p.backend.service);
    for (const b of backends) {
      const svc = byKind("Service").find((s) => s.obj.metadata?.name === b.name && ns(s) === ns(i));
      if (!svc) problems.push(`${i.file}: ${name(i)}: backend Service ${b.name} is not defined`);
      else if (!(svc.obj.spec?.ports ?? []).some((p) => (b.port?.name && p.name === b.port.name) || (b.port?.number && p.port === b.port.number)))
        problems.push(`${i.file}: ${name(i)}: Service ${b.name} has no port ${b.port?.name ?? b.port?.number}`);
    }
    const certs = i.obj.metadata?.annotations?.["networking.gke.io/managed-certificates"];
    for (const c of (certs ?? "").split(",").map((x) => x.trim()).filter(Boolean))
      if (!exists("ManagedCertificate", c, ns(i))) problems.push(`${i.file}: ${name(i)}: ManagedCertificate ${c} is not defined`);
  }
  for (const h of byKind("HorizontalPodAutoscaler")) {
    const t = h.obj.spec?.scaleTargetRef ?? {};
    if (!exists(t.kind, t.name, ns(h))) problems.push(`${h.file}: ${name(h)}: scale target ${t.kind}/${t.name} is not defined`);
  }
  for (const p of [...byKind("PodDisruptionBudget"), ...byKind("NetworkPolicy")]) {
    const sel = p.obj.spec?.selector?.matchLabels ?? p.obj.spec?.podSelector?.matchLabels;
    if (sel && !workloads.some((w) => ns(w) === ns(p) && matches(sel, w.obj.spec?.template?.metadata?.labels)))
      problems.push(`${p.file}: ${name(p)}: selector matches no pod template`);
  }
  for (const k of byKind("Service").filter((s) => s.obj.apiVersion === "serving.knative.dev/v1")) {
    const spec = k.obj.spec?.template?.spec ?? {};
    const where = `${k.file}: ${name(k)}`;
    const ingress = (spec.containers ?? []).filter((c) => (c.ports ?? []).length);
    if (ingress.length !== 1) problems.push(`${where}: Cloud Run needs exactly one container with a port (the ingress container)`);
    for (const c of spec.containers ?? []) if (!c.resources?.limits) problems.push(`${where}: container ${c.name} has no resource limits`);
    const deps = k.obj.spec?.template?.metadata?.annotations?.["run.googleapis.com/container-dependencies"];
    if (deps) {
      const names = new Set((spec.containers ?? []).map((c) => c.name));
      for (const [c, on] of Object.entries(JSON.parse(deps)))
        for (const n of [c, ...on]) if (!names.has(n)) problems.push(`${where}: container-dependencies names unknown container ${n}`);
    }
  }
  return problems;
}

const args = process.argv.slice(2);
if (args[0] === "--fixtures") {
  let failed = 0;
  const dir = args[1];
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".yaml")).sort()) {
    const path = join(dir, f);
    const expect = (readFileSync(path, "utf8").match(/^# expect: (.*)$/m) ?? [])[1];
    let problems;
    try {
      problems = await validate(load([path]));
    } catch (e) {
      problems = [String(e.message)];
    }
    const hit = expect && problems.find((p) => p.includes(expect));
    if (hit) console.log(`  rejected  k8s/${f}: ${hit.replace(/^.*?: /, "")}`);
    else {
      failed++;
      console.log(`  ACCEPTED  k8s/${f}: expected "${expect}", got: ${problems.join(" | ") || "no problem"}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
if (args.length === 0) {
  console.error("usage: k8s-validate.mjs FILE.yaml... | --fixtures DIR");
  process.exit(2);
}
const objects = load(args);
const problems = await validate(objects);
if (problems.length) {
  for (const p of problems) console.log(relative(process.cwd(), p) === p ? p : p);
  console.log(`k8s-validate: ${problems.length} problem(s) in ${objects.length} object(s)`);
  process.exit(1);
}
console.log(`k8s-validate: ${objects.length} object(s) valid (schema, no unknown fields, references resolve)`);
