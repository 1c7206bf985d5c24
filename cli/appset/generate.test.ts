import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateFromSet, GenerationError, parseLocalRepos, readSetFile } from "./generate.ts";

let dir: string;
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), "appset-gen-")); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const SEED = `# the seed example, as Argo CD users write it
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: guestbook, namespace: argocd}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - list:
        elements:
          - {cluster: engineering-dev, url: https://1.2.3.4}
          - {cluster: engineering-prod, url: https://2.4.6.8}
  template:
    metadata: {name: '{{.cluster}}-guestbook'}
    spec:
      project: default
      source: {repoURL: https://github.com/argoproj/argo-cd.git, targetRevision: HEAD, path: 'guestbook/{{.cluster}}'}
      destination: {server: '{{.url}}', namespace: guestbook}
`;

const offline = { localRepos: new Map<string, string>(), clusters: () => Promise.resolve([]) };

describe("tether appset generate", () => {
  it("prints the seed example's Applications as the agent would write them, without a cluster", async () => {
    const file = path.join(dir, "seed.yaml");
    await writeFile(file, SEED);
    const { set, warnings } = await readSetFile(file, "tether-system");
    expect(warnings).toEqual([]);
    const apps = await generateFromSet(set, offline);
    expect(apps.map((a) => [a.metadata?.name, a.spec.destination.server, a.spec.source?.path])).toEqual([
      ["engineering-dev-guestbook", "https://1.2.3.4", "guestbook/engineering-dev"],
      ["engineering-prod-guestbook", "https://2.4.6.8", "guestbook/engineering-prod"],
    ]);
    expect(apps[0]).toMatchObject({ apiVersion: "tether.dev/v1alpha1", kind: "Application",
      metadata: { namespace: "tether-system", finalizers: ["tether.dev/resources-finalizer"] } });
    expect(apps[0]?.metadata?.ownerReferences).toBeUndefined();
  });

  it("fails naming the generator when an element lacks a key under missingkey=error", async () => {
    const file = path.join(dir, "missing.yaml");
    await writeFile(file, SEED.replace("          - {cluster: engineering-prod, url: https://2.4.6.8}", "          - {cluster: engineering-prod}"));
    const { set } = await readSetFile(file, "tether-system");
    const failed = generateFromSet(set, offline);
    await expect(failed).rejects.toBeInstanceOf(GenerationError);
    await expect(failed).rejects.toThrow(/generators\[0\]\.list.*url/);
  });

  it("refuses a file without an ApplicationSet, naming the file", async () => {
    const file = path.join(dir, "cm.yaml");
    await writeFile(file, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
    await expect(readSetFile(file, "tether-system")).rejects.toThrow(`-f ${file}: no ApplicationSet`);
  });

  it("takes --local-repo as URL=DIR, matching every spelling of the URL", () => {
    expect(parseLocalRepos(["https://github.com/Org/GitOps.git=/tmp/x"]).get("https://github.com/org/gitops")).toBe("/tmp/x");
    expect(() => parseLocalRepos(["nodir="])).toThrow("expected URL=DIR");
  });
});
