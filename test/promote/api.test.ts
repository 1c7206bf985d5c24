// The promotion kinds on the real API server, without an agent: the CRDs install, Freight's artifacts are
// immutable, and `tether promote` refuses Freight a stage may not take before it creates anything.
import { readFileSync } from "node:fs";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import type { Promotion } from "../../agent/api/promotion.ts";
import { adoptKargoManifests } from "../../agent/render/kargo.ts";
import { freightOf } from "../../agent/promote/freight.ts";
import { repoRoot } from "../harness/paths.ts";
import { cli } from "../support/agent.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-promote-api";
const PROJECT = "kargo-api";
const { kubeconfigPath, kc, core, objects } = kube();
const custom = kc.makeApiClient(CustomObjectsApi);
const IMAGE = "127.0.0.1:5000/nginx";
const ref = (plural: string, name = "") => ({ group: "tether.dev", version: "v1alpha1", namespace: PROJECT, plural, name });

beforeAll(async () => {
  const installed = await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(installed.exitCode, installed.stderr).toBe(0);
  await core.createNamespace({ body: { metadata: { name: PROJECT } } }).catch(() => undefined);
  // A CRD just made is Established a moment before its storage answers (HTTP 429): wait for every kind.
  for (const plural of ["warehouses", "freights", "stages", "promotions"]) {
    await eventually(`${plural} served`, () => custom.listNamespacedCustomObject(ref(plural)).then(() => true));
  }
  const text = readFileSync(`${repoRoot}/agent/promote/testdata/kargo-demo.yaml`, "utf8")
    .replaceAll("${GITOPS_REPO_URL}", "https://git.example/gitops.git").replaceAll("${IMAGE}", IMAGE).replaceAll("kargo-demo", PROJECT);
  const docs = parseAllDocuments(text).map((d) => ({ manifest: d.toJSON() as never, file: "kargo.yaml", decrypted: false }));
  for (const { manifest } of adoptKargoManifests(docs).objects) await objects.patch(manifest, undefined, undefined, "tether-test", true, PatchStrategy.ServerSideApply);
  for (const tag of ["1.24.0", "1.25.0"]) {
    await custom.createNamespacedCustomObject({ ...ref("freights"), body: freightOf(PROJECT, PROJECT, [{ repoURL: IMAGE, tag, digest: `sha256:${"a".repeat(63)}${tag.at(-3)}` }]) });
  }
});

describe("the promotion kinds", () => {
  it("refuses a change to Freight's images", async () => {
    const name = freightOf(PROJECT, PROJECT, [{ repoURL: IMAGE, tag: "1.24.0", digest: `sha256:${"a".repeat(63)}4` }]).metadata?.name ?? "";
    const err = await custom.patchNamespacedCustomObject({ ...ref("freights", name), body: { images: [{ repoURL: IMAGE, tag: "9.9.9" }] } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch)).catch((e: unknown) => e);
    expect(String((err as { body?: unknown }).body ?? err)).toContain("Freight is immutable: images cannot change");
  });

  it("tether promote refuses Freight the upstream stage has not verified, and creates no Promotion", async () => {
    const refused = await cli(["promote", PROJECT, "uat", "--freight", "1.25.0"], { kubeconfig: kubeconfigPath });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/refused: Freight [0-9a-f]{40} \(1\.25\.0\) is not verified in upstream Stage test \(it is verified in no Stage yet\); promote it to test/);
    const promotions = (await custom.listNamespacedCustomObject(ref("promotions")) as { items: Promotion[] }).items;
    expect(promotions).toEqual([]);
  });

  it("tether promote status prints the stages in pipeline order with what each may take", async () => {
    const status = await cli(["promote", "status", PROJECT], { kubeconfig: kubeconfigPath });
    expect(status.exitCode, status.stderr).toBe(0);
    const rows = status.stdout.split("\n");
    expect(rows[1]).toMatch(/^test\s+warehouse kargo-api\s+auto\s+-\s+-\s+Unknown\s+NotApplicable\s+1\.2[45]\.0, 1\.2[45]\.0\s+-$/);
    expect(rows[2]).toMatch(/^uat\s+after test\s+manual\s+-\s+-\s+Unknown\s+NotApplicable\s+-\s+-$/);
    expect(rows[3]).toMatch(/^prod\s+after uat\s+manual/);
    const missing = await cli(["promote", "status", "no-such-project"], { kubeconfig: kubeconfigPath });
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain("project no-such-project not found");
  });
});
