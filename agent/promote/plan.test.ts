import { describe, expect, it } from "vitest";
import type { Freight, Promotion, Stage } from "../api/promotion.ts";
import type { Application } from "../api/types.ts";
import { freightOf } from "./freight.ts";
import { planPromotion } from "./plan.ts";
import { pipelineOrder, pipelineView, resolveFreight } from "./view.ts";

const NGINX = "127.0.0.1:5000/nginx";
const REPO = "https://git.example/gitops.git";
const freight = (tag: string, verifiedIn: string[] = []): Freight => ({
  ...freightOf("kargo-demo", "kargo-demo", [{ repoURL: NGINX, tag, digest: "sha256:aa" }]),
  status: { verifiedIn: Object.fromEntries(verifiedIn.map((s) => [s, {}])) },
});
const stage = (name: string, subs: Stage["spec"]["subscriptions"], mechanisms: Stage["spec"]["promotionMechanisms"]): Stage =>
  ({ metadata: { name, namespace: "kargo-demo" }, spec: { subscriptions: subs, promotionMechanisms: mechanisms } });
const mechanisms = (name: string, extra: Partial<NonNullable<Stage["spec"]["promotionMechanisms"]>> = {}) => ({
  gitRepoUpdates: [{ repoURL: REPO, writeBranch: `stage/${name}`, kustomize: { images: [{ image: NGINX, path: `stages/${name}` }] } }],
  argoCDAppUpdates: [{ appName: `kargo-demo-${name}`, appNamespace: "argocd" }],
  ...extra,
});
const test = stage("test", { warehouse: "kargo-demo" }, mechanisms("test"));
const uat = stage("uat", { upstreamStages: [{ name: "test" }] }, mechanisms("uat"));
const promotion = (s: string, f: Freight): Promotion => ({ metadata: { name: `${s}.x`, namespace: "kargo-demo" }, spec: { stage: s, freight: f.metadata?.name ?? "" } });
const apps = new Map<string, Application>(["test", "uat"].map((s) => [`tether-system/kargo-demo-${s}`, { metadata: { name: `kargo-demo-${s}` }, spec: { destination: {} } }]));
const plan = (s: Stage | undefined, f: Freight | undefined, p = promotion(s?.metadata?.name ?? "test", f ?? freight("0"))) =>
  planPromotion({ promotion: p, stage: s, freight: f, apps, agentNamespace: "tether-system" });

describe("a promotion's plan", () => {
  it("writes the Freight's tag to the stage's branch and syncs the stage's Application", () => {
    const f = freight("1.25.3");
    expect(plan(test, f)).toEqual({
      plan: {
        freight: f,
        writes: [{
          repoURL: REPO, writeBranch: "stage/test", edits: [{ kind: "kustomize", path: "stages/test", image: NGINX, newTag: "1.25.3" }],
          message: `Promote ${NGINX}:1.25.3 to test\n\nFreight: ${f.metadata?.name ?? ""}\nPromotion: kargo-demo/test.x`,
        }],
        syncs: [{ namespace: "tether-system", name: "kargo-demo-test" }],
      },
    });
  });

  it("puts every edit of one branch in one commit, and writes Helm values as Kargo's value types say", () => {
    const s = stage("test", { warehouse: "kargo-demo" }, {
      gitRepoUpdates: [
        { repoURL: REPO, writeBranch: "stage/test", kustomize: { images: [{ image: NGINX, path: "a", useDigest: true }] } },
        { repoURL: "https://git.example/gitops", writeBranch: "stage/test", helm: { images: [{ image: NGINX, valuesFilePath: "v.yaml", key: "image.tag", value: "Tag" }] } },
      ],
    });
    const result = plan(s, freight("1.0.0"));
    expect("plan" in result && result.plan.writes.map((w) => w.edits)).toEqual([[
      { kind: "kustomize", path: "a", image: NGINX, digest: "sha256:aa" },
      { kind: "helm", valuesFilePath: "v.yaml", key: "image.tag", value: "1.0.0" },
    ]]);
  });

  it.each([
    ["unverified freight for a downstream stage", () => plan(uat, freight("1.0.0")), "is not verified in upstream Stage test"],
    ["a stage that does not exist", () => plan(undefined, freight("1.0.0"), promotion("staging", freight("1.0.0"))), "Stage kargo-demo/staging not found: fix spec.stage"],
    ["freight that does not exist", () => plan(test, undefined), "not found in project kargo-demo"],
    ["an image the Freight does not carry", () => plan(stage("test", { warehouse: "kargo-demo" }, mechanisms("test", {
      gitRepoUpdates: [{ repoURL: REPO, writeBranch: "stage/test", kustomize: { images: [{ image: "nginx", path: "p" }] } }],
    })), freight("1.0.0")), "gitRepoUpdates[0].kustomize.images[0]: image nginx is not in the Freight (it has 127.0.0.1:5000/nginx)"],
    ["an Application that does not exist", () => plan(stage("test", { warehouse: "kargo-demo" }, mechanisms("test", { argoCDAppUpdates: [{ appName: "nope" }] })), freight("1.0.0")),
      "argoCDAppUpdates[0] names Application tether-system/nope, which does not exist"],
    ["a stage with nothing to do", () => plan(stage("test", { warehouse: "kargo-demo" }, {}), freight("1.0.0")), "has no promotionMechanisms"],
  ])("refuses %s, naming it", (_title, run, reason) => {
    const result = run();
    expect("refused" in result && result.refused).toContain(reason);
  });
});

describe("the pipeline view", () => {
  const prod = stage("prod", { upstreamStages: [{ name: "uat" }] }, mechanisms("prod"));
  it("orders stages from the Warehouse downstream", () => {
    expect(pipelineOrder([prod, uat, test]).map((s) => s.metadata?.name)).toEqual(["test", "uat", "prod"]);
  });

  it("shows what each stage runs and may take next", () => {
    const verified = freight("1.0.0", ["test"]);
    const fresh = { ...freight("1.1.0"), metadata: { ...freight("1.1.0").metadata, creationTimestamp: new Date("2026-12-06T12:00:00Z") } };
    const t = { ...test, status: { currentFreight: { name: verified.metadata?.name ?? "", promotion: "p", promotedAt: "2026-12-06T11:00:00Z", verifiedAt: "2026-12-06T11:01:00Z" } } };
    const view = pipelineView({ project: "kargo-demo", stages: [prod, uat, t], freight: [verified, fresh], promotions: [],
      projectObject: { metadata: { name: "kargo-demo" }, spec: { promotionPolicies: [{ stage: "test", autoPromotionEnabled: true }] } } });
    expect(view.stages.map((s) => [s.name, s.autoPromotion, s.current?.alias, s.current?.verified, s.available.map((f) => f.alias)])).toEqual([
      ["test", true, "1.0.0", true, ["1.1.0"]],
      ["uat", false, undefined, undefined, ["1.0.0"]],
      ["prod", false, undefined, undefined, []],
    ]);
  });

  it.each([
    ["an alias", "1.0.0", true],
    ["a prefix of the name", freight("1.0.0").metadata?.name?.slice(0, 8) ?? "", true],
    ["nothing that exists", "9.9.9", false],
  ])("finds --freight by %s", (_title, id, found) => {
    expect(typeof resolveFreight([freight("1.0.0"), freight("1.1.0")], id) !== "string").toBe(found);
  });
});
