// Image references as Docker reads them: `[registry[:port]/]repository[:tag][@digest]`. A first path
// segment is a registry when it holds a `.` or a `:` or is `localhost`; otherwise the image is on Docker Hub,
// whose API lives at registry-1.docker.io and whose one-word repositories are under `library/`.

/** An image reference taken apart. */
export interface ImageRef {
  /** The registry as written (`docker.io` for Docker Hub), with its port when written. */
  readonly registry: string;
  /** The repository path inside the registry (`library/nginx` for `nginx`). */
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:…` */
  readonly digest?: string;
}

/** Docker Hub's name in references and the host its API answers on. */
export const DOCKER_HUB = "docker.io";
const DOCKER_HUB_API = "registry-1.docker.io";

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Thrown for a reference Docker would refuse; the message says which part is wrong. */
export class ImageRefError extends Error {}

/** Parses `text`; throws {@link ImageRefError} naming the part that is wrong. */
export function parseImageRef(text: string): ImageRef {
  const raw = text.trim();
  if (raw === "") throw new ImageRefError("an image reference is empty");
  let rest = raw;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ImageRefError(`'${raw}' has an invalid digest '${digest}' (expected sha256:<hex>)`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageRefError(`'${raw}' has an invalid tag '${tag}'`);
  }
  const slash = rest.indexOf("/");
  const first = slash < 0 ? "" : rest.slice(0, slash);
  const hasRegistry = first !== "" && (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = hasRegistry ? first.toLowerCase() : DOCKER_HUB;
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
  if (registry === DOCKER_HUB || registry === "index.docker.io") {
    if (!repository.includes("/")) repository = `library/${repository}`;
  }
  if (!REPOSITORY.test(repository)) {
    throw new ImageRefError(`'${raw}' has an invalid repository name '${repository}' (lower-case letters, digits, '.', '_', '-' and '/')`);
  }
  return { registry: registry === "index.docker.io" ? DOCKER_HUB : registry, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** The host (and port) the registry's HTTP API answers on. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** `registry/repository` as Docker prints it: Docker Hub's `library/` and `docker.io/` left out. */
export function imageName(ref: Pick<ImageRef, "registry" | "repository">): string {
  if (ref.registry !== DOCKER_HUB) return `${ref.registry}/${ref.repository}`;
  return ref.repository.startsWith("library/") ? ref.repository.slice("library/".length) : ref.repository;
}

/** The reference as text: name, then `:tag`, then `@digest` when present. */
export function formatImageRef(ref: ImageRef): string {
  return `${imageName(ref)}${ref.tag === undefined ? "" : `:${ref.tag}`}${ref.digest === undefined ? "" : `@${ref.digest}`}`;
}

/** Whether a registry host is on this machine (`localhost`, 127.0.0.0/8, `::1`): Docker talks plain HTTP to those. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith("[") ? registry.slice(1, registry.indexOf("]")) : registry.split(":")[0] ?? "";
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
