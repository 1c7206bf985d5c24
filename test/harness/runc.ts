// Runs the agent image as a container with runc (Debian's), no Docker engine or kubelet: the image's
// root filesystem mounted read-only, its user, entrypoint and environment from the image config, the
// host's network (the local API server listens on loopback), and the mounts a kubelet would add (the
// ServiceAccount token, emptyDirs as tmpfs).
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { ImageConfig } from "../../tools/image/build.ts";

const run = promisify(execFile);

export interface Mount {
  readonly destination: string;
  /** A host path bind-mounted read-only; without it, an empty tmpfs (an emptyDir). */
  readonly source?: string;
  /** For a tmpfs: its owner, as fsGroup makes an emptyDir writable for the pod's user. */
  readonly owner?: number;
}

export interface ContainerOptions {
  /** The unpacked image (tools/image/build.ts#unpackRootfs); never written to. */
  readonly rootfs: string;
  readonly config: ImageConfig;
  /** Replaces the image's CMD, as a pod's `args` does. */
  readonly args?: readonly string[];
  /** Added to the image's environment. */
  readonly env?: Record<string, string>;
  readonly mounts?: readonly Mount[];
}

export interface Container {
  readonly id: string;
  /** What the container printed so far (stdout and stderr). */
  logs(): string;
  /** The container's first process as the host sees it. */
  pid(): Promise<number>;
  /** Runs a command inside the running container as its user; never throws on a non-zero exit. */
  exec(args: readonly string[]): Promise<{ exitCode: number; output: string }>;
  /** SIGTERM, then SIGKILL after `graceMs`; removes the container. */
  stop(graceMs?: number): Promise<void>;
}

/** The image's USER as uid and gid: numeric only (no /etc/passwd lookup). */
export function userOf(config: ImageConfig): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(config.User ?? "");
  if (!m) throw new Error(`image USER ${config.User ?? "(none)"}: expected a numeric UID[:GID], as a non-root image has`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

/** The OCI runtime config (runc's config.json) for the image. Pure. */
export function runtimeSpec(opts: ContainerOptions & { hostname: string }) {
  const { uid, gid } = userOf(opts.config);
  const env = new Map(opts.config.Env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  for (const [k, v] of Object.entries(opts.env ?? {})) env.set(k, v);
  const noCaps = { bounding: [], effective: [], permitted: [], ambient: [] };
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid, gid },
      args: [...opts.config.Entrypoint ?? [], ...opts.args ?? opts.config.Cmd ?? []],
      env: [...env].map(([k, v]) => `${k}=${v}`),
      cwd: opts.config.WorkingDir ?? "/",
      // As the Deployment's securityContext: capabilities drop ALL, allowPrivilegeEscalation false.
      capabilities: noCaps,
      noNewPrivileges: true,
    },
    root: { path: opts.rootfs, readonly: true },
    hostname: opts.hostname,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      ...(opts.mounts ?? []).map((m) => m.source
        ? { destination: m.destination, type: "bind", source: m.source, options: ["rbind", "ro", "nosuid", "nodev"] }
        : { destination: m.destination, type: "tmpfs", source: "tmpfs",
          options: ["nosuid", "nodev", "mode=1777", ...(m.owner === undefined ? [] : [`uid=${m.owner}`, `gid=${m.owner}`])] }),
    ],
    linux: {
      // No network namespace: the host's network, as a pod with hostNetwork.
      namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

/** Starts the container in the foreground of a runc child process; its output is collected. */
export async function runContainer(opts: ContainerOptions): Promise<Container> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tether-runc-"));
  const id = path.basename(dir);
  const state = path.join(dir, "state");
  await mkdir(state);
  await writeFile(path.join(dir, "config.json"), JSON.stringify(runtimeSpec({ ...opts, hostname: "tether-agent" }), null, 1));
  const child: ChildProcess = spawn("runc", ["--root", state, "run", "--bundle", dir, id], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => { output += d.toString(); });
  child.stderr?.on("data", (d: Buffer) => { output += d.toString(); });
  // A watchdog: should this process die without stopping the container, the container goes too.
  const watchdog = spawn("bash", ["-c", `for i in $(seq 120); do runc --root "$1" state "$2" >/dev/null 2>&1 && break; sleep 1; done; `
    + `while kill -0 ${process.pid} 2>/dev/null && runc --root "$1" state "$2" >/dev/null 2>&1; do sleep 2; done; `
    // Only when the owner died: after a normal stop, runc would recreate the state directory stop() removed.
    + `if ! kill -0 ${process.pid} 2>/dev/null; then runc --root "$1" kill "$2" KILL; sleep 1; runc --root "$1" delete --force "$2"; rm -rf "$3"; fi 2>/dev/null; true`,
  "watchdog", state, id, dir], { detached: true, stdio: "ignore" });
  watchdog.unref();
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => { exited = true; resolve(); }));
  const runc = (...args: string[]) => run("runc", ["--root", state, ...args], { maxBuffer: 16 << 20 });
  return {
    id,
    logs: () => output,
    async pid() {
      for (let i = 0; i < 100 && !exited; i++) {
        try {
          const s = JSON.parse((await runc("state", id)).stdout) as { pid: number; status: string };
          if (s.status === "running") return s.pid;
        } catch { /* not created yet */ }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`container ${id} is not running:\n${output}`);
    },
    async exec(args) {
      try {
        const r = await runc("exec", id, ...args);
        return { exitCode: 0, output: r.stdout + r.stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { exitCode: typeof e.code === "number" ? e.code : 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
      }
    },
    async stop(graceMs = 10_000) {
      if (!exited) {
        await runc("kill", id, "TERM").catch(() => undefined);
        const timer = setTimeout(() => { void runc("kill", id, "KILL").catch(() => undefined); }, graceMs);
        await exit;
        clearTimeout(timer);
      }
      // The watchdog polls `runc state`, which can write under the state directory while it is removed
      // (ENOTEMPTY): it goes first, and the removal retries.
      try {
        if (watchdog.pid !== undefined) process.kill(-watchdog.pid, "SIGKILL");
      } catch { /* already gone */ }
      await runc("delete", "--force", id).catch(() => undefined);
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
}
