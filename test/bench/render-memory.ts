// Peak memory of rendering one large manifest file: `npx tsx test/bench/render-memory.ts [MB]`.
// Prints the file size, the objects rendered and the process' peak RSS; exits 1 above the target
// (512 MiB, issue 13: the agent's Deployment has a 1 GiB limit and must not be OOM-killed by one app).
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderDirectory } from "../../agent/render/directory.ts";

const TARGET_MIB = 512;
const megabytes = Number(process.argv[2] ?? 50);

function configMap(i: number, payload: string): string {
  return `---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  labels:\n    app: big\ndata:\n  a: "${payload}"\n  b: |\n    ${payload}\n`;
}

const dir = await mkdtemp(join(tmpdir(), "tether-render-bench-"));
try {
  await mkdir(join(dir, "big"));
  const payload = "x".repeat(2000);
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < megabytes * 1024 * 1024; i++) {
    const doc = configMap(i, payload);
    parts.push(doc);
    size += doc.length;
  }
  await writeFile(join(dir, "big", "all.yaml"), parts.join(""));
  parts.length = 0;
  const started = Date.now();
  const objects = await renderDirectory({ root: dir, path: "big" });
  const seconds = (Date.now() - started) / 1000;
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  console.log(`file ${(size / 1024 / 1024).toFixed(1)} MiB, ${objects.length} objects, ${seconds.toFixed(1)} s, peak RSS ${peakMiB.toFixed(0)} MiB (target < ${TARGET_MIB} MiB)`);
  process.exitCode = peakMiB < TARGET_MIB ? 0 : 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
