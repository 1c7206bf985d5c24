import { mkdir, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoToolsDir } from "./tools.ts";

describe("finding the pinned tools", () => {
  it("finds the checkout's .tools/bin from the sources (cli/) and from the bundle (dist/chunks/)", async () => {
    const checkout = await mkdtemp(path.join(os.tmpdir(), "tether-tools-"));
    await mkdir(path.join(checkout, ".tools", "bin"), { recursive: true });
    await mkdir(path.join(checkout, "dist", "chunks"), { recursive: true });
    const expected = path.join(checkout, ".tools", "bin");
    expect(repoToolsDir(path.join(checkout, "cli"))).toBe(expected);
    expect(repoToolsDir(path.join(checkout, "dist", "chunks"))).toBe(expected);
  });

  it("finds none for an install without a checkout around it (the image puts the tools on PATH)", async () => {
    const installed = await mkdtemp(path.join(os.tmpdir(), "tether-installed-"));
    await mkdir(path.join(installed, "app", "dist", "chunks"), { recursive: true });
    expect(repoToolsDir(path.join(installed, "app", "dist", "chunks"))).toBeUndefined();
  });
});
