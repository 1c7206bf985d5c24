import { cp, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathWithTools } from "../../test/harness/paths.ts";
import { TetherError } from "../errors.ts";
import { renderKustomize } from "./kustomize.ts";
import { TESTDATA, emptyCheckout, writeTree } from "./testdata/checkout.ts";
import type { RenderedObject } from "./types.ts";

const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => {
  process.env.PATH = pathWithTools();
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function checkout(files: Record<string, string> = {}): Promise<string> {
  const { root, cleanup } = await emptyCheckout();
  cleanups.push(cleanup);
  await writeTree(root, files);
  return root;
}

/** The guestbook fixture (base, component, prod overlay) at `apps/guestbook` of a fresh checkout. */
async function guestbook(): Promise<string> {
  const root = await checkout();
  await cp(join(TESTDATA, "kustomize", "guestbook"), join(root, "apps", "guestbook"), { recursive: true });
  return root;
}

function byKind(objects: RenderedObject[], kind: string): RenderedObject {
  const found = objects.find((o) => o.manifest.kind === kind);
  expect(found, `a ${kind}`).toBeDefined();
  return found!;
}

async function renderError(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

const CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n";

describe("renderKustomize: an overlay with bases and components in the repository", () => {
  it("builds the overlay and names the file each object came from", async () => {
    const root = await guestbook();
    const objects = await renderKustomize({ root, path: "apps/guestbook/overlays/prod", ageKeys: [] });
    expect(objects.map((o) => `${o.manifest.kind}/${o.manifest.metadata.name ?? ""} ${o.file}`)).toEqual([
      "ConfigMap/monitoring apps/guestbook/components/monitoring/servicemonitor-config.yaml",
      expect.stringMatching(/^Secret\/literal-secret-[a-z0-9]{10} apps\/guestbook\/overlays\/prod\/kustomization\.yaml$/) as unknown,
      "Service/guestbook-ui apps/guestbook/base/service.yaml",
      "Deployment/guestbook-ui apps/guestbook/base/deployment.yaml",
    ]);
    expect(byKind(objects, "Deployment").manifest.spec).toMatchObject({ replicas: 3 });
    // Origin tracking is Tether's bookkeeping: it does not reach the objects.
    expect(JSON.stringify(objects)).not.toContain("config.kubernetes.io/origin");
  });

  it("applies namePrefix, nameSuffix, images and commonLabels as Argo CD does", async () => {
    const root = await guestbook();
    const objects = await renderKustomize({
      root, path: "apps/guestbook/overlays/prod", ageKeys: [],
      kustomize: {
        namePrefix: "prod-", nameSuffix: "-v2",
        images: ["gcr.io/heptio-images/ks-guestbook-demo=registry.example.com/guestbook:0.2"],
        commonLabels: { team: "web", env: "prod" },
      },
    });
    const deployment = byKind(objects, "Deployment").manifest;
    expect(deployment.metadata).toMatchObject({ name: "prod-guestbook-ui-v2", labels: { team: "web", env: "prod" } });
    expect(deployment).toMatchObject({
      spec: {
        selector: { matchLabels: { app: "guestbook-ui", team: "web", env: "prod" } },
        template: { spec: { containers: [{ image: "registry.example.com/guestbook:0.2" }] } },
      },
    });
    expect(byKind(objects, "Service").manifest.metadata.name).toBe("prod-guestbook-ui-v2");
  });

  it("applies namespace, replicas, commonAnnotations and patches (appended after the kustomization's own) as Argo CD does", async () => {
    const root = await guestbook();
    await writeTree(root, { "apps/guestbook/overlays/prod/port.yaml": "- op: replace\n  path: /spec/ports/0/port\n  value: 8080\n" });
    const objects = await renderKustomize({
      root, path: "apps/guestbook/overlays/prod", ageKeys: [],
      kustomize: {
        namespace: "shop", replicas: [{ name: "guestbook-ui", count: "4" }], commonAnnotations: { owner: "web-team" },
        patches: [
          { path: "port.yaml", target: { kind: "Service", name: "guestbook-ui" } },
          { patch: "- op: add\n  path: /spec/minReadySeconds\n  value: 5\n", target: { group: "apps", kind: "Deployment" } },
        ],
      },
    });
    const deployment = byKind(objects, "Deployment").manifest;
    expect(deployment.metadata).toMatchObject({ namespace: "shop", annotations: { owner: "web-team" } });
    expect(deployment.spec).toMatchObject({ replicas: 4, minReadySeconds: 5 });
    expect(byKind(objects, "Service").manifest).toMatchObject({ metadata: { namespace: "shop" }, spec: { ports: [{ port: 8080 }] } });
  });

  it("adds patches to a kustomization that has none, and refuses a patch with both or neither of path and patch", async () => {
    const root = await checkout({ "kustomization.yaml": "resources:\n- cm.yaml\n", "cm.yaml": CONFIGMAP });
    const patch = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  added: \"1\"\n";
    const [cm] = await renderKustomize({ root, path: ".", ageKeys: [], kustomize: { patches: [{ patch }] } });
    expect(cm?.manifest.data).toEqual({ added: "1" });
    const neither = await renderError(renderKustomize({ root: await checkout({ "kustomization.yaml": "resources:\n- cm.yaml\n", "cm.yaml": CONFIGMAP }), path: ".", ageKeys: [], kustomize: { patches: [{}] } }));
    expect(neither.message).toBe("spec.source.kustomize.patches[0]: set exactly one of path and patch");
    const badCount = await renderError(renderKustomize({ root: await checkout({ "kustomization.yaml": "resources:\n- cm.yaml\n", "cm.yaml": CONFIGMAP }), path: ".", ageKeys: [], kustomize: { replicas: [{ name: "x", count: "two" }] } }));
    expect(badCount.message).toBe('spec.source.kustomize.replicas: count "two" is not a whole number of replicas');
  });

  it("refuses an Application label the kustomization already sets, as Argo CD does without forceCommonLabels", async () => {
    const root = await checkout({ "kustomization.yaml": "commonLabels:\n  team: a\nresources:\n- cm.yaml\n", "cm.yaml": CONFIGMAP });
    const err = await renderError(renderKustomize({ root, path: ".", ageKeys: [], kustomize: { commonLabels: { team: "b" } } }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toMatch(/^spec\.source\.kustomize\.commonLabels: .*team/);
  });

  it("marks plain Secrets, also from a secretGenerator, as not decrypted", async () => {
    const root = await guestbook();
    const objects = await renderKustomize({ root, path: "apps/guestbook/overlays/prod", ageKeys: [] });
    expect(objects.every((o) => !o.decrypted)).toBe(true);
  });

  it("keeps origin annotations a kustomization asks for itself", async () => {
    const root = await checkout({ "kustomization.yaml": "buildMetadata: [originAnnotations]\nresources:\n- cm.yaml\n", "cm.yaml": CONFIGMAP });
    const [cm] = await renderKustomize({ root, path: ".", ageKeys: [] });
    expect(cm?.manifest.metadata.annotations).toEqual({ "config.kubernetes.io/origin": "path: cm.yaml\n" });
  });
});

describe("renderKustomize: what stays out", () => {
  it("refuses a remote base unless the caller allows its URL", async () => {
    const url = "https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.0.0";
    const root = await checkout({ "app/kustomization.yaml": `resources:\n- ${url}\n` });
    const err = await renderError(renderKustomize({ root, path: "app", ageKeys: [], allowRemoteBases: (u) => u.startsWith("https://gitlab.com/") }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toBe(`app/kustomization.yaml: remote base ${url} is not allowed: vendor it into the repository, or allow its repository in the AppProject's sourceRepos`);
  });

  it("fetches a remote base the caller allows", async () => {
    const remote = await checkout({ "base/kustomization.yaml": "resources:\n- cm.yaml\n", "base/cm.yaml": CONFIGMAP.replace("name: cm", "name: from-remote") });
    const git = (...args: string[]): Promise<unknown> => execa("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: remote });
    await git("init", "-q", "-b", "main");
    await git("add", "-A");
    await git("commit", "-qm", "base");
    const url = `file://${remote}//base?ref=main`;
    const root = await checkout({ "kustomization.yaml": `resources:\n- ${url}\n` });
    const objects = await renderKustomize({ root, path: ".", ageKeys: [], allowRemoteBases: (u) => u === url, allowLocalRepos: true });
    expect(objects.map((o) => o.manifest.metadata.name)).toEqual(["from-remote"]);
    expect(objects[0]?.file).toContain(remote);
    // Without --allow-local-repos a base on the agent's disk is refused, whatever the project allows (issue 22, finding 10).
    for (const local of [url, `git::${url}`]) {
      const refused = await checkout({ "kustomization.yaml": `resources:\n- ${local}\n` });
      const err = await renderError(renderKustomize({ root: refused, path: ".", ageKeys: [], allowRemoteBases: () => true }));
      expect(err.message).toBe(`kustomization.yaml: remote base ${local} is a repository on the agent's disk, which is refused unless the agent runs with --allow-local-repos: vendor the base into the repository`);
    }
  });

  it("refuses a remote base with a '..' segment, which the project's sourceRepos could not judge", async () => {
    const url = "https://github.com/team-b/../team-a/base?ref=v1";
    const root = await checkout({ "kustomization.yaml": `resources:\n- ${url}\n` });
    const err = await renderError(renderKustomize({ root, path: ".", ageKeys: [], allowRemoteBases: () => true }));
    expect(err.message).toBe(`kustomization.yaml: remote base ${url} has a '..' segment: write the repository's URL and path without it`);
  });

  it.each([
    ["a base outside the repository", { "app/kustomization.yaml": "resources:\n- ../../../../../../../etc\n" }, /^app\/kustomization\.yaml: \.\.\/.*\/etc is outside the repository/],
    ["an absolute path", { "app/kustomization.yaml": "resources:\n- /etc\n" }, /^app\/kustomization\.yaml: \/etc is an absolute path/],
    ["a component outside the repository", { "app/kustomization.yaml": "components:\n- ../../../../../../../tmp\n" }, /is outside the repository/],
  ])("refuses %s", async (_name, files, message) => {
    const root = await checkout(files);
    const err = await renderError(renderKustomize({ root, path: "app", ageKeys: [] }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toMatch(message);
  });

  it("refuses a base reached through a symlink that leaves the repository", async () => {
    const outside = await checkout({ "kustomization.yaml": "resources:\n- cm.yaml\n", "cm.yaml": CONFIGMAP });
    const root = await checkout({ "app/kustomization.yaml": "resources:\n- ../linked\n" });
    await symlink(outside, join(root, "linked"));
    const err = await renderError(renderKustomize({ root, path: "app", ageKeys: [] }));
    expect(err.message).toContain("symlink that points outside the repository");
  });

  it("refuses a resource file symlinked from outside the repository", async () => {
    const outside = await checkout({ "cm.yaml": CONFIGMAP });
    const root = await checkout({ "app/kustomization.yaml": "resources:\n- cm.yaml\n" });
    await symlink(join(outside, "cm.yaml"), join(root, "app", "cm.yaml"));
    const err = await renderError(renderKustomize({ root, path: "app", ageKeys: [] }));
    expect(err.message).toContain("symlink that points outside the repository");
  });

  it("runs no plugin a repository brings", async () => {
    const root = await checkout({
      "kustomization.yaml": "generators:\n- gen.yaml\n",
      "gen.yaml": "apiVersion: example.com/v1\nkind: Evil\nmetadata:\n  name: x\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./evil.sh\n",
      "evil.sh": "#!/bin/sh\necho pwned > pwned.txt\n",
    });
    await renderError(renderKustomize({ root, path: ".", ageKeys: [] }));
    await expect(readFile(join(root, "pwned.txt"))).rejects.toThrow();
  });
});

describe("renderKustomize: errors", () => {
  it("reports kustomize's message with paths relative to the repository", async () => {
    const root = await checkout({ "apps/a/kustomization.yaml": "resources:\n- missing.yaml\n" });
    const err = await renderError(renderKustomize({ root, path: "apps/a", ageKeys: [] }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.object).toBe("apps/a");
    expect(err.message).toMatch(/^kustomize build apps\/a failed: .*missing\.yaml/);
    expect(err.message).not.toContain(root);
    expect(err.message).not.toContain("/tmp/");
  });

  it("says when the path has no kustomization", async () => {
    const root = await checkout({ "apps/a/cm.yaml": CONFIGMAP });
    const err = await renderError(renderKustomize({ root, path: "apps/a", ageKeys: [] }));
    expect(err.message).toBe("path 'apps/a' has no kustomization.yaml: fix spec.source.path or add the kustomization");
  });

  it("reads a kustomization named Kustomization or kustomization.yml", async () => {
    for (const name of ["Kustomization", "kustomization.yml"]) {
      const root = await checkout({ [`a/${name}`]: "resources:\n- cm.yaml\n", "a/cm.yaml": CONFIGMAP });
      const objects = await renderKustomize({ root, path: "a", ageKeys: [], kustomize: { namePrefix: "p-" } });
      expect(objects.map((o) => o.manifest.metadata.name)).toEqual(["p-cm"]);
    }
  });

  it("edits only the throwaway checkout, leaving the fixture as committed", async () => {
    const root = await guestbook();
    await renderKustomize({ root, path: "apps/guestbook/overlays/prod", ageKeys: [], kustomize: { namePrefix: "x-" } });
    const fixture = await readFile(join(TESTDATA, "kustomize/guestbook/overlays/prod/kustomization.yaml"), "utf8");
    expect(fixture).not.toContain("namePrefix");
  });
});
