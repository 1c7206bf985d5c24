// The pipeline's load stage, without a cluster: what every path (UI diff, app diff, deletion) refuses alike.
import { describe, expect, it } from "vitest";
import { defaultProject } from "../api/install.ts";
import type { Application } from "../api/types.ts";
import { appContext } from "./pipeline.ts";

const app = (repoURL: string, project = "default"): Application => ({
  apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "web", namespace: "tether-system" },
  spec: { project, source: { repoURL, path: "web" }, destination: { server: "https://kubernetes.default.svc", namespace: "web" } },
});
const deps = (allowLocalRepos: boolean) => ({ allowLocalRepos, project: (name: string) => Promise.resolve(name === "default" ? defaultProject() : undefined) });

describe("the pipeline's load stage", () => {
  it.each([
    ["a file:// repository", "file:///var/cache/tether/mirrors/other.git", false, /on this machine's own disk, and local repositories are refused.*--allow-local-repos/],
    ["a plain path", "/var/cache/tether/mirrors/other.git", false, /local repositories are refused/],
    ["a file:// repository with --allow-local-repos", "file:///srv/repo", true, undefined],
    ["an https repository", "https://git.example.com/team/repo.git", false, undefined],
  ])("%s", async (_what, repoURL, allowLocalRepos, refused) => {
    const loaded = appContext(app(repoURL), deps(allowLocalRepos));
    if (refused) await expect(loaded).rejects.toThrow(refused);
    else await expect(loaded).resolves.toMatchObject({ project: { metadata: { name: "default" } } });
  });

  it("names a project that does not exist", async () => {
    await expect(appContext(app("https://git.example.com/r.git", "nope"), deps(false))).rejects.toThrow(/project "nope" does not exist/);
  });
});
