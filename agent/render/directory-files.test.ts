// renderFiles (a plain directory read from Git's objects, in memory) against renderDirectory (the same
// files on disk): the same files chosen, in the same order, parsed the same way.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DirectorySource } from "../api/types.ts";
import { renderDirectory, renderFiles } from "./directory.ts";

const cm = (name: string) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
const FILES: Record<string, string> = {
  "b.yaml": `${cm("b")}\n`,
  "a.yml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a2\n`,
  "list.json": JSON.stringify({ apiVersion: "v1", kind: "List", items: [JSON.parse(cm("l1")), JSON.parse(cm("l2"))] }),
  "README.md": "# not a manifest\n",
  ".hidden.yaml": `${cm("hidden")}\n`,
  ".github/workflow.yaml": `${cm("workflow")}\n`,
  "sub/c.yaml": `${cm("c")}\n`,
  "sub/deeper/d.json": cm("d"),
  "sub/.secret/e.yaml": `${cm("e")}\n`,
  "other/f.yaml": `${cm("f")}\n`,
  "other/notes.txt": "not a manifest",
};

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tether-render-files-"));
  for (const [file, text] of Object.entries(FILES)) {
    await mkdir(dirname(join(root, "app", file)), { recursive: true });
    await writeFile(join(root, "app", file), text);
  }
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

const names = (objects: readonly { file: string; manifest: { metadata: { name?: string } } }[]) =>
  objects.map((o) => `${o.file}#${o.manifest.metadata.name ?? ""}`);

describe("renderFiles renders a plain directory as renderDirectory does", () => {
  it.each<[string, DirectorySource | undefined]>([
    ["no directory settings", undefined],
    ["recurse", { recurse: true }],
    ["recurse, include", { recurse: true, include: "sub/*" }],
    ["recurse, include with braces, exclude", { recurse: true, include: "{*.yaml,sub/**}", exclude: "sub/deeper/*" }],
    ["exclude only", { exclude: "b.yaml" }],
  ])("%s", async (_, directory) => {
    const files = Object.entries(FILES).map(([path, text]) => ({ path, text }));
    const onDisk = await renderDirectory({ root, path: "app/", ...(directory ? { directory } : {}) });
    const inMemory = await renderFiles({ path: "app/", files, ...(directory ? { directory } : {}) });
    expect(names(inMemory)).toEqual(names(onDisk));
    expect(inMemory.map((o) => o.manifest)).toEqual(onDisk.map((o) => o.manifest));
    expect(onDisk.length).toBeGreaterThan(0);
  });

  it("names the file of a broken document as the disk render does", async () => {
    const files = [{ path: "bad.yaml", text: "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n" }];
    await mkdir(join(root, "bad"), { recursive: true });
    await writeFile(join(root, "bad", "bad.yaml"), files[0]!.text);
    const onDisk = await renderDirectory({ root, path: "bad" }).then(() => "rendered", (err: Error) => err.message);
    const inMemory = await renderFiles({ path: "bad", files }).then(() => "rendered", (err: Error) => err.message);
    expect(inMemory).toBe(onDisk);
    expect(inMemory).toContain("bad/bad.yaml");
  });
});
