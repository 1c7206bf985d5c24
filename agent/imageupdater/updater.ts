// The Image Updater loop: every poll (and on a registry's notification), each Application annotated with
// `argocd-image-updater.argoproj.io/image-list` gets its images' newest allowed tags from their
// registries; a tag that moved is written back, to Git (a commit, checked by rendering the edited tree
// first) or, with `write-back-method: argocd`, to the Application itself (with a warning: not GitOps).
// What went wrong is a condition on the Application naming the registry, image, tag or constraint.
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { GROUP, VERSION, type Application, type ApplicationSource, type Condition } from "../api/types.ts";
import type { TetherClient } from "../api/client.ts";
import { TetherError, errorMessage } from "../errors.ts";
import type { LogFn } from "../log.ts";
import { RegistryClient, type RegistryAuth } from "../registry/client.ts";
import { dockerConfigAuth, repositoryAuth } from "../registry/credentials.ts";
import { discoverTags } from "../registry/discover.ts";
import type { RateLimiter } from "../registry/ratelimit.ts";
import { imageName } from "../registry/reference.ts";
import { safeJoin } from "../source/safe-join.ts";
import { kustomizeImageName } from "../writeback/edits.ts";
import type { GitWriter } from "../writeback/git.ts";
import { AnnotationError, joinPath, parseAnnotations, wantsImageUpdates, type FollowedImage, type UpdatePlan, type WriteBack } from "./annotations.ts";
import {
  IMAGE_UPDATE_ERROR, imageConditions, inScope, mergeScopes, pendingChanges, type PassScope, type WrittenTag,
} from "./decide.ts";
import {
  commitMessage, currentTags, editHelmValues, editKustomization, editOverride, helmParameters, kustomizeImageStrings, tagWithDigest,
  type AppKind, type ImageChange,
} from "./edit.ts";

/** Options for {@link ImageUpdater}. */
export interface ImageUpdaterOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly client: TetherClient;
  readonly writer: GitWriter;
  /** Shared with every registry caller of the agent: the limit holds per registry. */
  readonly rateLimiter: RateLimiter;
  readonly intervalMs: number;
  readonly log: LogFn;
  /** Renders the app from the edited tree through the one pipeline; a throw means nothing is pushed. */
  readonly renderCheck?: (app: Application, repoURL: string, dir: string) => Promise<void>;
  /** Whether this replica writes now (leader election, shards); default yes. */
  readonly owns?: () => boolean;
  /** Told after a commit was pushed for an app: the agent refreshes it, so the new tag deploys now, not at the next poll. */
  readonly onPushed?: (app: string) => void;
  /** The Applications as the controller's informer holds them; absent, a LIST each pass (tens of MB at 10,000 apps). */
  readonly applications?: () => Promise<readonly Application[]>;
}

/** What one pass over an app did. */
export interface AppUpdate {
  readonly written: readonly ImageChange[];
  readonly problems: readonly string[];
}

/** Polls registries for the annotated Applications and writes their new tags back. */
export class ImageUpdater {
  private readonly opts: ImageUpdaterOptions;
  /** The tag (or tag@digest) last written or found in place, by `app/alias`: an unchanged tag costs no clone. */
  private readonly written = new Map<string, WrittenTag>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** A pass asked for while one runs: run after it. */
  private queued: PassScope | undefined;
  private stopped = false;

  constructor(opts: ImageUpdaterOptions) {
    this.opts = opts;
  }

  start(): void {
    this.stopped = false;
    this.trigger();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Runs a pass now (after the running one): over every annotated app, or, for a registry's notification,
   * over the apps following one of the pushed repositories (`team/web`).
   */
  trigger(repositories?: readonly string[]): void {
    if (this.stopped) return;
    const scope: PassScope = repositories === undefined ? "all" : new Set(repositories);
    if (this.running !== undefined) {
      this.queued = mergeScopes(this.queued, scope);
      return;
    }
    // A pass over only some apps leaves the poll's timer as it is.
    if (scope === "all" && this.timer !== undefined) clearTimeout(this.timer);
    this.running = this.pass(scope).finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      const next = this.queued;
      this.queued = undefined;
      if (next !== undefined) this.trigger(next === "all" ? undefined : [...next]);
      else if (scope === "all") this.timer = setTimeout(() => this.trigger(), this.opts.intervalMs);
    });
  }

  private async pass(scope: PassScope): Promise<void> {
    if (this.opts.owns?.() === false) return;
    let apps: Application[];
    try {
      apps = [...await (this.opts.applications?.() ?? this.opts.client.listApplications())];
    } catch (err) {
      this.opts.log(`image updater: cannot list Applications: ${errorMessage(err)}`);
      return;
    }
    for (const app of apps) {
      if (this.stopped) return;
      if (!wantsImageUpdates(app.metadata?.annotations) || !inScope(imagesOf(app), scope)) continue;
      await this.updateApp(app).catch((err: unknown) => this.opts.log(`image updater: ${app.metadata?.name ?? ""}: ${errorMessage(err)}`));
    }
  }

  /** One app: choose each image's tag, write back what moved, report on the Application. */
  async updateApp(app: Application): Promise<AppUpdate> {
    const name = app.metadata?.name ?? "";
    const problems: string[] = [];
    const warnings: string[] = [];
    let written: ImageChange[] = [];
    try {
      const source = sourceOf(app);
      const plan = parseAnnotations(app.metadata?.annotations ?? {}, source.path ?? ".");
      const chosen = await this.choose(plan, problems);
      const pending = pendingChanges(chosen, (alias) => this.written.get(`${name}/${alias}`), Date.now());
      if (pending.length > 0) {
        written = await this.writeBack(app, { source, plan, changes: pending });
        for (const c of pending) this.written.set(`${name}/${c.image.alias}`, { tag: tagWithDigest(c), at: Date.now() });
      }
      if (plan.writeBack.method === "argocd") {
        warnings.push("write-back-method argocd keeps the new tags only in this Application's spec, not in Git (not GitOps): a sync from Git or a re-created Application loses them; use write-back-method: git");
      }
    } catch (err) {
      problems.push(err instanceof AnnotationError || err instanceof TetherError ? err.message : `image update failed: ${errorMessage(err)}`);
    }
    await this.report(app, { problems, warnings, written });
    return { written, problems };
  }

  /** Each image's tag; an image whose registry fails or where nothing matches is a problem, the others go on. */
  private async choose(plan: UpdatePlan, problems: string[]): Promise<ImageChange[]> {
    const changes: ImageChange[] = [];
    for (const image of plan.images) {
      const shown = `${imageName(image.image)}${image.constraint === undefined ? "" : `:${image.constraint}`}`;
      try {
        const registry = new RegistryClient({ rateLimiter: this.opts.rateLimiter, credentials: () => this.credentials(image) });
        const found = await discoverTags(registry, image.image, image.rule);
        if (found.selection.kind === "none") {
          problems.push(`image ${shown} (${image.rule.strategy}) in registry ${image.image.registry}: ${found.selection.reason}; nothing written for it`);
          continue;
        }
        const tag = found.selection.tag;
        changes.push({ image, tag: tag.name, ...(image.rule.strategy === "digest" && tag.digest !== undefined ? { digest: tag.digest } : {}) });
      } catch (err) {
        problems.push(`image ${shown}: ${errorMessage(err)}; nothing written for it`);
      }
    }
    return changes;
  }

  /** The pull Secret the annotation names (in the agent's namespace only), else a repository Secret. */
  private async credentials(image: FollowedImage): Promise<RegistryAuth | undefined> {
    const core = this.opts.kc.makeApiClient(CoreV1Api);
    if (image.pullSecret !== undefined) {
      const { namespace, name } = image.pullSecret;
      if (namespace !== this.opts.namespace) {
        throw new TetherError("RegistryFailed", `pull-secret ${namespace}/${name}: Tether reads pull Secrets from its own namespace only (${this.opts.namespace}): create it there`, { object: imageName(image.image) });
      }
      const secret = await core.readNamespacedSecret({ name, namespace }).catch((err: unknown) => {
        throw new TetherError("RegistryFailed", `pull-secret ${namespace}/${name}: ${(err as { code?: unknown }).code === 404 ? "no such Secret: create it (kubectl create secret docker-registry)" : errorMessage(err)}`, { object: imageName(image.image), retryable: true });
      });
      const auth = dockerConfigAuth(secret, image.image, `${namespace}/${name}`);
      if (auth === undefined) throw new TetherError("RegistryFailed", `pull-secret ${namespace}/${name} has no entry for registry ${image.image.registry}: add one`, { object: imageName(image.image) });
      return auth;
    }
    const selectors = ["tether.dev/secret-type in (repository,repo-creds)", "argocd.argoproj.io/secret-type in (repository,repo-creds)"];
    const secrets = (await Promise.all(selectors.map((s) => this.opts.client.listSecrets(s)))).flat();
    return repositoryAuth(image.image, secrets, this.opts.namespace);
  }

  private async writeBack(app: Application, change: { source: ApplicationSource; plan: UpdatePlan; changes: ImageChange[] }): Promise<ImageChange[]> {
    const wb = change.plan.writeBack;
    if (wb.method === "argocd") {
      await this.writeToApplication(app, change.source, change.changes);
      return change.changes;
    }
    return await this.writeToGit(app, { ...change, wb });
  }

  private async writeToGit(app: Application, change: { source: ApplicationSource; changes: ImageChange[]; wb: Extract<WriteBack, { method: "git" }> }): Promise<ImageChange[]> {
    const { source, changes, wb } = change;
    const name = app.metadata?.name ?? "";
    const repoURL = wb.repository ?? source.repoURL;
    const path = source.path ?? ".";
    const result = await this.opts.writer.write({
      repoURL, branch: wb.branch || source.targetRevision || "", ...(wb.pushBranch === undefined ? {} : { pushBranch: wb.pushBranch }),
      message: commitMessage(name, changes, new Map()),
      edit: async (dir) => {
        const file = wb.target.kind === "override" ? joinPath(path, `.argocd-source-${name}.yaml`)
          : wb.target.kind === "helmvalues" ? wb.target.path : await kustomizationIn(dir, wb.target.path);
        const full = await safeJoin(dir, file);
        const text = await readFile(full, "utf8").catch(() => undefined);
        let next: string;
        let previous: Map<string, string>;
        if (wb.target.kind === "override") {
          const kind = await kindOf(dir, source);
          next = editOverride(text, kind, changes, file);
          previous = new Map([...await appFileTags(dir, { path, kind }, changes), ...currentTags(text, "override", changes)]);
        } else if (text === undefined) {
          throw new TetherError("WriteBackFailed", `${file} is not in ${repoURL}: fix write-back-target`, { object: file });
        } else {
          next = wb.target.kind === "kustomization" ? editKustomization(text, changes, file) : editHelmValues(text, changes, file);
          previous = currentTags(text, wb.target.kind, changes);
        }
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, next);
        return { files: [file], message: commitMessage(name, changes, previous) };
      },
      ...(this.opts.renderCheck === undefined ? {} : { check: (dir: string) => this.opts.renderCheck!(app, repoURL, dir).catch((err: unknown) => {
        throw new TetherError("WriteBackFailed", `the new tags were not written: the app would not render with them (${errorMessage(err)})`, { object: repoURL });
      }) }),
    });
    if (result.kind === "unchanged") return [];
    this.opts.onPushed?.(name);
    this.opts.log(`image updater: ${name}: pushed ${result.commit.slice(0, 7)} to ${repoURL} ${result.branch}: ${changes.map((c) => `${imageName(c.image.image)}:${tagWithDigest(c)}`).join(", ")}`);
    return changes;
  }

  /** `write-back-method: argocd`: the parameters or images on the Application's own source. */
  private async writeToApplication(app: Application, source: ApplicationSource, changes: ImageChange[]): Promise<void> {
    const name = app.metadata?.name ?? "";
    const kind: AppKind = source.helm !== undefined || source.chart !== undefined ? "helm" : "kustomize";
    const next: ApplicationSource = kind === "helm"
      ? { ...source, helm: { ...source.helm, parameters: mergeByName(source.helm?.parameters ?? [], helmParameters(changes).map((p) => ({ name: p.name, value: p.value, forceString: true }))) } }
      : { ...source, kustomize: { ...source.kustomize, images: mergeImages(source.kustomize?.images ?? [], kustomizeImageStrings(changes)) } };
    // A merge patch replaces a list whole: with spec.sources, the list with this one source replaced.
    const spec = app.spec.sources === undefined ? { source: next } : { sources: app.spec.sources.map((s) => (s === source ? next : s)) };
    await this.opts.client.mergeApplication(name, { spec });
    await this.opts.client.recordEvent(app, { type: "Warning", reason: "ImageUpdatedInCluster", message: `image updater set ${changes.map((c) => `${imageName(c.image.image)}:${tagWithDigest(c)}`).join(", ")} on the Application only (write-back-method argocd): not in Git` }).catch(() => undefined);
  }

  /** Writes the ImageUpdate conditions when they changed; the reconcile carries them over untouched. */
  private async report(app: Application, outcome: { problems: string[]; warnings: string[]; written: ImageChange[] }): Promise<void> {
    const name = app.metadata?.name ?? "";
    for (let attempt = 1; attempt <= 3; attempt++) {
      const fresh = await this.opts.client.getApplication(name);
      if (fresh === undefined) return;
      const before = fresh.status?.conditions ?? [];
      const conditions = imageConditions(before, outcome, new Date().toISOString());
      if (JSON.stringify(conditions) === JSON.stringify(before)) return;
      if (!await this.writeConditions(fresh, conditions)) continue;
      const problems = outcome.problems.join("; ");
      if (problems !== "" && !before.some((c) => c.type === IMAGE_UPDATE_ERROR && c.message === problems)) {
        this.opts.log(`image updater: ${name}: ${problems}`);
        await this.opts.client.recordEvent(fresh, { type: "Warning", reason: IMAGE_UPDATE_ERROR, message: problems }).catch(() => undefined);
      }
      return;
    }
  }

  /** The conditions, over the status just read only (false: a reconcile wrote meanwhile; read again). */
  private async writeConditions(fresh: Application, conditions: Condition[]): Promise<boolean> {
    const custom = this.opts.kc.makeApiClient(CustomObjectsApi);
    const body = [
      { op: "test", path: "/metadata/resourceVersion", value: fresh.metadata?.resourceVersion },
      fresh.status === undefined ? { op: "add", path: "/status", value: { conditions } } : { op: "add", path: "/status/conditions", value: conditions },
    ];
    return await custom.patchNamespacedCustomObjectStatus({
      group: GROUP, version: VERSION, namespace: this.opts.namespace, plural: "applications", name: fresh.metadata?.name ?? "", body,
    }).then(() => true, (err: unknown) => {
      const code = (err as { code?: unknown }).code;
      // The failed `test` is 422 on current API servers and an InternalError naming the test on older ones.
      if (code === 409 || code === 422 || /test operation|testing value/i.test(`${JSON.stringify((err as { body?: unknown }).body ?? "")} ${errorMessage(err)}`)) return false;
      throw err;
    });
  }
}

/** The images an app follows; none when its annotations cannot be read (a full pass reports that). */
function imagesOf(app: Application): readonly FollowedImage[] {
  try {
    return parseAnnotations(app.metadata?.annotations ?? {}, ".").images;
  } catch {
    return [];
  }
}

/** The one source image updates apply to: `spec.source`, or the only Git source with a path of `spec.sources`. */
function sourceOf(app: Application): ApplicationSource {
  if (app.spec.source !== undefined && app.spec.sources === undefined) return app.spec.source;
  const candidates = (app.spec.sources ?? []).filter((s) => s.path !== undefined && s.chart === undefined);
  if (candidates.length === 1) return candidates[0]!;
  throw new AnnotationError("image updates need one Git source with a path to write to (spec.source, or exactly one such source in spec.sources)");
}

async function kindOf(dir: string, source: ApplicationSource): Promise<AppKind> {
  const path = source.path ?? ".";
  const exists = async (file: string): Promise<boolean> => access(await safeJoin(dir, joinPath(path, file))).then(() => true, () => false);
  if (source.helm !== undefined || await exists("Chart.yaml")) return "helm";
  if (source.kustomize !== undefined || await exists("kustomization.yaml") || await exists("kustomization.yml") || await exists("Kustomization")) return "kustomize";
  throw new TetherError("WriteBackFailed", `${path} is neither a Helm chart nor a Kustomize directory: image updates write Helm parameters or Kustomize images; set write-back-target: helmvalues:<file> or make the app a Kustomize one`, { object: path });
}

/**
 * The tags the app's own files give the images (values.yaml of a chart, the kustomization's images): what
 * an override file that does not name an image yet replaces.
 */
async function appFileTags(dir: string, app: { path: string; kind: AppKind }, changes: readonly ImageChange[]): Promise<Map<string, string>> {
  const file = app.kind === "helm" ? joinPath(app.path, "values.yaml") : await kustomizationIn(dir, app.path).catch(() => undefined);
  if (file === undefined) return new Map();
  const text = await readFile(await safeJoin(dir, file), "utf8").catch(() => undefined);
  return currentTags(text, app.kind === "helm" ? "helmvalues" : "kustomization", changes);
}

async function kustomizationIn(dir: string, path: string): Promise<string> {
  for (const name of ["kustomization.yaml", "kustomization.yml", "Kustomization"]) {
    const file = joinPath(path, name);
    if (await access(await safeJoin(dir, file)).then(() => true, () => false)) return file;
  }
  throw new TetherError("WriteBackFailed", `no kustomization.yaml in ${path}: fix write-back-target`, { object: path });
}

function mergeByName<T extends { name: string }>(current: readonly T[], next: readonly T[]): T[] {
  const names = new Set(next.map((p) => p.name));
  return [...current.filter((p) => !names.has(p.name)), ...next];
}

function mergeImages(current: readonly string[], next: readonly string[]): string[] {
  const names = new Set(next.map(kustomizeImageName));
  return [...current.filter((i) => !names.has(kustomizeImageName(i))), ...next];
}
