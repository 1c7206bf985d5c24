// One pipeline, one boundary: no module of the agent or the CLI reaches a renderer, the build stage or
// the impersonation rule around controller/pipeline.ts. A new path that needs an app's objects (a
// dry-run, a preview, a promotion) must call `desiredState`, and so inherits every guard added there.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { forbiddenImports } from "./pipeline-imports.ts";

const root = path.resolve(import.meta.dirname, "..", "..");

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...await sources(rel));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) out.push(rel);
  }
  return out;
}

describe("the one pipeline", () => {
  it("is the only caller of the renderers, the build stage and the impersonation rule in agent/ and cli/", async () => {
    const found: string[] = [];
    for (const file of [...await sources("agent"), ...await sources("cli")]) {
      found.push(...forbiddenImports(file, await readFile(path.join(root, file), "utf8")));
    }
    expect(found).toEqual([]);
  });

  it.each([
    ["a CLI command rendering an app itself", "cli/x/y.ts", 'import { renderSources } from "../../agent/render/sources.ts";', ["renderSources"]],
    ["a UI route building an app itself", "agent/ui/x.ts", 'import { build, clientPipelineDeps } from "../controller/build.ts";', ["build"]],
    ["a module choosing the identity itself", "agent/apply/x.ts", 'import {\n  impersonationFor,\n} from "../policy/impersonation.ts";', ["impersonationFor"]],
    ["the render barrel", "agent/ui/x.ts", 'import { renderApplication as r } from "../render/index.ts";', ["renderApplication"]],
    ["a type-only import", "agent/ui/x.ts", 'import type { RenderFn } from "../controller/build.ts";', []],
    ["the pipeline itself", "agent/controller/pipeline.ts", 'import { renderApplication } from "../render/application.ts";', []],
    ["the render stage's own modules", "agent/render/sources.ts", 'import { renderApplication } from "./application.ts";', []],
  ])("%s", (_what, file, text, names) => {
    expect(forbiddenImports(file, text).map((f) => f.split(": ")[1])).toEqual(names);
  });
});
