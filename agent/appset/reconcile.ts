// One reconcile of one ApplicationSet, as named stages over the set: deletion → parse → authority →
// generate → validate → rollout → write → status. Every decision is a pure function of plan.ts,
// rollout.ts, authority.ts and status.ts; this file only reads and writes. A generator that fails,
// a template error or a refused spec changes no Application: the set's conditions say why.
import { ApplicationSpecSchema } from "../api/schema.ts";
import { APPSET_REFRESH_ANNOTATION, type AppProject, type Application, type ApplicationSet, type AppSetCondition } from "../api/types.ts";
import { errorMessage } from "../errors.ts";
import { prune } from "../render/argocd.ts";
import { parentOf, refusals } from "./authority.ts";
import type { AppSetClient } from "./client.ts";
import { generatorEnv, type EnvDeps } from "./env.ts";
import { generateApplications, parseApplicationSetSpec, type GeneratorEnv } from "./generate/index.ts";
import { desiredApplication, duplicateNames, ownedBy, planChanges, policyOf } from "./plan.ts";
import { isRollingSync, rollout, syncOperation, withoutAutomated, type Rollout } from "./rollout.ts";
import { conditionsOf, resourcesOf, statusOf, type AppSetOutcome, type AppSetReason } from "./status.ts";

/** Put on a set whose policy keeps its Applications (create-only, create-update): on deletion its owner references are taken off them first. */
export const APPSET_FINALIZER = "tether.dev/applicationset-finalizer";

export interface AppSetDeps extends EnvDeps {
  readonly client: AppSetClient;
  readonly namespace: string;
  readonly project: (name: string) => Promise<AppProject | undefined>;
  readonly projects: () => Promise<readonly AppProject[]>;
  readonly getApplication: (name: string) => Promise<Application | undefined>;
  readonly log: (line: string) => void;
  readonly event?: (set: ApplicationSet, type: "Normal" | "Warning", reason: string, message: string) => Promise<void>;
}

export interface AppSetResult {
  /** The repositories its git generators read, for webhooks. */
  readonly repositories: readonly string[];
  /** Ask again soon (a rollout in progress, a write that failed). */
  readonly requeueMs?: number;
}

type Generated = { ok: true; desired: Application[]; refused: Map<string, string>; names: string[]; warnings: string[] } | { ok: false; outcome: AppSetOutcome };

type Ok = Extract<Generated, { ok: true }>;

export async function reconcileAppSet(set: ApplicationSet, deps: AppSetDeps): Promise<AppSetResult> {
  const name = set.metadata?.name ?? "";
  if (set.metadata?.deletionTimestamp) {
    await finishDeletion(set, deps);
    return { repositories: [] };
  }
  await ensureFinalizer(set, deps);
  const parent = await parentProject(set, deps);
  const setEnv = generatorEnv(deps, { setName: name, ...(parent ? { project: parent } : {}) });
  let generated: Generated;
  try {
    generated = await generate(set, { env: setEnv.env, ...(parent ? { parentProject: parent } : {}) }, deps);
  } catch (err) {
    generated = { ok: false, outcome: { kind: "generation-failed", reason: "ApplicationGenerationFromParamsError", message: errorMessage(err) } };
  } finally {
    await setEnv.cleanup();
  }
  const live = await deps.client.listApplications();
  let requeueMs: number | undefined;
  if (generated.ok) {
    requeueMs = await applyGenerated(set, generated, live, deps);
  } else {
    deps.log(`ApplicationSet ${name}: ${generated.outcome.kind === "generation-failed" ? generated.outcome.message : ""}; no Application changed`);
    await writeStatus(set, { outcome: generated.outcome, live }, deps);
  }
  await clearRefresh(set, deps);
  return { repositories: setEnv.repositories(), ...(requeueMs === undefined ? {} : { requeueMs }) };
}

/** Rollout, write, status for a generation that worked; how soon to look again (a rollout running, a write failed). */
async function applyGenerated(set: ApplicationSet, generated: Ok, live: readonly Application[], deps: AppSetDeps): Promise<number | undefined> {
  const roll = isRollingSync(set) ? rollingSync(set, generated.desired, live) : undefined;
  const valid = (roll?.desired ?? generated.desired).filter((a) => !generated.refused.has(a.metadata?.name ?? ""));
  const changes = planChanges(set, valid, live, generated.names);
  const errors = await write(set, changes, deps);
  const refused = [...generated.refused.entries()].map(([app, why]) => `${app}: ${why}`);
  const conflicts = changes.conflicts.map((c) => `Application ${c.name} already exists and is controlled by ${c.owner}, not by this set; `
    + "the first owner keeps it: rename the generated Application or delete the other");
  const problems: { reason: AppSetReason; message: string }[] = [
    ...[...refused, ...conflicts, ...generated.warnings].map((message) => ({ reason: "ApplicationValidationError" as const, message })),
    ...errors,
  ];
  const error = problems.length === 0 ? undefined
    : { reason: problems[0]?.reason ?? "ErrorOccurred", message: problems.map((p) => p.message).join("; ") };
  const outcome: AppSetOutcome = { kind: "generated", ...(error ? { error } : {}) };
  await writeStatus(set, { outcome, live: await deps.client.listApplications(), ...(roll ? { roll: roll.rollout } : {}) }, deps);
  const rolling = roll !== undefined && roll.rollout.condition.status === "True";
  return rolling || errors.length > 0 ? 2000 : undefined;
}

/** Parse, generate, shape and validate; throws only on I/O the generators did not catch. */
async function generate(set: ApplicationSet, ctx: { env: GeneratorEnv; parentProject?: AppProject }, deps: AppSetDeps): Promise<Generated> {
  const name = set.metadata?.name ?? "";
  const parsed = parseApplicationSetSpec(set.spec, `ApplicationSet ${name}`);
  if (!parsed.ok) return { ok: false, outcome: { kind: "generation-failed", reason: "ApplicationValidationError", message: parsed.message } };
  const result = await generateApplications(parsed.spec, ctx.env, { name });
  if (!result.ok) {
    return { ok: false, outcome: { kind: "generation-failed", reason: result.reason, message: `${result.generator}: ${result.message}` } };
  }
  const dups = duplicateNames(result.applications);
  if (dups.length > 0) {
    return { ok: false, outcome: { kind: "generation-failed", reason: "ApplicationValidationError",
      message: `the generators produce Application ${dups.join(", ")} more than once; make the template's metadata.name unique per element` } };
  }
  const warnings: string[] = [];
  const desired = result.applications.map((g) => {
    const app = desiredApplication(set, g, deps.namespace);
    const spec = prune(app.spec, ApplicationSpecSchema, "spec", (p) => warnings.push(`Application ${g.metadata.name}: ${p} is not implemented by Tether; the field is ignored`));
    return { ...app, spec: (spec ?? app.spec) as Application["spec"] };
  });
  const projects = new Map((await deps.projects()).map((p) => [p.metadata?.name ?? "", p]));
  const refused = refusals(desired, { ...(ctx.parentProject ? { parentProject: ctx.parentProject } : {}), projects, setName: `ApplicationSet ${name}` });
  return { ok: true, desired, refused, names: desired.map((a) => a.metadata?.name ?? ""), warnings: [...new Set(warnings)] };
}

/**
 * The parent app's project, when the set was rendered by an app-of-apps (undefined for a set applied
 * directly). A parent, or a parent's project, that is gone allows nothing.
 */
async function parentProject(set: ApplicationSet, deps: AppSetDeps): Promise<AppProject | undefined> {
  const parent = parentOf(set);
  if (!parent) return undefined;
  const app = await deps.getApplication(parent.name);
  return (app ? await deps.project(app.spec.project ?? "default") : undefined) ?? NO_PROJECT;
}

/** What a set rendered by an app that is gone (or whose project is) may do: nothing. */
const NO_PROJECT: AppProject = { apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name: "(its parent's project, which no longer exists)" }, spec: {} };

/** RollingSync: automated sync off on every generated app, a sync requested on those whose turn it is. */
function rollingSync(set: ApplicationSet, desired: readonly Application[], live: readonly Application[]): { desired: Application[]; rollout: Rollout } {
  const shaped = desired.map((a) => {
    const { spec, prune } = withoutAutomated(a.spec);
    return { app: { ...a, spec }, prune };
  });
  const owned = live.filter((a) => ownedBy(a, set));
  const r = rollout({ set, live: owned, desiredSpecs: new Map(shaped.map((s) => [s.app.metadata?.name ?? "", s.app.spec])), now: new Date().toISOString() });
  return {
    desired: shaped.map((s) => (r.sync.has(s.app.metadata?.name ?? "") ? { ...s.app, operation: syncOperation(s.prune) } : s.app)),
    rollout: r,
  };
}

/** Creates, updates and deletes; each failure becomes a message with Argo CD's reason, the rest goes on. */
async function write(set: ApplicationSet, changes: ReturnType<typeof planChanges>, deps: AppSetDeps): Promise<{ reason: AppSetReason; message: string }[]> {
  const errors: { reason: AppSetReason; message: string }[] = [];
  const name = set.metadata?.name ?? "";
  const step = async (verb: string, reason: AppSetReason, app: string, run: () => Promise<void>) => {
    try {
      await run();
      deps.log(`ApplicationSet ${name}: ${verb} Application ${app}`);
      await deps.event?.(set, "Normal", verb, `${verb} Application "${app}"`).catch(() => undefined);
    } catch (err) {
      errors.push({ reason, message: `${verb.toLowerCase()} Application ${app}: ${errorMessage(err)}` });
    }
  };
  for (const app of changes.create) await step("Created", "CreateApplicationError", app.metadata?.name ?? "", () => deps.client.createApplication(app));
  for (const app of changes.update) await step("Updated", "UpdateApplicationError", app.metadata?.name ?? "", () => deps.client.replaceApplication(app));
  for (const app of changes.delete) await step("Deleted", "DeleteApplicationError", app, () => deps.client.deleteApplication(app));
  return errors;
}

async function writeStatus(set: ApplicationSet, parts: { outcome: AppSetOutcome; live: readonly Application[]; roll?: Rollout }, deps: AppSetDeps): Promise<void> {
  const { outcome, live, roll } = parts;
  const previous: readonly AppSetCondition[] = set.status?.conditions ?? [];
  const now = new Date().toISOString();
  const conditions = conditionsOf(outcome, previous, now, roll ? { ...roll.condition, issues: roll.issues } : undefined);
  const resources = resourcesOf(live.filter((a) => ownedBy(a, set)));
  const applicationStatus = roll ? [...roll.applicationStatus] : outcome.kind === "generation-failed" ? set.status?.applicationStatus : undefined;
  const next = statusOf({ conditions, resources, ...(applicationStatus ? { applicationStatus } : {}) });
  if (JSON.stringify(next) === JSON.stringify(set.status ?? {})) return;
  await deps.client.writeStatus(set.metadata?.name ?? "", next);
}

async function clearRefresh(set: ApplicationSet, deps: AppSetDeps): Promise<void> {
  if (set.metadata?.annotations?.[APPSET_REFRESH_ANNOTATION] === undefined) return;
  const key = APPSET_REFRESH_ANNOTATION.replace(/~/g, "~0").replace(/\//g, "~1");
  await deps.client.patch(set.metadata.name ?? "", [{ op: "remove", path: `/metadata/annotations/${key}` }]).catch(() => undefined);
}

/** A set whose policy keeps Applications carries the finalizer; a set whose policy deletes them does not need it. */
async function ensureFinalizer(set: ApplicationSet, deps: AppSetDeps): Promise<void> {
  const has = (set.metadata?.finalizers ?? []).includes(APPSET_FINALIZER);
  if (has || policyOf(set).allowDelete) return;
  const body = set.metadata?.finalizers ? [{ op: "add", path: "/metadata/finalizers/-", value: APPSET_FINALIZER }]
    : [{ op: "add", path: "/metadata/finalizers", value: [APPSET_FINALIZER] }];
  await deps.client.patch(set.metadata?.name ?? "", body);
}

/**
 * A set being deleted: under a policy that keeps Applications (create-only, create-update) its
 * Applications lose their owner reference and stay, as Argo CD does; otherwise the garbage collector
 * deletes them through their owner reference (and their objects through their finalizer, unless
 * `preserveResourcesOnDeletion` left it off).
 */
async function finishDeletion(set: ApplicationSet, deps: AppSetDeps): Promise<void> {
  const index = (set.metadata?.finalizers ?? []).indexOf(APPSET_FINALIZER);
  if (index < 0) return;
  if (!policyOf(set).allowDelete) {
    for (const app of (await deps.client.listApplications()).filter((a) => ownedBy(a, set))) {
      const others = (app.metadata?.ownerReferences ?? []).filter((r) => !(r.kind === "ApplicationSet" && r.name === set.metadata?.name));
      await deps.client.patchApplication(app.metadata?.name ?? "", [{ op: "replace", path: "/metadata/ownerReferences", value: others }]);
      deps.log(`ApplicationSet ${set.metadata?.name ?? ""} deleted: Application ${app.metadata?.name ?? ""} kept (policy ${set.spec.syncPolicy?.applicationsSync ?? ""})`);
    }
  }
  await deps.client.patch(set.metadata?.name ?? "", [
    { op: "test", path: `/metadata/finalizers/${index}`, value: APPSET_FINALIZER }, { op: "remove", path: `/metadata/finalizers/${index}` },
  ]);
}
