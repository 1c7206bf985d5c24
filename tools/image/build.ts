// The agent image without a Docker engine: runs the Dockerfile's recipe (tools/image/rootfs.sh, the same
// script its `rootfs` stage runs) and packs the two layers as an OCI image layout, with the image
// config (user, environment, entrypoint, command, port) read from the Dockerfile's final stage. One
// recipe, so `docker build .` and this build cannot drift apart.
//
//   npm run image              builds (cached) and prints the OCI layout's path and the manifest digest
//
// The layers are cached outside the repository under ~/.cache/tether/image (TETHER_IMAGE_CACHE moves
// it): the Debian layer by the recipe's hash (cold: minutes of downloads; warm: nothing), the Tether
// layer (node, the pinned tools, dist/) by its contents (a few seconds to tar and hash every time).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { chmod, copyFile, link, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const RECIPE = path.join(root, "tools", "image", "rootfs.sh");
const DOCKERFILE = path.join(root, "Dockerfile");
export const imageCache = process.env.TETHER_IMAGE_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "tether", "image");

/** The image config fields the Dockerfile's final stage sets (OCI image-spec `config`). */
export interface ImageConfig {
  User?: string;
  Env: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  ExposedPorts?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
}

/** What the final stage copies from the `rootfs` stage: the whole root filesystem and nothing else. */
const ROOTFS_COPY = /^COPY\s+--from=rootfs\s+\/rootfs\/?\s+\/$/;

function jsonArray(instruction: string, value: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(`Dockerfile: ${instruction} ${value}: use the JSON form (${instruction} ["node", ...]); the daemonless build reads only that`);
  }
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === "string")) throw new Error(`Dockerfile: ${instruction} must be a JSON array of strings`);
  return parsed;
}

/** `K=V K2="V 2"` as Docker's ENV and LABEL read it (the key=value form only). */
function keyValues(instruction: string, text: string): [string, string][] {
  const pairs: [string, string][] = [];
  const re = /\s*([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|\S*)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text)) !== null) {
    pairs.push([m[1]!, m[2]!.startsWith('"') ? JSON.parse(m[2]!) as string : m[2]!]);
    end = re.lastIndex;
  }
  if (text.slice(end).trim() !== "" || pairs.length === 0) throw new Error(`Dockerfile: ${instruction} ${text}: write it as KEY=VALUE pairs`);
  return pairs;
}

/** One config instruction of the final stage into `config`; anything that would change files fails. */
function applyInstruction(config: ImageConfig, line: string): void {
  const [, instruction = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
  switch (instruction.toUpperCase()) {
    case "USER": config.User = rest; break;
    case "WORKDIR": config.WorkingDir = rest; break;
    case "ENV":
      for (const [k, v] of keyValues("ENV", rest)) config.Env = [...config.Env.filter((e) => !e.startsWith(`${k}=`)), `${k}=${v}`];
      break;
    case "LABEL": config.Labels = { ...config.Labels, ...Object.fromEntries(keyValues("LABEL", rest)) }; break;
    case "EXPOSE":
      for (const port of rest.split(/\s+/)) config.ExposedPorts = { ...config.ExposedPorts, [port.includes("/") ? port : `${port}/tcp`]: {} };
      break;
    case "ENTRYPOINT": config.Entrypoint = jsonArray("ENTRYPOINT", rest); break;
    case "CMD": config.Cmd = jsonArray("CMD", rest); break;
    default:
      throw new Error(`Dockerfile: final stage: ${line}: the daemonless build (tools/image/build.ts) knows only COPY --from=rootfs, USER, ENV, `
        + "EXPOSE, WORKDIR, LABEL, ENTRYPOINT and CMD; put file changes in tools/image/rootfs.sh");
  }
}

/**
 * The config of the Dockerfile's final stage (`FROM scratch`, `COPY --from=rootfs /rootfs/ /`, then only
 * USER, ENV, EXPOSE, WORKDIR, LABEL, ENTRYPOINT and CMD). Anything else there fails, so the Dockerfile
 * cannot grow a step the daemonless build would silently leave out. Pure.
 */
export function finalStageConfig(dockerfile: string): ImageConfig {
  const lines = dockerfile.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  const from = lines.map((l, i) => (/^FROM\s/i.test(l) ? i : -1)).filter((i) => i >= 0).pop();
  if (from === undefined || !/^FROM\s+scratch$/i.test(lines[from]!)) {
    throw new Error("Dockerfile: the final stage must be `FROM scratch` with `COPY --from=rootfs /rootfs/ /` (tools/image/rootfs.sh's root filesystem)");
  }
  const config: ImageConfig = { Env: [] };
  let copied = false;
  for (const line of lines.slice(from + 1)) {
    if (/^COPY\s/i.test(line)) {
      if (!ROOTFS_COPY.test(line) || copied) throw new Error(`Dockerfile: final stage: ${line}: only one \`COPY --from=rootfs /rootfs/ /\`; put files in tools/image/rootfs.sh`);
      copied = true;
    } else {
      applyInstruction(config, line);
    }
  }
  if (!copied) throw new Error("Dockerfile: the final stage must `COPY --from=rootfs /rootfs/ /`");
  return config;
}

/** The `RUN` lines of a named stage, with continuations joined. Pure. */
export function stageRuns(dockerfile: string, stage: string): string[] {
  const lines = dockerfile.replace(/\\\n/g, " ").split("\n").map((l) => l.trim().replace(/\s+/g, " "));
  const start = lines.findIndex((l) => new RegExp(`^FROM\\s.*\\sAS\\s+${stage}$`, "i").test(l));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && /^FROM\s/i.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).filter((l) => /^RUN\s/i.test(l)).map((l) => l.slice(4));
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

export interface Layer {
  readonly tar: string;
  /** sha256:... of the uncompressed tar: both the diff ID and the blob digest (layers are stored uncompressed). */
  readonly digest: string;
  readonly size: number;
}

export interface BuiltImage {
  /** The OCI image layout (index.json, blobs/sha256). */
  readonly layout: string;
  /** `tether:<version>`, as the Deployment that bootstrap writes names it. */
  readonly ref: string;
  readonly manifestDigest: string;
  readonly config: ImageConfig;
  readonly layers: readonly Layer[];
  /** Seconds each step took, for the figures. */
  readonly timings: Record<string, number>;
}

type Log = (line: string) => void;

async function layerOf(tar: string): Promise<Layer> {
  return { tar, digest: `sha256:${await sha256File(tar)}`, size: (await stat(tar)).size };
}

/** The Debian layer, built once per version of the recipe. */
async function debianLayer(log: Log): Promise<Layer> {
  const key = sha256(await readFile(RECIPE)).slice(0, 16);
  const tar = path.join(imageCache, `debian-${key}.tar`);
  if (!existsSync(tar)) {
    log(`Debian layer ${key}: building with mmdebstrap (first time only; downloads the packages) ...`);
    // Ends in .tar: mmdebstrap picks its output format from the name (anything else is a directory).
    const tmp = tar.replace(/\.tar$/, `.${process.pid}.tmp.tar`);
    try {
      await run("bash", [RECIPE, "debian", tmp], { maxBuffer: 64 << 20 });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw new Error(`tools/image/rootfs.sh debian failed: ${(err as { stderr?: string }).stderr?.trim() || String(err)}`, { cause: err });
    }
    await rename(tmp, tar);
  } else {
    log(`Debian layer ${key}: cached`);
  }
  return layerOf(tar);
}

/** Tether's layer: node, the pinned tools and dist/, tarred with fixed owners, modes and times. */
async function tetherLayer(log: Log): Promise<Layer> {
  const staging = await mkdtemp(path.join(imageCache, "staging-"));
  try {
    // The tar's "./" entry is the image's / : 0755, not mkdtemp's 0700.
    await chmod(staging, 0o755);
    await run("bash", [RECIPE, "app", staging, process.execPath, path.join(root, ".tools", "bin"), path.join(root, "dist")], { maxBuffer: 16 << 20 });
    const tmp = path.join(imageCache, `tether-${process.pid}.tar`);
    await run("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "--format=posix",
      "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime", "-C", staging, "-cf", tmp, "."]);
    const layer = await layerOf(tmp);
    const tar = path.join(imageCache, `tether-${layer.digest.slice(7, 23)}.tar`);
    await rename(tmp, tar);
    log(`Tether layer ${layer.digest.slice(7, 19)}: ${(layer.size / 2 ** 20).toFixed(0)} MiB`);
    return { ...layer, tar };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

const STALE_MS = 3_600_000;

/** Removes the entries of `dir` that `unwanted` names and that nothing touched for an hour. */
async function removeStale(dir: string, unwanted: (name: string) => boolean): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!unwanted(name)) continue;
    const file = path.join(dir, name);
    const st = await stat(file).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > STALE_MS) await rm(file, { recursive: true, force: true });
  }
}

async function putBlob(layout: string, digest: string, from: { file?: string; data?: string }): Promise<void> {
  const blob = path.join(layout, "blobs", "sha256", digest.replace(/^sha256:/, ""));
  if (existsSync(blob)) return;
  if (from.data !== undefined) await writeFile(blob, from.data);
  else await link(from.file!, blob).catch(() => copyFile(from.file!, blob));
}

/** Builds the image (cached) into an OCI layout under the cache; returns where and what. */
export async function buildImage(opts: { log?: Log } = {}): Promise<BuiltImage> {
  const log = opts.log ?? ((l: string) => console.error(`[image] ${l}`));
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    try {
      return await work();
    } finally {
      timings[name] = (Date.now() - start) / 1000;
    }
  };
  await mkdir(imageCache, { recursive: true });
  const config = finalStageConfig(await readFile(DOCKERFILE, "utf8"));
  const version = (JSON.parse(await readFile(path.join(root, "package.json"), "utf8")) as { version: string }).version;
  const debian = await timed("debian", () => debianLayer(log));
  const tether = await timed("tether", () => tetherLayer(log));
  const layers = [debian, tether];

  const layout = path.join(imageCache, "oci");
  await mkdir(path.join(layout, "blobs", "sha256"), { recursive: true });
  const imageConfig = JSON.stringify({
    created: "1970-01-01T00:00:00Z", architecture: "amd64", os: "linux", config,
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
    history: [{ created_by: "tools/image/rootfs.sh debian" }, { created_by: "tools/image/rootfs.sh app" }],
  });
  const configDigest = `sha256:${sha256(imageConfig)}`;
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: Buffer.byteLength(imageConfig) },
    layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: l.digest, size: l.size })),
  });
  const manifestDigest = `sha256:${sha256(manifest)}`;
  for (const l of layers) await putBlob(layout, l.digest, { file: l.tar });
  await putBlob(layout, configDigest, { data: imageConfig });
  await putBlob(layout, manifestDigest, { data: manifest });
  const ref = `tether:${version}`;
  await writeFile(path.join(layout, "oci-layout"), `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`);
  await writeFile(path.join(layout, `index.json.${process.pid}`), `${JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{
      mediaType: "application/vnd.oci.image.manifest.v1+json", digest: manifestDigest, size: Buffer.byteLength(manifest),
      // ref.name as skopeo/umoci read it; the full name as containerd's import reads it.
      annotations: { "org.opencontainers.image.ref.name": version, "io.containerd.image.name": `docker.io/library/${ref}` },
    }],
  }, null, 1)}\n`);
  await rename(path.join(layout, `index.json.${process.pid}`), path.join(layout, "index.json"));
  // Earlier images' blobs and Tether layers go once they are an hour old: another checkout sharing the
  // cache may be building or running one right now.
  const keep = new Set([...layers.map((l) => l.digest), configDigest, manifestDigest].map((d) => d.slice(7)));
  const blobs = path.join(layout, "blobs", "sha256");
  await removeStale(blobs, (f) => !keep.has(f));
  await removeStale(imageCache, (f) => f.startsWith("tether-") && f.endsWith(".tar") && path.join(imageCache, f) !== tether.tar);
  return { layout, ref, manifestDigest, config, layers, timings };
}

/** The OCI layout as one tar (what `ctr images import` and `docker load` take). */
export async function exportLayout(image: BuiltImage, out: string): Promise<void> {
  await run("tar", ["--dereference", "-C", image.layout, "-cf", out, "oci-layout", "index.json", "blobs"]);
}

/**
 * The image's root filesystem unpacked (layers in order), cached by manifest digest: what runc runs.
 * Root-owned and shared: the container mounts it read-only.
 */
export async function unpackRootfs(image: BuiltImage): Promise<string> {
  const parent = path.join(imageCache, "rootfs");
  const dir = path.join(parent, image.manifestDigest.slice(7, 23));
  if (!existsSync(dir)) {
    const tmp = `${dir}.${process.pid}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(path.join(tmp, "rootfs"), { recursive: true });
    await chmod(tmp, 0o755);
    for (const layer of image.layers) await run("tar", ["--numeric-owner", "-xpf", layer.tar, "-C", path.join(tmp, "rootfs")]);
    // Mount points the container adds (the service account token), made here because the root is mounted read-only.
    await mkdir(path.join(tmp, "rootfs", "run", "secrets", "kubernetes.io", "serviceaccount"), { recursive: true });
    await rename(tmp, dir).catch(async (err: unknown) => {
      // Another process unpacked the same image first.
      await rm(tmp, { recursive: true, force: true });
      if (!existsSync(dir)) throw err;
    });
  }
  await removeStale(parent, (name) => path.join(parent, name) !== dir);
  return path.join(dir, "rootfs");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const image = await buildImage();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${image.ref} ${image.manifestDigest}\n  OCI layout: ${image.layout}\n  layers: ${image.layers.map((l) => `${(l.size / 2 ** 20).toFixed(0)} MiB`).join(" + ")}`
    + `\n  built in ${seconds}s (${Object.entries(image.timings).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(", ")})`);
}
