import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { memoryTree } from "../git/tree.ts";
import { checkLayout, layoutFiles, planInit, projectsApplication } from "./init.ts";
import { addResource, newKustomization, referencesOutside, removeResource } from "./kustomization.ts";
import { agentNamespace, assertName, readApps, repoDir } from "./layout.ts";

const repoFile = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");

describe("names", () => {
  it.each(["hello", "a", "team-a-2", "x".repeat(63)])("accepts %s", (name) => {
    expect(() => assertName("app", name)).not.toThrow();
  });

  it.each([
    ["Hello", /"hello"/],
    ["my_app", /"my-app"/],
    ["-hello", /"hello"/],
    ["x".repeat(64), /at most 63/],
    ["", /not a valid name/],
  ])("refuses %s and suggests a valid one", (name, message) => {
    expect(() => assertName("app", name)).toThrow(message);
  });

  it("takes --path as a directory inside the repository", () => {
    expect(repoDir("./gitops/components/", "--path")).toBe("gitops/components");
    expect(() => repoDir("../elsewhere", "--path")).toThrow(/inside the repository/);
    expect(() => repoDir("/abs", "--path")).toThrow(/inside the repository/);
  });
});

describe("tether repo init", () => {
  it("writes the projects Application exactly as this repository's own components/projects.yaml", () => {
    expect(projectsApplication()).toBe(repoFile("components/projects.yaml"));
  });

  it("lays out an empty repository: components/, projects/default.yaml, .sops.yaml and a README", async () => {
    const plan = await planInit(memoryTree({}), { components: "components" });
    expect(plan.changes.map((c) => c.path).sort()).toEqual([".sops.yaml", "components/README.md", "components/projects.yaml", "projects/default.yaml"]);
    expect(plan.message.split("\n")[0]).toBe("Lay out the GitOps repository");
  });

  it("changes nothing in a repository laid out already", async () => {
    const tree = memoryTree(layoutFiles({ components: "components" }));
    const plan = await planInit(tree, { components: "components" });
    expect(plan.changes).toEqual([]);
    expect(plan.notes).toContain("components/projects.yaml: exists, kept as it is");
  });

  it("adds only what is missing and keeps what the user changed", async () => {
    const tree = memoryTree({ "components/projects.yaml": "# mine\n" + projectsApplication("ops") });
    const plan = await planInit(tree, { components: "components", namespace: "ops" });
    expect(plan.changes.map((c) => c.path)).not.toContain("components/projects.yaml");
    expect(String(plan.changes.find((c) => c.path === "projects/default.yaml")?.content)).toContain("namespace: ops");
  });

  it("uses the age recipient in .sops.yaml when one is given, and comments the rule out otherwise", () => {
    const key = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    expect(layoutFiles({ components: "components", ageRecipient: key })[".sops.yaml"]).toContain(`    age: ${key}\n`);
    expect(layoutFiles({ components: "components" })[".sops.yaml"]).toContain("    # age: age1...");
  });

  it("finds nothing wrong with this repository's own components/ and projects/", async () => {
    const files: Record<string, string> = {};
    for (const f of ["components/projects.yaml", "components/apps/message-app.yaml", "components/apps/guestbook-ui.yaml", "components/platform/platform.yaml",
      "components/apps/message-app/deployment.yaml", "components/apps/guestbook-ui/deployment.yaml", "components/platform/platform/namespace.yaml",
      "projects/apps.yaml", "projects/platform.yaml"]) files[f] = repoFile(f);
    expect(await checkLayout(memoryTree(files), "components")).toEqual([]);
    expect(await agentNamespace(memoryTree(files), "components")).toBe("tether-system");
  });

  it("names each problem of an existing layout with its file and fix, and commits nothing", async () => {
    const tree = memoryTree({
      "components/a/one.yaml": "apiVersion: tether.dev/v1alpha1\nkind: Application\nmetadata: {name: one}\nspec: {project: ghost, source: {path: components/a/one}}\n",
      "components/a/two.yaml": "kind: [\n",
      "components/a/deep/ignored.yaml": "kind: [\n",
    });
    const problems = await checkLayout(tree, "components");
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^components\/a\/two\.yaml:\d+: .*fix the YAML/);
    expect(problems[1]).toContain("names project ghost, which projects/ does not define; run `tether project create ghost`");
    expect(problems[2]).toContain("deploys components/a/one, which does not exist");
    await expect(planInit(tree, { components: "components" })).rejects.toThrow(/3 problem\(s\); nothing was changed/);
  });

  it("reads the Applications the root reads: one and two levels down, not deeper", async () => {
    const app = (name: string) => `apiVersion: tether.dev/v1alpha1\nkind: Application\nmetadata: {name: ${name}}\nspec: {project: p, source: {path: x}}\n`;
    const { apps } = await readApps(memoryTree({ "components/top.yaml": app("top"), "components/p/mid.yaml": app("mid"), "components/p/mid/deep.yaml": app("deep") }), "components");
    expect(apps.map((a) => a.name)).toEqual(["mid", "top"]);
  });
});

describe("kustomization.yaml edits", () => {
  const original = `# Our base. Keep the order: the namespace first.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - namespace.yaml # created first
  - deployment.yaml
images:
  - {name: web, newTag: "1.2"}
`;

  it("appends a resource and keeps every comment, the order and the quoting", () => {
    const edited = addResource(original, "k.yaml", "service.yaml");
    expect(edited).toBe(original.replace("  - deployment.yaml\n", "  - deployment.yaml\n  - service.yaml\n"));
  });

  it("does not add a resource twice", () => {
    expect(addResource(original, "k.yaml", "deployment.yaml")).toBe(original);
  });

  it("removes a resource and keeps the rest as it was", () => {
    expect(removeResource(original, "k.yaml", "deployment.yaml")).toBe(original.replace("  - deployment.yaml\n", ""));
    expect(removeResource(original, "k.yaml", "absent.yaml")).toBe(original);
  });

  it("creates the resources list when there is none", () => {
    const edited = addResource("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n", "k.yaml", "a.yaml");
    expect(parse(edited).resources).toEqual(["a.yaml"]);
  });

  it("refuses a file that is not a Kustomization, or does not parse, naming it", () => {
    expect(() => addResource("kind: Deployment\n", "apps/k.yaml", "a.yaml")).toThrow(/apps\/k\.yaml is a "Deployment", not a Kustomization/);
    expect(() => addResource("resources: [\n", "apps/k.yaml", "a.yaml")).toThrow(/^apps\/k\.yaml: /);
  });

  it("writes new kustomizations that list their resources", () => {
    expect(parse(newKustomization(["a.yaml", "sub/b.yaml"])).resources).toEqual(["a.yaml", "sub/b.yaml"]);
  });

  it("finds the references a copy of the directory would break, but not remote bases", () => {
    const text = newKustomization(["../base", "local.yaml", "https://github.com/org/repo//deploy?ref=v1", "git@github.com:org/repo.git/x"]);
    expect(referencesOutside(text, "k")).toEqual(["../base"]);
  });
});
