// `npx tsx test/bench/actions-library.ts [ARGO_CD_GIT_DIR]`: runs every test case of Argo CD's resource
// actions library (resource_customizations/*/*/actions/action_test.yaml) through the functions the agent
// and `tether app actions` use, with the library's scripts given as the user's tether-cm customization
// (`resource.customizations.actions.<group>_<kind>`: discovery.lua and one definitions[] entry per
// action folder), and prints how often Tether's result is Argo CD's:
//   - discovery: every action Tether lists is one the test expects (name, disabled, iconClass,
//     displayName, params), as Argo CD's own test asserts;
//   - actions: the object(s) the action returns equal the expected output after Argo CD's test normalizer
//     (times and generated names set to fixed values), field for field; the expected error when one is given.
// Nothing of Argo CD is kept here: the library is read from a snapshot of its git repository.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML, { parse } from "yaml";
import type { Manifest } from "../../agent/api/types.ts";
import { actionResult, actionsOf } from "../../agent/actions/run.ts";
import { parseSettings } from "../../agent/settings/index.ts";
import { argoCdGitDir, DEFAULT_ARGO_CD_GIT_DIR } from "./health-library.ts";

export interface ActionCase {
  readonly id: string;
  readonly ok: boolean;
  /** Equal in every field (not only the fields the expected output sets). */
  readonly exact: boolean;
  readonly why?: string;
}

export interface ActionFigures {
  readonly commit: string;
  readonly discovery: readonly ActionCase[];
  readonly actions: readonly ActionCase[];
}

interface TestFile {
  discoveryTests?: { inputPath: string; result?: Record<string, unknown>[] }[];
  actionTests?: { action: string; inputPath: string; expectedOutputPath?: string; expectedErrorMessage?: string; parameters?: Record<string, string> }[];
}

function extract(gitDir: string): { dir: string; commit: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tether-argo-actions-"));
  const commit = execFileSync("git", ["--git-dir", gitDir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  const tar = execFileSync("git", ["--git-dir", gitDir, "archive", "--format=tar", "HEAD", "--", "resource_customizations"],
    { maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "ignore"] });
  execFileSync("tar", ["-x", "-C", dir], { input: tar });
  return { dir: path.join(dir, "resource_customizations"), commit };
}

/** `apps/Deployment/actions` → the tether-cm key and value that give its scripts as a user's customization. */
function customization(root: string, actionsDir: string): [string, string] {
  const [group, kind] = path.relative(root, actionsDir).split(path.sep) as [string, string];
  const definitions = readdirSync(actionsDir, { withFileTypes: true })
    // A folder without action.lua (one has `actions.lua`) defines nothing, as in Argo CD.
    .filter((e) => e.isDirectory() && e.name !== "testdata" && existsSync(path.join(actionsDir, e.name, "action.lua")))
    .map((e) => ({ name: e.name, "action.lua": readFileSync(path.join(actionsDir, e.name, "action.lua"), "utf8") }));
  const value = YAML.stringify({ "discovery.lua": readFileSync(path.join(actionsDir, "discovery.lua"), "utf8"), definitions });
  return [`resource.customizations.actions.${group}_${kind}`, value];
}

function readObject(file: string): Manifest {
  return parse(readFileSync(file, "utf8")) as Manifest;
}

/** Argo CD's test normalizer, restated: the fields an action fills with the time or a random name. */
function normalize(input: unknown): Record<string, unknown> {
  const o = structuredClone(input) as Record<string, any>;
  const group = String(o.apiVersion ?? "").includes("/") ? String(o.apiVersion).split("/")[0] : "";
  const kind = String(o.kind);
  // As Argo CD's normalizer reads annotations (NestedStringMap): anything but a map (an emptied Lua table) is none.
  const ann = () => {
    const meta = (o.metadata ??= {}) as Record<string, unknown>;
    if (typeof meta.annotations !== "object" || meta.annotations === null || Array.isArray(meta.annotations)) meta.annotations = {};
    return meta.annotations as Record<string, string>;
  };
  const flux = () => { ann()["reconcile.fluxcd.io/requestedAt"] = "By Argo CD at: 0001-01-01T00:00:00"; };
  if (group === "apps" && ["DaemonSet", "Deployment", "StatefulSet"].includes(kind)) {
    (((o.spec ??= {}).template ??= {}).metadata ??= {}).annotations = { "kubectl.kubernetes.io/restartedAt": "0001-01-01T00:00:00Z" };
    if (kind === "Deployment") {
      delete o.status;
      delete o.metadata?.creationTimestamp;
      delete o.metadata?.generation;
    }
  }
  if (group === "batch" && kind === "Job") {
    for (const c of (o.status?.conditions ?? []) as Record<string, unknown>[]) if (c.type === "FailureTarget") c.lastTransitionTime = "0001-01-01T00:00:00Z";
  }
  if (group === "argoproj.io" && kind === "Rollout") delete o.spec?.restartAt;
  if (group === "argoproj.io" && kind === "Workflow") {
    delete o.metadata?.resourceVersion;
    delete o.metadata?.uid;
    delete o.metadata?.annotations?.["workflows.argoproj.io/scheduled-time"];
  }
  if (group === "external-secrets.io" && ["ExternalSecret", "PushSecret"].includes(kind)) o.metadata.annotations = { "force-sync": "0001-01-01T00:00:00Z" };
  if (group === "postgresql.cnpg.io" && kind === "Cluster") {
    Object.assign(ann(), { "cnpg.io/reloadedAt": "0001-01-01T00:00:00Z", "kubectl.kubernetes.io/restartedAt": "0001-01-01T00:00:00Z" });
    delete o.status?.targetPrimaryTimestamp;
  }
  const fluxKinds: Record<string, string[]> = {
    "helm.toolkit.fluxcd.io": ["HelmRelease"], "kustomize.toolkit.fluxcd.io": ["Kustomization"], "notification.toolkit.fluxcd.io": ["Receiver"],
    "source.toolkit.fluxcd.io": ["Bucket", "GitRepository", "HelmChart", "HelmRepository", "OCIRepository"],
    "image.toolkit.fluxcd.io": ["ImageRepository", "ImageUpdateAutomation"],
  };
  if (fluxKinds[group ?? ""]?.includes(kind)) flux();
  return o;
}

/**
 * Where `got` differs from `want` in a field `want` sets (Argo CD's test diffs with the expected object as
 * the config: fields only the result has do not count); numbers compare by value. Undefined when equal.
 */
function subsetDiff(want: unknown, got: unknown, at = ""): string | undefined {
  if (typeof want === "number" || typeof got === "number") return Number(want) === Number(got) ? undefined : `${at}: ${String(want)} ≠ ${String(got)}`;
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) return `${at}: list of ${want.length} ≠ ${JSON.stringify(got)?.slice(0, 80)}`;
    for (let i = 0; i < want.length; i++) {
      const d = subsetDiff(want[i], got[i], `${at}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (typeof want === "object" && want !== null) {
    if (typeof got !== "object" || got === null || Array.isArray(got)) return `${at}: object ≠ ${JSON.stringify(got)?.slice(0, 80)}`;
    for (const [k, v] of Object.entries(want)) {
      if (v === null) continue;
      const d = subsetDiff(v, (got as Record<string, unknown>)[k], `${at}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return want === got ? undefined : `${at}: ${JSON.stringify(want)} ≠ ${JSON.stringify(got)}`;
}

function sameAction(got: Record<string, unknown>, want: Record<string, unknown>): boolean {
  const params = (a: Record<string, unknown>) => JSON.stringify(((a.params ?? []) as { name?: string }[]).map((p) => p.name ?? ""));
  return got.name === want.name && (got.disabled === true) === (want.disabled === true)
    && (got.iconClass ?? "") === (want.iconClass ?? "") && (got.displayName ?? "") === (want.displayName ?? "") && params(got) === params(want);
}

/** Expected output: an object (old style) or a list of `{unstructuredObj}` (new style), as Argo CD's test reads it. */
function expectedObjects(file: string): Manifest[] {
  const text = readFileSync(file, "utf8");
  const doc = parse(text) as unknown;
  return Array.isArray(doc) ? doc.map((d) => (d as { unstructuredObj: Manifest }).unstructuredObj) : [doc as Manifest];
}

function runActionCase(dir: string, settings: ReturnType<typeof parseSettings>["settings"], t: NonNullable<TestFile["actionTests"]>[number]): Omit<ActionCase, "id"> {
  const source = readObject(path.join(dir, t.inputPath));
  let impacted;
  try {
    impacted = actionResult(source, { action: t.action, params: Object.fromEntries(Object.entries(t.parameters ?? {}).map(([k, v]) => [k, String(v)])) }, settings);
  } catch (err) {
    const message = (err as Error).message;
    if (t.expectedErrorMessage !== undefined) {
      const ok = message === t.expectedErrorMessage;
      return { ok, exact: ok, ...(ok ? {} : { why: `error "${message}" ≠ "${t.expectedErrorMessage}"` }) };
    }
    return { ok: false, exact: false, why: `error: ${message}` };
  }
  if (t.expectedErrorMessage !== undefined) return { ok: false, exact: false, why: `no error; expected "${t.expectedErrorMessage}"` };
  const expected = expectedObjects(path.join(dir, t.expectedOutputPath ?? ""));
  for (const { operation, resource } of impacted) {
    const derivedName = (resource.kind === "Job" && source.kind === "CronJob")
      || (resource.kind === "Workflow" && ["CronWorkflow", "WorkflowTemplate"].includes(source.kind));
    const want = expected.find((e) => e.apiVersion === resource.apiVersion && e.kind === resource.kind
      && (e.metadata.namespace ?? "") === (resource.metadata.namespace ?? "")
      && (derivedName ? (e.metadata.name ?? "").startsWith(source.metadata.name ?? "") : e.metadata.name === resource.metadata.name));
    if (want === undefined) return { ok: false, exact: false, why: `${operation} of ${resource.kind}/${resource.metadata.name ?? ""}: not in the expected output` };
    const got = derivedName && operation === "create" ? { ...resource, metadata: { ...resource.metadata, name: want.metadata.name } } : resource;
    const d = subsetDiff(normalize(want), normalize(got));
    if (d) return { ok: false, exact: false, why: `${operation} ${resource.kind}${d}` };
    const extra = subsetDiff(normalize(got), normalize(want));
    if (extra) return { ok: true, exact: false, why: `${resource.kind}${extra}` };
  }
  return { ok: true, exact: true };
}

export function runActionsLibrary(gitDir: string): ActionFigures {
  const { dir: root, commit } = extract(gitDir);
  try {
    const dirs = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((p) => p.endsWith(`${path.sep}action_test.yaml`))
      .map((p) => path.join(root, path.dirname(p))).sort();
    const parsed = parseSettings(Object.fromEntries(dirs.map((d) => customization(root, d))));
    if (parsed.problems.length > 0) throw new Error(`tether-cm of the library: ${JSON.stringify(parsed.problems)}`);
    const discovery: ActionCase[] = [];
    const actions: ActionCase[] = [];
    for (const dir of dirs) {
      const rel = path.relative(root, dir);
      const tests = parse(readFileSync(path.join(dir, "action_test.yaml"), "utf8")) as TestFile;
      for (const t of tests.discoveryTests ?? []) {
        const id = `${rel}/discovery/${t.inputPath}`;
        try {
          const got = actionsOf(readObject(path.join(dir, t.inputPath)), parsed.settings) as unknown as Record<string, unknown>[];
          const stray = got.find((g) => !(t.result ?? []).some((w) => sameAction(g, w)));
          discovery.push({ id, ok: stray === undefined, exact: stray === undefined && got.length === (t.result ?? []).length,
            ...(stray ? { why: `listed ${JSON.stringify(stray)}` } : {}) });
        } catch (err) {
          discovery.push({ id, ok: false, exact: false, why: (err as Error).message });
        }
      }
      for (const t of tests.actionTests ?? []) actions.push({ id: `${rel}/${t.action}/${t.inputPath}`, ...runActionCase(dir, parsed.settings, t) });
    }
    return { commit, discovery, actions };
  } finally {
    rmSync(path.dirname(root), { recursive: true, force: true });
  }
}

function report(f: ActionFigures): string {
  const pct = (rs: readonly ActionCase[], p: (r: ActionCase) => boolean) => `${((100 * rs.filter(p).length) / Math.max(1, rs.length)).toFixed(1)}% (${rs.filter(p).length}/${rs.length})`;
  return [
    `argo-cd ${f.commit.slice(0, 10)}: resource_customizations/*/*/actions/action_test.yaml, scripts given as tether-cm customizations`,
    `discovery: ${pct(f.discovery, (r) => r.ok)} as Argo CD's test asserts; ${pct(f.discovery, (r) => r.exact)} listing exactly the expected set`,
    `actions: ${pct(f.actions, (r) => r.ok)} give the expected output (or error); ${pct(f.actions, (r) => r.exact)} equal in every field`,
    "",
    "cases that differ:",
    ...[...f.discovery, ...f.actions].filter((r) => !r.ok).map((r) => `  ${r.id}: ${r.why ?? ""}`),
    "",
    "cases whose result also sets fields the expected output leaves out:",
    ...[...f.discovery, ...f.actions].filter((r) => r.ok && !r.exact).map((r) => `  ${r.id}${r.why ? `: ${r.why}` : ""}`),
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
  const gitDir = process.argv[2] ?? argoCdGitDir();
  if (gitDir === undefined) {
    process.stderr.write(`no argo-cd snapshot at ${DEFAULT_ARGO_CD_GIT_DIR}; pass the path of an argo-cd git directory or set ARGO_CD_GIT_DIR\n`);
    process.exit(2);
  }
  process.stdout.write(report(runActionsLibrary(gitDir)));
}
