// Argo CD Image Updater's annotations on an Application, read into one plan. Pure: annotations in, the
// images to follow and where to write them out, or errors that name the annotation and the fix.
// Spelling and defaults are Image Updater's (v0.x annotations): `image-list` with aliases, per-alias
// options `<alias>.update-strategy`, `.allow-tags`, `.ignore-tags`, `.pull-secret`, `.platforms`,
// `.force-update`, `.helm.image-name/-tag/-spec`, `.kustomize.image-name`, the same options without an
// alias as the app-wide default, `write-back-method`, `write-back-target`, `git-branch`, `git-repository`.
import { ImageRefError, parseImageRef, type ImageRef } from "../registry/reference.ts";
import {
  SelectionSyntaxError, parseAllowTags, parseIgnoreTags, parseStrategy, validateRule, type SelectionRule,
} from "../registry/select.ts";

/** The prefix of every Image Updater annotation. */
export const PREFIX = "argocd-image-updater.argoproj.io/";

/** One image the app follows. */
export interface FollowedImage {
  /** The alias (`alias=image`), or the image name when none is given: the key of the per-image annotations. */
  readonly alias: string;
  readonly image: ImageRef;
  /** The text after the image's `:` in image-list (a semver constraint, or the tag the digest strategy follows). */
  readonly constraint?: string;
  readonly rule: SelectionRule;
  /** `<alias>.pull-secret: pullsecret:<namespace>/<name>`. */
  readonly pullSecret?: { readonly namespace: string; readonly name: string };
  /** `<alias>.platforms`: `linux/amd64,…`; the first decides which image of an index gives the build date. */
  readonly platforms: readonly string[];
  /** Helm parameter names: `image-spec` alone, or `image-name` and `image-tag` (default image.name / image.tag). */
  readonly helm: { readonly imageSpec?: string; readonly imageName: string; readonly imageTag: string };
  /** The image name in the manifests that Kustomize replaces (default: the followed image's name). */
  readonly kustomizeImageName: string;
}

/** Where and how the change is written. */
export type WriteBack =
  | { readonly method: "argocd" }
  | {
    readonly method: "git";
    /** `kustomization` (path relative to the app, or from the repository root with `/`), `helmvalues` (a file), or Argo CD's override file. */
    readonly target: WriteTarget;
    /** The branch to check out (empty: spec.source.targetRevision). */
    readonly branch: string;
    /** `git-branch: base:target`: the branch pushed to. */
    readonly pushBranch?: string;
    /** `git-repository`: the repository to write to, when it is not spec.source.repoURL. */
    readonly repository?: string;
  };

export type WriteTarget =
  | { readonly kind: "override" }
  | { readonly kind: "kustomization"; readonly path: string }
  | { readonly kind: "helmvalues"; readonly path: string };

/** The plan for one Application. */
export interface UpdatePlan {
  readonly images: readonly FollowedImage[];
  readonly writeBack: WriteBack;
}

/** An annotation that cannot be used: names it and says the fix. */
export class AnnotationError extends Error {}

/** Whether the Application asks for image updates at all. */
export function wantsImageUpdates(annotations: Readonly<Record<string, string>> | undefined): boolean {
  return (annotations?.[`${PREFIX}image-list`] ?? "").trim() !== "";
}

/** Reads the plan; throws {@link AnnotationError} for the first annotation that is wrong. */
export function parseAnnotations(annotations: Readonly<Record<string, string>>, appPath: string): UpdatePlan {
  const list = annotations[`${PREFIX}image-list`] ?? "";
  const entries = list.split(",").map((e) => e.trim()).filter((e) => e !== "");
  if (entries.length === 0) throw new AnnotationError(`${PREFIX}image-list is empty: list the images to follow (e.g. app=registry.example/app:~1.2)`);
  const images = entries.map((entry) => followedImage(entry, annotations));
  const aliases = new Set<string>();
  for (const image of images) {
    if (aliases.has(image.alias)) throw new AnnotationError(`${PREFIX}image-list names '${image.alias}' twice: give each image its own alias (alias=image)`);
    aliases.add(image.alias);
  }
  return { images, writeBack: writeBackOf(annotations, appPath) };
}

function followedImage(entry: string, annotations: Readonly<Record<string, string>>): FollowedImage {
  const eq = entry.indexOf("=");
  const alias = eq >= 0 ? entry.slice(0, eq).trim() : undefined;
  if (alias !== undefined && !/^[A-Za-z0-9_-]+$/.test(alias)) {
    // Image Updater splits at the first '=', so `repo:>=2.0` reads as alias `repo:>`: say how to write it.
    const hint = /[/:.]/.test(alias) ? `; a constraint with '=' (>=, <=) needs an alias before it: name=${entry}` : "";
    throw new AnnotationError(`${PREFIX}image-list: alias '${alias}' may hold only letters, digits, '-' and '_'${hint}`);
  }
  const spec = (eq >= 0 ? entry.slice(eq + 1) : entry).trim();
  const { name, constraint } = splitConstraint(spec);
  let image: ImageRef;
  try {
    image = parseImageRef(name);
  } catch (err) {
    if (err instanceof ImageRefError) throw new AnnotationError(`${PREFIX}image-list: ${err.message}`);
    throw err;
  }
  const key = alias ?? name;
  const option = (o: string): string | undefined => annotations[`${PREFIX}${key}.${o}`] ?? annotations[`${PREFIX}${o}`];
  const rule = ruleOf({ key, constraint, option });
  const pullSecret = pullSecretOf(key, option("pull-secret"));
  const imageSpec = annotations[`${PREFIX}${key}.helm.image-spec`];
  return {
    alias: key, image, ...(constraint === undefined ? {} : { constraint }), rule,
    ...(pullSecret === undefined ? {} : { pullSecret }),
    platforms: (option("platforms") ?? "").split(",").map((p) => p.trim()).filter((p) => p !== ""),
    helm: {
      ...(imageSpec === undefined ? {} : { imageSpec }),
      imageName: annotations[`${PREFIX}${key}.helm.image-name`] ?? "image.name",
      imageTag: annotations[`${PREFIX}${key}.helm.image-tag`] ?? "image.tag",
    },
    kustomizeImageName: annotations[`${PREFIX}${key}.kustomize.image-name`] ?? name,
  };
}

/** `registry:5000/app:~1.2` → name `registry:5000/app`, constraint `~1.2`: the constraint follows the last `:` after the last `/`. */
function splitConstraint(spec: string): { name: string; constraint?: string } {
  const colon = spec.lastIndexOf(":");
  if (colon < 0 || colon < spec.lastIndexOf("/")) return { name: spec };
  const constraint = spec.slice(colon + 1).trim();
  return { name: spec.slice(0, colon), ...(constraint === "" ? {} : { constraint }) };
}

function ruleOf(input: { key: string; constraint: string | undefined; option: (o: string) => string | undefined }): SelectionRule {
  const { key, constraint, option } = input;
  try {
    const allow = parseAllowTags(option("allow-tags"));
    const rule: SelectionRule = {
      strategy: parseStrategy(option("update-strategy")), ...(constraint === undefined ? {} : { constraint }),
      ...(allow === undefined ? {} : { allow }), ignore: parseIgnoreTags(option("ignore-tags")),
    };
    validateRule(rule);
    return rule;
  } catch (err) {
    if (err instanceof SelectionSyntaxError) throw new AnnotationError(`image '${key}': ${err.message}`);
    throw err;
  }
}

/** `pullsecret:<namespace>/<name>`; the other forms Image Updater reads are refused with the reason. */
function pullSecretOf(key: string, value: string | undefined): { namespace: string; name: string } | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  const m = /^pullsecret:([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(text);
  if (m !== null) return { namespace: m[1]!, name: m[2]! };
  const why = /^(env|ext):/.test(text)
    ? "reading the agent's environment or running a program on an annotation's say is refused"
    : /^secret:/.test(text)
      ? "a single field holds no registry name, so the credential could go to any registry"
      : "it is not understood";
  throw new AnnotationError(`${PREFIX}${key}.pull-secret '${text}': ${why}; write pullsecret:<namespace>/<name> naming a kubernetes.io/dockerconfigjson Secret`);
}

function writeBackOf(annotations: Readonly<Record<string, string>>, appPath: string): WriteBack {
  const method = (annotations[`${PREFIX}write-back-method`] ?? "argocd").trim();
  if (method === "argocd") return { method: "argocd" };
  if (method !== "git" && method !== "git:repocreds") {
    const hint = method.startsWith("git:secret:")
      ? "Tether writes with the repository's own credential (a repository Secret with write access): write git"
      : "write git or argocd";
    throw new AnnotationError(`${PREFIX}write-back-method '${method}' is not supported: ${hint}`);
  }
  const { branch, pushBranch } = branchesOf(annotations[`${PREFIX}git-branch`] ?? "");
  const repository = annotations[`${PREFIX}git-repository`]?.trim();
  return {
    method: "git", target: targetOf(annotations[`${PREFIX}write-back-target`] ?? "", appPath), branch,
    ...(pushBranch === undefined ? {} : { pushBranch }), ...(repository ? { repository } : {}),
  };
}

/** `main`, `main:image-updates`, `:image-updates` (the app's own branch as base). */
function branchesOf(value: string): { branch: string; pushBranch?: string } {
  const text = value.trim();
  const colon = text.indexOf(":");
  if (colon < 0) return { branch: text };
  const pushBranch = text.slice(colon + 1).trim();
  if (pushBranch === "") throw new AnnotationError(`${PREFIX}git-branch '${text}': the branch after ':' is empty: write base:target or just the branch`);
  if (pushBranch.includes("{{")) {
    throw new AnnotationError(`${PREFIX}git-branch '${text}': templated branch names are not supported by Tether; name the branch`);
  }
  return { branch: text.slice(0, colon).trim(), pushBranch };
}

/**
 * `kustomization` (the app's path), `kustomization:<dir>` (relative to the app's path, or from the
 * repository root when it starts with `/`), `helmvalues` (values.yaml in the app's path), `helmvalues:<file>`;
 * empty: Argo CD's `.argocd-source-<app>.yaml`.
 */
function targetOf(value: string, appPath: string): WriteTarget {
  const text = value.trim();
  if (text === "") return { kind: "override" };
  const colon = text.indexOf(":");
  const kind = colon < 0 ? text : text.slice(0, colon);
  const arg = colon < 0 ? undefined : text.slice(colon + 1).trim();
  if (kind !== "kustomization" && kind !== "helmvalues") {
    throw new AnnotationError(`${PREFIX}write-back-target '${text}' is not understood: write kustomization, kustomization:<path>, helmvalues or helmvalues:<file>`);
  }
  const fallback = kind === "helmvalues" ? "values.yaml" : ".";
  const path = arg === undefined || arg === "" ? joinPath(appPath, fallback) : arg.startsWith("/") ? arg.slice(1) : joinPath(appPath, arg);
  if (path.split("/").includes("..")) throw new AnnotationError(`${PREFIX}write-back-target '${text}' leaves the repository: use a path inside it`);
  return { kind, path };
}

/** Joins repository-relative paths, dropping `.` segments (so `apps/web` + `./values.yaml` is `apps/web/values.yaml`). */
export function joinPath(...parts: string[]): string {
  const segments = parts.join("/").split("/").filter((s) => s !== "" && s !== ".");
  return segments.length === 0 ? "." : segments.join("/");
}
