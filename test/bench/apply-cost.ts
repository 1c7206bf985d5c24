// What one server-side apply costs the control plane, by what the request carries: the SSA client's plain
// ConfigMap against the agent's (tracking label and annotation, fieldValidation=Strict, the create-only
// resourceVersion). Prints the control plane's CPU per 2000 applies of each variant; asserts nothing.
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { startControlPlane } from "../harness/controlplane.ts";
import { pathWithTools } from "../harness/paths.ts";

process.env.PATH = pathWithTools();
const N = Number(process.env.N ?? 2000);
const dir = await mkdtemp(path.join(os.tmpdir(), "tether-apply-cost-"));
const plane = await startControlPlane({ dir: path.join(dir, "cluster"), ownerPid: process.pid });
const kc = new KubeConfig();
kc.loadFromFile(plane.kubeconfigPath);
const options: https.RequestOptions = {};
await kc.applyToHTTPSOptions(options);
const agent = new https.Agent({ keepAlive: true, maxSockets: 32, ca: options.ca, cert: options.cert, key: options.key });
const server = new URL(kc.getCurrentCluster()!.server);

function cpu(): number {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (comm !== "kube-apiserver" && comm !== "etcd") continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      total += (Number(stat[11]) + Number(stat[12])) / 100;
    } catch { /* gone */ }
  }
  return total;
}
const request = (method: string, p: string, body: unknown, type: string) => new Promise<number>((resolve, reject) => {
  const text = JSON.stringify(body);
  const req = https.request({ host: server.hostname, port: server.port, method, path: p, agent,
    headers: { "content-type": type, "content-length": Buffer.byteLength(text), accept: "application/json" } }, (res) => {
    res.resume();
    res.on("end", () => resolve(res.statusCode!));
  });
  req.on("error", reject);
  req.end(text);
});
async function all(items: readonly (() => Promise<number>)[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < items.length) {
      const status = await items[next++]!();
      if (status >= 300) throw new Error(`HTTP ${status}`);
    }
  }));
}

type Variant = { name: string; query: string; body: (ns: string, i: number) => Record<string, unknown> };
const cm = (ns: string, i: number, meta: Record<string, unknown> = {}) =>
  ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i}`, namespace: ns, ...meta }, data: { VALUE: "0" } });
const tracked = (ns: string, i: number) => ({ labels: { "tether.dev/app": "many-1" }, annotations: { "tether.dev/tracking-id": `many-1:/ConfigMap:${ns}/cm-${i}` } });
const variants: Variant[] = [
  { name: "plain (the SSA client)", query: "fieldManager=bench&force=true", body: (ns, i) => cm(ns, i) },
  { name: "+ fieldValidation=Strict", query: "fieldManager=bench&force=true&fieldValidation=Strict", body: (ns, i) => cm(ns, i) },
  { name: "+ tracking label and annotation", query: "fieldManager=bench&force=true", body: (ns, i) => cm(ns, i, tracked(ns, i)) },
  { name: "+ create-only resourceVersion", query: "fieldManager=bench&force=true", body: (ns, i) => cm(ns, i, { resourceVersion: "9223372036854775807" }) },
  { name: "the agent's (all three)", query: "fieldManager=tether&force=true&fieldValidation=Strict",
    body: (ns, i) => cm(ns, i, { ...tracked(ns, i), resourceVersion: "9223372036854775807" }) },
];
const rounds = Number(process.env.ROUNDS ?? 2);
for (let r = 0; r < rounds; r++) {
  for (const [v, variant] of variants.entries()) {
    const namespaces = Array.from({ length: N / 20 }, (_, n) => `v${v}-r${r}-${n}`);
    await all(namespaces.map((ns) => () => request("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, "application/json")));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const c0 = cpu();
    const t0 = Date.now();
    await all(Array.from({ length: N }, (_, i) => {
      const ns = namespaces[i % namespaces.length]!;
      return () => request("PATCH", `/api/v1/namespaces/${ns}/configmaps/cm-${i}?${variant.query}`, variant.body(ns, i), "application/apply-patch+yaml");
    }));
    const ms = Date.now() - t0;
    console.log(`${variant.name.padEnd(36)} ${(ms / 1000).toFixed(2)} s, control plane ${(cpu() - c0).toFixed(2)} s CPU for ${N} applies`);
  }
}
agent.destroy();
await plane.stop();
