#!/usr/bin/env node
// `tether`: runs the bundle in dist/ (`npm run build`). In a checkout whose bundle is missing or older
// than its sources, builds it first (esbuild, a few seconds); without esbuild, runs the TypeScript
// sources through tsx and says so. TETHER_FROM_SOURCE=1 always runs the sources.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const bundle = fileURLToPath(new URL("../dist/tether.mjs", import.meta.url));
const builder = fileURLToPath(new URL("../tools/bundle.mjs", import.meta.url));

/** The bundle to run, built first when a checkout's sources changed; undefined when it cannot be built. */
async function readyBundle() {
  if (!existsSync(builder)) return existsSync(bundle) ? bundle : undefined;
  const { build, isFresh } = await import(builder);
  if (isFresh()) return bundle;
  try {
    // Only a terminal sees this line: scripts parsing stderr get the command's own output alone.
    await build({ log: (line) => { if (process.stderr.isTTY) console.error(`tether: sources changed; ${line}`); } });
    return bundle;
  } catch (err) {
    console.error(`tether: note: could not build dist/ (${err instanceof Error ? err.message.split("\n")[0] : err}); `
      + "running the TypeScript sources through tsx, which starts slower. Run `npm install` and `npm run build` to fix.");
    return undefined;
  }
}

const target = process.env.TETHER_FROM_SOURCE === "1" ? undefined : await readyBundle();
if (target) {
  await import(target);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../cli/main.ts");
}
