import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { renderDirectory } from "./directory.ts";
import { parseSize, withRenderLimits } from "./limits.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tether-limits-"));
  await mkdir(join(root, "apps/big"), { recursive: true });
  const doc = (i: number) => `---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  v: "${"x".repeat(1000)}"\n`;
  await writeFile(join(root, "apps/big/many.yaml"), Array.from({ length: 300 }, (_, i) => doc(i)).join(""));
  await writeFile(join(root, "apps/big/small.yaml"), doc(1000));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const app = { spec: { source: { repoURL: "https://h/r", path: "apps/big" } } } as Application;
const render = withRenderLimits((input: { root: string; app: Application }) => renderDirectory({ root: input.root, path: input.app.spec.source?.path ?? "." }),
  { maxFileBytes: 400_000, maxRenderBytes: 1024 * 1024 });

async function tooLarge(limits: { maxFileBytes: number; maxRenderBytes: number }): Promise<TetherError> {
  const bounded = withRenderLimits((input: { root: string; app: Application }) => renderDirectory({ root: input.root, path: "apps/big" }), limits);
  const err = await bounded({ root, app }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  expect((err as TetherError).reason).toBe("RenderTooLarge");
  return err as TetherError;
}

describe("render limits", () => {
  it("renders what fits", async () => {
    expect(await render({ root, app })).toHaveLength(301);
  });

  it("refuses a file over the per-file limit before reading it, naming the file, its size and the flag", async () => {
    const err = await tooLarge({ maxFileBytes: 100_000, maxRenderBytes: 1024 * 1024 });
    expect(err.message).toMatch(/^apps\/big\/many\.yaml: the file is \d+ bytes, over the limit of 100000 bytes \(agent flag --max-file-size\)/);
    expect(err.object).toBe("apps/big/many.yaml");
  });

  it("refuses a render over the total limit, naming the file that gave the most", async () => {
    const err = await tooLarge({ maxFileBytes: 1024 * 1024, maxRenderBytes: 100_000 });
    expect(err.message).toMatch(/^apps\/big\/many\.yaml: the render of apps\/big produced .* \(agent flag --max-render-size\)/);
  });
});

describe("parseSize", () => {
  it.each([["64Mi", 64 * 1024 * 1024], ["256MiB", 256 * 1024 * 1024], ["1Gi", 1024 ** 3], ["500M", 500e6], ["4096", 4096]])("reads %s", (text, bytes) => {
    expect(parseSize(text, "--max-file-size")).toBe(bytes);
  });
  it.each(["", "lots", "-1Mi", "0"])("refuses '%s' naming the flag", (text) => {
    expect(() => parseSize(text, "--max-file-size")).toThrow(/^--max-file-size .*: expected a size/);
  });
});
