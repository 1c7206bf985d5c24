import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { memoryTree } from "../git/tree.ts";
import { layoutFiles } from "../repo/init.ts";
import { appProject, planProject, planProjectDelete, projectYaml } from "./project.ts";

const laidOut = layoutFiles({ components: "components", namespace: "ops" });

describe("tether project create", () => {
  it("writes an AppProject in the style of this repository's projects/", () => {
    const project = appProject({ name: "apps", namespace: "tether-system", components: "components", destNamespaces: ["message-app", "guestbook-ui"],
      description: "Product applications; each in a namespace of its own, no cluster-scoped kinds but Namespace." });
    expect(projectYaml(project)).toBe(readFileSync(new URL("../../projects/apps.yaml", import.meta.url), "utf8"));
  });

  it("allows every namespace on the local cluster and any repository by default", async () => {
    const plan = await planProject(memoryTree(laidOut), { name: "team-a", components: "components" });
    expect(plan.changes.map((c) => c.path)).toEqual(["projects/team-a.yaml"]);
    expect(plan.message.split("\n")[0]).toBe("Add project team-a");
    const written = parse(String(plan.changes[0]!.content));
    expect(written.metadata).toEqual({ name: "team-a", namespace: "ops" });
    expect(written.spec).toEqual({
      sourceRepos: ["*"], destinations: [{ server: "https://kubernetes.default.svc", namespace: "*" }],
      // The key `tether secret` encrypts for; --decryption-key names the project's own.
      decryptionKeys: ["tether-sops"],
      clusterResourceWhitelist: [{ group: "", kind: "Namespace" }],
    });
    expect(plan.notes).toEqual([]);
  });

  it("allows each --dest-server with each --dest-namespace", () => {
    const project = appProject({ name: "p", namespace: "n", components: "c", destServers: ["https://a", "https://b"], destNamespaces: ["x", "y-*"] });
    expect(project.spec.destinations).toEqual([
      { server: "https://a", namespace: "x" }, { server: "https://a", namespace: "y-*" },
      { server: "https://b", namespace: "x" }, { server: "https://b", namespace: "y-*" },
    ]);
  });

  it("refuses a name that is taken, including default", async () => {
    const tree = memoryTree({ ...laidOut, "projects/team-a.yaml": projectYaml(appProject({ name: "team-a", namespace: "ops", components: "components" })) });
    await expect(planProject(tree, { name: "team-a", components: "components" })).rejects.toThrow(/project team-a already exists \(projects\/team-a\.yaml\)/);
    await expect(planProject(tree, { name: "default", components: "components" })).rejects.toThrow(/`tether install` creates it/);
  });

  it.each([
    [{ name: "Team_A" }, /not a valid name/],
    [{ name: "t", destNamespaces: ["Bad NS"] }, /--dest-namespace Bad NS/],
    [{ name: "t", destServers: ["kubernetes"] }, /--dest-server kubernetes: expected the API server URL/],
    [{ name: "t", sourceRepos: ["https://me:secret@git.example.com/x"] }, /without credentials/],
  ])("refuses bad input %j", async (opts, message) => {
    await expect(planProject(memoryTree(laidOut), { components: "components", ...opts })).rejects.toThrow(message);
  });

  it("warns when nothing in components/ applies projects/", async () => {
    const plan = await planProject(memoryTree({}), { name: "team-a", components: "components" });
    expect(plan.notes?.[0]).toMatch(/no Application in components\/ applies projects\/.*tether repo init/);
    expect(String(plan.changes[0]!.content)).toContain("namespace: tether-system");
  });
});

describe("tether project delete", () => {
  const withTeam = (apps: Record<string, string> = {}) => memoryTree({
    ...laidOut, "projects/team-a.yaml": projectYaml(appProject({ name: "team-a", namespace: "ops", components: "components" })), ...apps,
  });
  const app = "apiVersion: tether.dev/v1alpha1\nkind: Application\nmetadata:\n  name: web\nspec:\n  project: team-a\n  source:\n    path: components/team-a/web\n  destination:\n    namespace: web\n";

  it("removes projects/NAME.yaml when no app uses it", async () => {
    const plan = await planProjectDelete(withTeam(), { name: "team-a", components: "components" });
    expect(plan.changes).toEqual([{ path: "projects/team-a.yaml", content: null }]);
  });

  it("refuses while an app uses it, naming the app (exit 5)", async () => {
    await expect(planProjectDelete(withTeam({ "components/team-a/web.yaml": app }), { name: "team-a", components: "components" }))
      .rejects.toMatchObject({ exitCode: 5, message: expect.stringContaining("project team-a is used by web (components/team-a/web.yaml)") });
  });

  it("refuses the default project and names the known ones for an unknown one", async () => {
    await expect(planProjectDelete(withTeam(), { name: "default", components: "components" })).rejects.toMatchObject({ exitCode: 2 });
    await expect(planProjectDelete(withTeam(), { name: "team-b", components: "components" }))
      .rejects.toMatchObject({ exitCode: 3, message: expect.stringContaining("known: ") });
  });
});
