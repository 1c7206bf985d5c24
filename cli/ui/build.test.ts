import { existsSync } from "node:fs";
import { cp, mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureUiBuilt } from "./build.ts";

const repo = path.resolve(import.meta.dirname, "..", "..");
const temp: string[] = [];
afterAll(async () => { for (const dir of temp) await rm(dir, { recursive: true, force: true }); });

/** A checkout without dist/: the UI's sources (and the agent's view types it imports) and the installed packages. */
async function freshCheckout(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "tether-ui-build-"));
  temp.push(root);
  for (const part of ["ui", "agent", "package.json"]) await cp(path.join(repo, part), path.join(root, part), { recursive: true });
  await symlink(path.join(repo, "node_modules"), path.join(root, "node_modules"));
  return root;
}

describe("tether ui in a checkout whose web UI was never built", () => {
  it("builds dist/ui with vite before serving, and leaves it alone once built", async () => {
    const root = await freshCheckout();
    const lines: string[] = [];
    expect(await ensureUiBuilt((l) => lines.push(l), path.join(root, "dist", "ui"))).toBe("built");
    expect(existsSync(path.join(root, "dist", "ui", "index.html"))).toBe(true);
    expect(lines.join("\n")).toContain("building it (npm run build:ui)");
    expect(await ensureUiBuilt((l) => lines.push(l), path.join(root, "dist", "ui"))).toBe("present");
  }, 120_000);

  it("does nothing outside a checkout (an installed tether): the UI's 503 says what to do", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "tether-ui-none-"));
    temp.push(dir);
    expect(await ensureUiBuilt(() => undefined, path.join(dir, "dist", "ui"))).toBe("not-a-checkout");
  });
});
