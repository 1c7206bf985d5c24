import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLabels, resolveSource } from "./create.ts";

describe("--label", () => {
  it("reads key=value pairs, prefixed keys included", () => {
    expect(parseLabels(["team=payments", "app.kubernetes.io/part-of=shop", "empty="])).toEqual({ team: "payments", "app.kubernetes.io/part-of": "shop", empty: "" });
  });

  it.each(["team", "=x", "team=a b", "Team Name=x"])("refuses %s", (value) => {
    expect(() => parseLabels([value])).toThrow(/expected key=value/);
  });
});

describe("what --app names", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "tether-spec-test-"));
    await mkdir(path.join(dir, "clone/apps/web"), { recursive: true });
    await mkdir(path.join(dir, "elsewhere/hello"), { recursive: true });
    await writeFile(path.join(dir, "elsewhere/hello/cm.yaml"), "kind: ConfigMap\n");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("a path inside the user's clone is a path in the repository, relative to where the command runs", async () => {
    const local = { display: "x", mode: "local" as const, location: path.join(dir, "clone") };
    expect(await resolveSource("web", local, undefined, path.join(dir, "clone/apps"))).toEqual({ kind: "path", spec: "web", repoPath: "apps/web", uncommitted: true });
    await expect(resolveSource(".", local, undefined, path.join(dir, "clone"))).rejects.toThrow(/is the repository itself/);
  });

  it("a relative path elsewhere may be in the repository or on disk: the plan decides, preferring the repository", async () => {
    const remote = { display: "x", mode: "remote" as const, location: "https://git.example.com/gitops.git" };
    const source = await resolveSource("hello", remote, undefined, path.join(dir, "elsewhere"));
    expect(source).toMatchObject({ kind: "path", spec: "hello", repoPath: "hello", local: { files: [{ path: "cm.yaml" }] } });
    expect(await resolveSource(path.join(dir, "nope"), remote, undefined, dir)).toEqual({ kind: "path", spec: path.join(dir, "nope") });
  });

  it("refuses --revision that disagrees with ?ref=", async () => {
    const remote = { display: "x", mode: "remote" as const, location: "https://git.example.com/gitops.git" };
    await expect(resolveSource("https://github.com/org/repo/x?ref=v1", remote, "v2")).rejects.toThrow(/--revision v2 and \?ref=v1 disagree/);
  });
});
