import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { memoryTree, withChanges, type FileChange, type Plan } from "../git/tree.ts";
import { layoutFiles } from "../repo/init.ts";
import { appProject, projectYaml } from "../project/project.ts";
import { applicationYaml, planAppCreate, planAppDelete, type AppCreateOptions, type AppSource } from "./scaffold.ts";

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\ndata:\n  MESSAGE: hi\n";
const files = {
  ...layoutFiles({ components: "components" }),
  "projects/team-a.yaml": projectYaml(appProject({ name: "team-a", namespace: "tether-system", components: "components", destNamespaces: ["team-a-*"] })),
  "projects/vendor.yaml": projectYaml(appProject({ name: "vendor", namespace: "tether-system", components: "components", sourceRepos: ["https://github.com/vendor/*"] })),
  "bases/web/kustomization.yaml": "resources: [deploy.yaml]\n",
  "bases/web/deploy.yaml": configMap,
  "bases/plain/cm.yaml": configMap,
};
const tree = memoryTree(files);
const local = (entries: Record<string, string>): AppSource => ({
  kind: "path", spec: "./hello", local: { root: "/tmp/hello", files: Object.entries(entries).map(([path, text]) => ({ path, content: Buffer.from(text) })) },
});
const create = (opts: Partial<AppCreateOptions> & { source: AppSource }, on = tree) =>
  planAppCreate(on, { name: "hello", project: "default", components: "components", ...opts });
const content = (plan: Plan, path: string) => {
  const change = plan.changes.find((c) => c.path === path);
  if (!change) throw new Error(`${path} not in ${plan.changes.map((c) => c.path).join(", ")}`);
  return String(change.content);
};

describe("tether app create", () => {
  it("writes an Application in the style of this repository's components/", () => {
    expect(applicationYaml({ name: "guestbook-ui", project: "apps", source: { path: "components/apps/guestbook-ui" }, server: "https://kubernetes.default.svc", namespace: "guestbook-ui" }))
      .toBe(readFileSync(new URL("../../components/apps/guestbook-ui.yaml", import.meta.url), "utf8"));
  });

  it("copies a local directory into components/PROJECT/NAME/ and points the Application at it", async () => {
    const plan = await create({ source: local({ "cm.yaml": configMap }) });
    expect(plan.changes.map((c) => c.path)).toEqual(["components/default/hello.yaml", "components/default/hello/cm.yaml"]);
    const app = parse(content(plan, "components/default/hello.yaml"));
    expect(app.spec.source).toEqual({ path: "components/default/hello" });
    expect(app.spec.destination).toEqual({ server: "https://kubernetes.default.svc", namespace: "hello" });
    expect(app.metadata.finalizers).toEqual(["tether.dev/resources-finalizer"]);
    expect(plan.message).toBe("Add app hello to project default\n\nSource: components/default/hello (copied from ./hello)\nType: dir\n"
      + "Destination: https://kubernetes.default.svc namespace hello\n");
  });

  it("writes a kustomization listing the copied manifests for --type kustomize", async () => {
    const plan = await create({ source: local({ "cm.yaml": configMap, "db/sts.yaml": configMap, "README.md": "x" }), type: "kustomize" });
    expect(parse(content(plan, "components/default/hello/kustomization.yaml")).resources).toEqual(["cm.yaml", "db/sts.yaml"]);
    expect(parse(content(plan, "components/default/hello.yaml")).spec.source.kustomize).toEqual({});
  });

  it("copies a chart and lets the agent render it with Helm", async () => {
    const plan = await create({ source: local({ "Chart.yaml": "name: hello\nversion: 0.1.0\n", "templates/cm.yaml": "{{ .Values.x }}" }) });
    expect(plan.message).toContain("Type: helm");
    expect(parse(content(plan, "components/default/hello.yaml")).spec.source).toEqual({ path: "components/default/hello" });
  });

  it("sets recurse for a directory app whose manifests sit in subdirectories", async () => {
    const plan = await create({ source: local({ "a.yaml": configMap, "db/b.yaml": configMap }) });
    expect(parse(content(plan, "components/default/hello.yaml")).spec.source.directory).toEqual({ recurse: true });
  });

  it("points at a directory already in the repository without copying it", async () => {
    const plan = await create({ source: { kind: "path", spec: "bases/plain", repoPath: "bases/plain" }, revision: "v2" });
    expect(plan.changes.map((c) => c.path)).toEqual(["components/default/hello.yaml"]);
    expect(parse(content(plan, "components/default/hello.yaml")).spec.source).toEqual({ targetRevision: "v2", path: "bases/plain" });
  });

  it("gives a kustomize base elsewhere in the repository an overlay of the app's own", async () => {
    const plan = await create({ source: { kind: "path", spec: "bases/web", repoPath: "bases/web" } });
    expect(parse(content(plan, "components/default/hello/kustomization.yaml")).resources).toEqual(["../../../bases/web"]);
    expect(parse(content(plan, "components/default/hello.yaml")).spec.source.path).toBe("components/default/hello");
  });

  it("adds the base to an existing kustomization in the app's directory, keeping its comments", async () => {
    const existing = "# hand-written overlay\nresources:\n  - extra.yaml # keep\npatches: []\n";
    const plan = await create({ source: { kind: "path", spec: "bases/web", repoPath: "bases/web" } },
      memoryTree({ ...files, "components/default/hello/kustomization.yaml": existing }));
    expect(content(plan, "components/default/hello/kustomization.yaml")).toBe(existing.replace("  - extra.yaml # keep\n", "  - extra.yaml # keep\n  - ../../../bases/web\n"));
  });

  it("lists the new Application in the project's kustomization when the root is a kustomization", async () => {
    const withKustomization = memoryTree({ ...files, "components/default/kustomization.yaml": "# apps of default\nresources:\n  - other.yaml\n" });
    const plan = await create({ source: local({ "cm.yaml": configMap }) }, withKustomization);
    expect(content(plan, "components/default/kustomization.yaml")).toBe("# apps of default\nresources:\n  - other.yaml\n  - hello.yaml\n");
    const removed = await planAppDelete(withChanges(withKustomization, plan.changes), { name: "hello", components: "components" });
    expect(content(removed, "components/default/kustomization.yaml")).toBe("# apps of default\nresources:\n  - other.yaml\n");
  });

  it("points at another repository's directory at its ref", async () => {
    const plan = await create({ source: { kind: "remote", remote: { spec: { repoURL: "https://github.com/vendor/web.git", path: "deploy", ref: "v1.2.0" }, files: ["kustomization.yaml", "d.yaml"] } }, project: "vendor" });
    expect(parse(content(plan, "components/vendor/hello.yaml")).spec.source).toEqual({ repoURL: "https://github.com/vendor/web.git", targetRevision: "v1.2.0", path: "deploy" });
    expect(plan.message).toContain("Type: kustomize");
  });

  it.each<[string, Partial<AppCreateOptions> & { source: AppSource }, RegExp]>([
    ["a taken name", { name: "projects", source: local({ "a.yaml": configMap }) }, /app projects already exists \(components\/projects\.yaml, project default\)/],
    ["an unknown project", { project: "ghost", source: local({ "a.yaml": configMap }) }, /project ghost does not exist in projects\/ \(known: default, team-a, vendor\); create it with `tether project create ghost`/],
    ["a destination the project refuses", { project: "team-a", source: local({ "a.yaml": configMap }) },
      /project team-a does not allow namespace hello on https:\/\/kubernetes\.default\.svc: add `- \{server: https:\/\/kubernetes\.default\.svc, namespace: hello\}` to spec\.destinations in projects\/team-a\.yaml/],
    ["a repository the project refuses", { project: "vendor", source: { kind: "remote", remote: { spec: { repoURL: "https://gitlab.com/x/y.git", path: "" }, files: ["a.yaml"] } } },
      /project vendor does not allow repository https:\/\/gitlab\.com\/x\/y\.git: add it to spec\.sourceRepos in projects\/vendor\.yaml/],
    ["an invalid namespace", { destNamespace: "Team_A", source: local({ "a.yaml": configMap }) }, /--dest-namespace "Team_A" is not a valid name/],
    ["a path that exists nowhere", { source: { kind: "path", spec: "nope" } }, /--app nope: no such directory in the repository or on this machine/],
    ["a path in the clone that is not committed", { source: { kind: "path", spec: "./new", repoPath: "new", uncommitted: true } }, /new is in your clone but not committed/],
    ["the root's own directory", { source: { kind: "path", spec: "components", repoPath: "components" } }, /--app components: the root Application reads that directory itself/],
    ["--type kustomize on a plain directory of the repository", { type: "kustomize", source: { kind: "path", spec: "bases/plain", repoPath: "bases/plain" } }, /bases\/plain has no kustomization\.yaml/],
    ["a copied kustomization that refers outside its directory", { source: local({ "kustomization.yaml": "resources: [../base]\n" }) }, /refers to \.\.\/base, outside the directory/],
  ])("refuses %s, saying how to fix it", async (_what, opts, message) => {
    await expect(create(opts)).rejects.toThrow(message);
  });

  it("refuses to copy over files already in the app's directory", async () => {
    await expect(create({ source: local({ "a.yaml": configMap }) }, memoryTree({ ...files, "components/default/hello/x.yaml": configMap })))
      .rejects.toThrow(/components\/default\/hello\/ already exists in the repository; deploy what is there with --app components\/default\/hello/);
  });
});

describe("tether app delete", () => {
  const created = async () => {
    const plan = await create({ source: local({ "cm.yaml": configMap }) });
    return withChanges(tree, plan.changes);
  };

  it("removes the Application's file and its directory", async () => {
    const plan = await planAppDelete(await created(), { name: "hello", components: "components" });
    expect(plan.changes).toEqual<FileChange[]>([{ path: "components/default/hello.yaml", content: null }, { path: "components/default/hello", content: null }]);
    expect(plan.message.split("\n")[0]).toBe("Delete app hello from project default");
    expect(plan.notes).toContain("once the root Application syncs, the agent deletes what it deployed (finalizer)");
  });

  it("keeps a directory elsewhere in the repository that other apps may use", async () => {
    const plan = await create({ source: { kind: "path", spec: "bases/plain", repoPath: "bases/plain" } });
    const removal = await planAppDelete(withChanges(tree, plan.changes), { name: "hello", components: "components" });
    expect(removal.changes.map((c) => c.path)).toEqual(["components/default/hello.yaml"]);
    expect(removal.notes).toContain("bases/plain is kept: other apps may use it");
  });

  it("says where an app is when -p names another project, and when it does not exist", async () => {
    const withApp = await created();
    await expect(planAppDelete(withApp, { name: "hello", project: "team-a", components: "components" })).rejects.toThrow(/app hello not found in project team-a in components\/ \(it is in project default\)/);
    await expect(planAppDelete(withApp, { name: "nope", components: "components" })).rejects.toThrow(/app nope not found in components\//);
  });
});
