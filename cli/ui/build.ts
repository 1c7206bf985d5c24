// `tether ui` in a checkout whose web UI was never built: builds it (vite, a few seconds), as
// bin/tether.mjs builds the CLI bundle, instead of serving a 503 that names the command to run.
import { existsSync } from "node:fs";
import path from "node:path";
import { argv, runTool } from "../../agent/exec.ts";
import { defaultAssetsDir } from "../../agent/ui/assets.ts";

/** What was done: nothing (built already, or not a checkout: the UI's 503 then says what to do), or a build. */
export type UiBuild = "present" | "not-a-checkout" | "built";

/** Builds dist/ui when it is missing and this `tether` runs from a checkout with vite installed. */
export async function ensureUiBuilt(log: (line: string) => void, dir = defaultAssetsDir()): Promise<UiBuild> {
  if (existsSync(path.join(dir, "index.html"))) return "present";
  // dist/ui of a checkout: the checkout holds ui/vite.config.ts and node_modules/vite.
  const root = path.dirname(path.dirname(dir));
  const config = path.join(root, "ui", "vite.config.ts");
  const vite = path.join(root, "node_modules", "vite", "bin", "vite.js");
  if (path.basename(dir) !== "ui" || !existsSync(config) || !existsSync(vite)) return "not-a-checkout";
  log("tether ui: the web UI is not built in this checkout; building it (npm run build:ui)");
  const result = await runTool(process.execPath, argv({ options: [vite, "build", `--config=${config}`] }), { cwd: root, reject: false, timeout: 300_000 });
  if (result.exitCode !== 0 || !existsSync(path.join(dir, "index.html"))) {
    throw new Error(`building the web UI failed (exit ${result.exitCode ?? "?"}): ${(result.stderr || result.stdout).split("\n").slice(-5).join("\n")}\n`
      + "run `npm run build:ui` in the checkout to see why");
  }
  return "built";
}
