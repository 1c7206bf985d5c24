// Real chart repositories for tests: charts made by `helm package`, indexed by `helm repo index`,
// served from 127.0.0.1 by a static HTTP server the test starts (optionally behind Basic auth), and
// the distribution registry (tools/registry) on 127.0.0.1 with charts pushed by `helm push`.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, normalize } from "node:path";
import { execa } from "execa";
import { stringify } from "yaml";
import { toolPath } from "../harness/paths.ts";

/** A chart to write: Chart.yaml fields, templates, values. */
export interface ChartSpec {
  readonly name: string;
  readonly version: string;
  /** `templates/<file>` -> content. Default: one ConfigMap named after the release, with `.Values.greeting`. */
  readonly templates?: Record<string, string>;
  readonly values?: Record<string, unknown>;
  readonly dependencies?: readonly { name: string; version: string; repository: string }[];
}

export const CONFIGMAP_TEMPLATE = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
data:
  greeting: {{ .Values.greeting | quote }}
  version: {{ .Chart.Version | quote }}
`;

/** Writes the chart's directory under `parent` and returns it. */
export async function writeChart(parent: string, chart: ChartSpec): Promise<string> {
  const dir = join(parent, chart.name);
  const files: Record<string, string> = {
    "Chart.yaml": stringify({ apiVersion: "v2", name: chart.name, version: chart.version, ...(chart.dependencies ? { dependencies: chart.dependencies } : {}) }),
    "values.yaml": stringify(chart.values ?? { greeting: "hello" }),
  };
  for (const [file, content] of Object.entries(chart.templates ?? { "configmap.yaml": CONFIGMAP_TEMPLATE })) files[`templates/${file}`] = content;
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), content);
  }
  return dir;
}

/** Runs the real helm with a private HOME, so no repository or registry login of the machine is used. */
export async function helm(args: readonly string[], home: string): Promise<string> {
  const env = { HOME: home, HELM_CACHE_HOME: join(home, "cache"), HELM_CONFIG_HOME: join(home, "config"), HELM_DATA_HOME: join(home, "data"), PATH: process.env.PATH ?? "" };
  const result = await execa(toolPath("helm"), args, { env, extendEnv: false, cwd: home });
  return result.stdout;
}

/** A chart repository directory: `.tgz` files and their `index.yaml`. */
export interface ChartRepoDir {
  readonly dir: string;
  /** Packages `chart` into the repository and re-indexes it for `url`. */
  add(chart: ChartSpec): Promise<void>;
  /** Packages a chart directory (e.g. one with dependencies) into the repository and re-indexes it. */
  addDir(chartDir: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function chartRepoDir(): Promise<ChartRepoDir> {
  const root = await mkdtemp(join(tmpdir(), "tether-chartrepo-"));
  const dir = join(root, "repo");
  const home = join(root, "home");
  const sources = join(root, "src");
  await Promise.all([mkdir(dir), mkdir(home), mkdir(sources)]);
  const addDir = async (chartDir: string) => {
    await helm(["package", chartDir, "--destination", dir], home);
    await helm(["repo", "index", dir], home);
  };
  return {
    dir,
    add: async (chart) => addDir(await writeChart(join(sources, `${chart.name}-${chart.version}`), chart)),
    addDir,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** A static HTTP server over one directory on 127.0.0.1. */
export interface StaticServer {
  readonly url: string;
  /** Paths requested, in order: what a test checks to see whether the network was used. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Serves `dir`; with `auth`, every request needs that Basic username and password (else 401). */
export async function serveDir(dir: string, auth?: { username: string; password: string }): Promise<StaticServer> {
  const requests: string[] = [];
  const expected = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` : undefined;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(path);
    if (expected !== undefined && req.headers.authorization !== expected) {
      res.writeHead(401, { "www-authenticate": "Basic realm=charts" }).end();
      return;
    }
    const file = normalize(join(dir, path));
    if (!file.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then((body) => res.writeHead(200).end(body), () => res.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A running distribution registry, plain HTTP on 127.0.0.1. */
export interface Registry {
  /** `127.0.0.1:PORT` */
  readonly host: string;
  /** Pushes a chart (packaged from `chart`) to `oci://host/<path>`. */
  push(chart: ChartSpec, path: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startRegistry(): Promise<Registry> {
  const root = await mkdtemp(join(tmpdir(), "tether-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(root, "config.yml");
  await writeFile(config, stringify({
    version: 0.1, log: { level: "error", accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(root, "data") } }, http: { addr: host },
  }));
  const child: ChildProcess = spawn(toolPath("registry"), ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  await waitFor(`http://${host}/v2/`, () => stderr);
  const home = join(root, "home");
  const sources = join(root, "src");
  await Promise.all([mkdir(home), mkdir(sources)]);
  return {
    host,
    async push(chart, path) {
      const dir = await writeChart(join(sources, `${chart.name}-${chart.version}`), chart);
      await helm(["package", dir, "--destination", sources], home);
      await helm(["push", join(sources, `${chart.name}-${chart.version}.tgz`), `oci://${host}/${path}`, "--plain-http"], home);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address !== null ? address.port : 0;
}

async function waitFor(url: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the registry did not answer ${url} within 20 s: ${stderr()}`);
}
