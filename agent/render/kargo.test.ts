import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { adoptKargoManifests } from "./kargo.ts";
import type { RenderedObject } from "./types.ts";

const demo = readFileSync(new URL("../promote/testdata/kargo-demo.yaml", import.meta.url), "utf8")
  .replaceAll("${GITOPS_REPO_URL}", "https://github.com/example/kargo-demo.git").replaceAll("${IMAGE}", "nginx");
const rendered = (m: unknown): RenderedObject => ({ manifest: m as Manifest, file: "kargo.yaml", decrypted: false });

describe("Kargo manifests in Git", () => {
  it("takes the documents' Project, Warehouse and stages as Tether's kinds, fields and namespaces kept", () => {
    const docs = parseAllDocuments(demo).map((d) => rendered(d.toJSON()));
    const { objects, warnings } = adoptKargoManifests(docs);
    expect(warnings).toEqual([]);
    expect(objects.map((o) => `${o.manifest.apiVersion} ${o.manifest.kind} ${o.manifest.metadata.namespace ?? ""}/${o.manifest.metadata.name ?? ""}`)).toEqual([
      "tether.dev/v1alpha1 Project /kargo-demo",
      "tether.dev/v1alpha1 Warehouse kargo-demo/kargo-demo",
      "tether.dev/v1alpha1 Stage kargo-demo/test",
      "tether.dev/v1alpha1 Stage kargo-demo/uat",
      "tether.dev/v1alpha1 Stage kargo-demo/prod",
    ]);
    expect(objects[2]!.manifest.spec).toEqual(docs[2]!.manifest.spec);
  });

  it("names each field Tether does not implement and keeps the rest", () => {
    const warehouse = rendered({
      apiVersion: "kargo.akuity.io/v1alpha1", kind: "Warehouse", metadata: { name: "w", namespace: "p" }, status: { lastFreight: {} },
      spec: { subscriptions: [{ git: { repoURL: "https://example.com/x.git" } }, { image: { repoURL: "nginx", platform: "linux/amd64" } }] },
    });
    const { objects, warnings } = adoptKargoManifests([warehouse]);
    expect(warnings).toEqual([
      "Warehouse/p/w: spec.subscriptions[0].git is not implemented by Tether; the field is ignored",
      "Warehouse/p/w: spec.subscriptions[1].image.platform is not implemented by Tether; the field is ignored",
    ]);
    expect(objects[0]!.manifest).toEqual({
      apiVersion: "tether.dev/v1alpha1", kind: "Warehouse", metadata: { name: "w", namespace: "p" },
      spec: { subscriptions: [{}, { image: { repoURL: "nginx" } }] },
    });
  });

  it("keeps other Kargo kinds with a warning, so applying them fails loudly", () => {
    const { warnings } = adoptKargoManifests([rendered({ apiVersion: "kargo.akuity.io/v1alpha1", kind: "PromotionTask", metadata: { name: "t" } })]);
    expect(warnings).toEqual(["PromotionTask/t (kargo.yaml): kargo.akuity.io/v1alpha1 PromotionTask is not implemented by Tether"]);
  });
});
