// Argo CD's sync options, read once: an object's `tether.dev/sync-options` (or
// `argocd.argoproj.io/sync-options`) annotation, then the Application's `spec.syncPolicy.syncOptions`,
// then the default. Pure; the applier, prune and the status read the typed result.
import { SYNC_OPTIONS_ANNOTATIONS, type Manifest } from "../api/types.ts";

/** How an object is written to the API server. */
export type WriteMethod = "server-side" | "client-side" | "replace";

/** `PrunePropagationPolicy`, spelt as the API server's DeleteOptions spell it. */
export type Propagation = "Foreground" | "Background" | "Orphan";

/** The options that may be set per object (annotation) or for every object (Application). */
export interface ObjectOptions {
  /** `Prune=false`: never deleted by prune, even when it leaves Git; the app shows it OutOfSync. */
  readonly prune: boolean;
  /** `PruneLast=true`: deleted after every other stale object. */
  readonly pruneLast: boolean;
  /** `Delete=false` (or Helm's `helm.sh/resource-policy: keep`): never deleted, by prune nor by cascade. */
  readonly delete: boolean;
  /**
   * `Replace=true` → replace (PUT, or create); `ServerSideApply=false` or `Validate=false` → client-side
   * apply; else server-side apply. (The API server refuses a server-side apply of a field its schema
   * lacks whatever fieldValidation says, so an object that asks not to be validated is applied as
   * `kubectl apply --validate=false` applies it.)
   */
  readonly method: WriteMethod;
  /** `Force=true`: an object the server will not update in place is deleted and created again. */
  readonly force: boolean;
  /** `Validate=false`: unknown fields are dropped (fieldValidation=Ignore) instead of refused (Strict). */
  readonly validate: boolean;
}

/** The options that only mean something for the whole Application. */
export interface AppOptions {
  readonly propagation: Propagation;
  /** `CreateNamespace=true`: the destination namespace is created, with `managedNamespaceMetadata`. */
  readonly createNamespace: boolean;
  /** `RespectIgnoreDifferences=true`: fields `spec.ignoreDifferences` ignores keep their live value on sync. */
  readonly respectIgnoreDifferences: boolean;
  /** `FailOnSharedResource=true`: a sync that meets an object another Application tracks fails, applying nothing. */
  readonly failOnSharedResource: boolean;
}

/** Every option Tether knows, with the values it accepts (lower-cased). */
const KNOWN: Readonly<Record<string, readonly string[]>> = {
  Prune: ["true", "false"],
  PruneLast: ["true", "false"],
  Delete: ["true", "false"],
  Replace: ["true", "false"],
  Force: ["true", "false"],
  Validate: ["true", "false"],
  ServerSideApply: ["true", "false"],
  // Tether writes only what differs on every sync: =true states its behaviour; =false is not offered.
  ApplyOutOfSyncOnly: ["true"],
  PrunePropagationPolicy: ["foreground", "background", "orphan"],
  CreateNamespace: ["true", "false"],
  RespectIgnoreDifferences: ["true", "false"],
  // Tether never takes over an object another Application tracks; =true also fails the sync that meets one.
  FailOnSharedResource: ["true", "false"],
};

/** Options Argo CD has that Tether does not implement: named in the condition with the reason. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  "Prune=confirm": "pruning with confirmation is not implemented; use Prune=false and prune by hand",
  "Delete=confirm": "deletion with confirmation is not implemented; use Delete=false",
  SkipDryRunOnMissingResource: "a custom resource whose CRD is in the same application is handled without it; one whose CRD is nowhere is refused",
  ClientSideApplyMigration: "Tether applies server-side with field manager tether from the first sync; there is nothing to migrate",
};

/** `Prune=false, PruneLast=true` as a map of name → value; later entries win. */
function parse(options: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of options) {
    const option = raw.trim();
    if (option === "") continue;
    const eq = option.indexOf("=");
    out.set(eq < 0 ? option : option.slice(0, eq).trim(), eq < 0 ? "" : option.slice(eq + 1).trim());
  }
  return out;
}

function annotationOf(obj: Manifest | undefined): string | undefined {
  for (const name of SYNC_OPTIONS_ANNOTATIONS) {
    const value = obj?.metadata.annotations?.[name];
    if (value !== undefined) return value;
  }
  return undefined;
}

/** The sync options an object's annotation sets (`Prune=false,PruneLast=true`), as a set of `Name=value`. */
export function syncOptionsOf(obj: Manifest | undefined): ReadonlySet<string> {
  return new Set((annotationOf(obj) ?? "").split(",").map((o) => o.trim()).filter(Boolean));
}

/** A lookup where the object's own option wins over the Application's (as Argo CD documents). */
function lookup(obj: Manifest | undefined, appOptions: readonly string[]): (name: string) => string | undefined {
  const own = parse(syncOptionsOf(obj));
  const app = parse(appOptions);
  return (name) => own.get(name) ?? app.get(name);
}

/** An object's options, where the object's own annotation wins over the Application's syncOptions. */
export function optionsOf(obj: Manifest | undefined, appOptions: readonly string[] = []): ObjectOptions {
  const get = lookup(obj, appOptions);
  const is = (name: string, value: "true" | "false") => get(name)?.toLowerCase() === value;
  const keep = obj?.metadata.annotations?.["helm.sh/resource-policy"] === "keep";
  return {
    prune: !is("Prune", "false"),
    pruneLast: is("PruneLast", "true"),
    delete: !is("Delete", "false") && !keep,
    // Replace wins over ServerSideApply, as in Argo CD.
    method: is("Replace", "true") ? "replace" : is("ServerSideApply", "false") || is("Validate", "false") ? "client-side" : "server-side",
    force: is("Force", "true"),
    validate: !is("Validate", "false"),
  };
}

/** The Application-wide options of `spec.syncPolicy.syncOptions`. */
export function appOptionsOf(appOptions: readonly string[] = []): AppOptions {
  const get = lookup(undefined, appOptions);
  const is = (name: string) => get(name)?.toLowerCase() === "true";
  const policy = get("PrunePropagationPolicy")?.toLowerCase();
  return {
    propagation: policy === "foreground" ? "Foreground" : policy === "orphan" ? "Orphan" : "Background",
    createNamespace: is("CreateNamespace"),
    respectIgnoreDifferences: is("RespectIgnoreDifferences"),
    failOnSharedResource: is("FailOnSharedResource"),
  };
}

/**
 * What is wrong with a list of sync options, one message per option: an unknown name, a value the
 * option does not take, or an Argo CD option Tether does not implement. Such options are ignored.
 */
export function invalidOptions(options: Iterable<string>): string[] {
  const out: string[] = [];
  for (const raw of options) {
    const option = raw.trim();
    if (option === "") continue;
    const eq = option.indexOf("=");
    const name = eq < 0 ? option : option.slice(0, eq).trim();
    const value = eq < 0 ? "" : option.slice(eq + 1).trim();
    const unsupported = UNSUPPORTED[`${name}=${value}`] ?? (KNOWN[name] === undefined ? UNSUPPORTED[name] : undefined);
    if (unsupported !== undefined) out.push(`"${option}" is not supported: ${unsupported}`);
    else if (KNOWN[name] === undefined) out.push(`"${option}" is not a sync option (known: ${Object.keys(KNOWN).join(", ")})`);
    else if (!KNOWN[name].includes(value.toLowerCase())) out.push(`"${option}": ${name} takes ${KNOWN[name].join(" or ")}`);
  }
  return out;
}

/** The options an object's annotation sets that are wrong (see {@link invalidOptions}). */
export function invalidObjectOptions(obj: Manifest): string[] {
  return invalidOptions(syncOptionsOf(obj));
}
