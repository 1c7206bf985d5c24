// Which credential a registry gets. Pure: Secrets in, one credential out. A pull Secret
// (`kubernetes.io/dockerconfigjson`, or the older `.dockercfg`) holds one entry per registry and only the
// entry for the image's registry is used; a repository Secret (Argo CD's `repository` / `repo-creds`,
// `type: helm` or `oci`) is matched as Git credentials are: scheme, host and port equal, its path a
// prefix of `registry/repository` at a `/` boundary.
import { helmRepoAccess, type SecretLike } from "../source/helm-credentials.ts";
import type { RegistryAuth } from "./client.ts";
import { DOCKER_HUB, type ImageRef } from "./reference.ts";

/** A Secret that is not a usable pull Secret: the message names it and the fix. */
export class PullSecretError extends Error {}

/** Names Docker Hub goes by in a docker config's `auths` keys. */
const DOCKER_HUB_NAMES = new Set([DOCKER_HUB, "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);

/** The entry of a pull Secret for the image's registry, or undefined when it has none for it. */
export function dockerConfigAuth(secret: SecretLike & { readonly type?: string }, image: ImageRef, name: string): RegistryAuth | undefined {
  const raw = secret.data?.[".dockerconfigjson"] ?? secret.data?.[".dockercfg"];
  if (raw === undefined) {
    throw new PullSecretError(`Secret ${name} is not a pull Secret: it has no .dockerconfigjson (create it with kubectl create secret docker-registry)`);
  }
  let config: unknown;
  try {
    config = JSON.parse(Buffer.from(raw, "base64").toString("utf8"));
  } catch {
    throw new PullSecretError(`Secret ${name}: .dockerconfigjson is not JSON`);
  }
  const record = (typeof config === "object" && config !== null ? config : {}) as Record<string, unknown>;
  const auths = (secret.data?.[".dockerconfigjson"] !== undefined ? record.auths : record) as Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(auths ?? {})) {
    if (!sameRegistry(registryOfKey(key), image.registry)) continue;
    const entry = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    const pair = credentialsOf(entry);
    if (pair === undefined) throw new PullSecretError(`Secret ${name}: the entry for ${key} has neither auth nor username/password`);
    return { ...pair, secretName: name };
  }
  return undefined;
}

/** The credential of a repository Secret for `registry/repository`, matched as Git credentials are. */
export function repositoryAuth(image: ImageRef, secrets: readonly SecretLike[], namespace: string): RegistryAuth | undefined {
  const access = helmRepoAccess(`https://${image.registry}/${image.repository}`, secrets);
  if (access?.username === undefined || access.password === undefined) return undefined;
  return { username: access.username, password: access.password, secretName: `${namespace}/${access.secretName}` };
}

/** `https://index.docker.io/v1/` → `index.docker.io`, `host:5000` → `host:5000`. */
function registryOfKey(key: string): string {
  return key.trim().replace(/^[a-z]+:\/\//i, "").split("/")[0]!.toLowerCase();
}

function sameRegistry(a: string, b: string): boolean {
  return a === b || (DOCKER_HUB_NAMES.has(a) && DOCKER_HUB_NAMES.has(b));
}

function credentialsOf(entry: Record<string, unknown>): { username: string; password: string } | undefined {
  if (typeof entry.username === "string" && typeof entry.password === "string") return { username: entry.username, password: entry.password };
  if (typeof entry.auth !== "string" || entry.auth === "") return undefined;
  const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
