// Pure parts of `tether bootstrap`: flags to BootstrapOptions, the age identity out of a key file, and
// the manifests as --dry-run prints them (Secret values masked).
import { stringify } from "yaml";
import type { Manifest } from "../../agent/api/types.ts";
import { parseRepoUrl } from "../../agent/source/repo-url.ts";
import type { BootstrapOptions } from "../../bootstrap/manifests.ts";
import { UsageError } from "../errors.ts";

export interface BootstrapFlags {
  readonly repo: string;
  readonly path: string;
  readonly revision: string;
  readonly namespace: string;
  readonly image: string;
  readonly pollInterval: string;
  readonly replicas: string;
  readonly clusterRole: string;
  readonly rootName: string;
}

/** The age identities (`AGE-SECRET-KEY-1...` lines) of a key file as age-keygen writes it, comments dropped. */
export function ageIdentities(text: string, file: string): string {
  const keys = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.startsWith("AGE-SECRET-KEY-1"));
  if (keys.length === 0) {
    throw new UsageError(`--age-key-file ${file}: no age identity in it (a line AGE-SECRET-KEY-1...); `
      + "make one with `tether secret keygen --out FILE` or `age-keygen -o FILE`");
  }
  return keys.join("\n");
}

export function bootstrapOptions(flags: BootstrapFlags, ageKey: string | undefined): BootstrapOptions {
  const repoURL = flags.repo.trim();
  if (!/^(https?|ssh|file|git):\/\//i.test(repoURL) && !/^[^/]+@[^/:]+:/.test(repoURL)) {
    throw new UsageError(`--repo ${flags.repo}: expected a Git URL the agent can clone (https://, ssh://, git@host:path or file://)`);
  }
  if (parseRepoUrl(repoURL).inlineCredentials) {
    throw new UsageError(`--repo: the URL carries a password; it would be stored in the Application in plain text. `
      + "Pass the URL without credentials and store them in a repository Secret");
  }
  const replicas = Number(flags.replicas);
  if (!Number.isInteger(replicas) || replicas < 1) throw new UsageError(`--replicas ${flags.replicas}: expected a whole number of agent pods, at least 1`);
  if (flags.path.startsWith("/") || flags.path.split("/").includes("..")) {
    throw new UsageError(`--path ${flags.path}: expected a directory inside the repository, such as components`);
  }
  const namespace = flags.namespace;
  return {
    agent: { namespace, image: flags.image, pollInterval: flags.pollInterval, replicas },
    root: { namespace, name: flags.rootName, repoURL, revision: flags.revision, path: flags.path.replace(/\/+$/, "") || ".", cascade: true },
    clusterRole: flags.clusterRole,
    ...(ageKey ? { ageKey } : {}),
  };
}

/** A Secret as --dry-run shows it: the keys of its data, never the values. */
function masked(obj: Manifest): Manifest {
  const data = (obj as { data?: Record<string, string> }).data;
  if (obj.kind !== "Secret" || !data) return obj;
  return { ...obj, data: Object.fromEntries(Object.keys(data).map((k) => [k, "<masked>"])) };
}

/** The manifests as one multi-document YAML stream, Secret values masked. */
export function dryRunText(objects: readonly Manifest[]): string {
  return objects.map((o) => `---\n${stringify(masked(o), { lineWidth: 0 })}`).join("");
}
