import { describe, expect, it } from "vitest";
import type { Freight, Promotion, PromotionProject, Stage, StageHistoryEntry } from "../api/promotion.ts";
import type { Application } from "../api/types.ts";
import { autoPromotion, availableFreight, eligibility } from "./eligibility.ts";
import { aliasOf, freightName, freightOf } from "./freight.ts";
import { stageHealth } from "./verify.ts";

const NGINX = "127.0.0.1:5000/nginx";
const img = (tag: string, digest = `sha256:${tag.replace(/\./g, "")}`) => ({ repoURL: NGINX, tag, digest });

function freight(tag: string, o: { verifiedIn?: string[]; approvedFor?: string[]; created?: string; warehouse?: string } = {}): Freight {
  const f = freightOf(o.warehouse ?? "kargo-demo", "kargo-demo", [img(tag)]);
  return {
    ...f, metadata: { ...f.metadata, creationTimestamp: new Date(o.created ?? "2026-12-06T10:00:00Z") },
    status: {
      ...(o.verifiedIn ? { verifiedIn: Object.fromEntries(o.verifiedIn.map((s) => [s, {}])) } : {}),
      ...(o.approvedFor ? { approvedFor: Object.fromEntries(o.approvedFor.map((s) => [s, {}])) } : {}),
    },
  };
}

const stage = (name: string, subscriptions: Stage["spec"]["subscriptions"], current?: string): Stage => ({
  apiVersion: "tether.dev/v1alpha1", kind: "Stage", metadata: { name, namespace: "kargo-demo" },
  spec: {
    subscriptions,
    promotionMechanisms: {
      gitRepoUpdates: [{ repoURL: "https://git.example/gitops.git", writeBranch: `stage/${name}`, kustomize: { images: [{ image: NGINX, path: `stages/${name}` }] } }],
      argoCDAppUpdates: [{ appName: `kargo-demo-${name}`, appNamespace: "argocd" }],
    },
  },
  ...(current ? { status: { currentFreight: { name: current, promotion: "p", promotedAt: "2026-12-06T10:00:00Z" } } } : {}),
});
const test = stage("test", { warehouse: "kargo-demo" });
const uat = stage("uat", { upstreamStages: [{ name: "test" }] });

describe("freight names", () => {
  it.each([
    ["the same images in any order make the same name", [img("1.0.0"), { repoURL: "r/redis", tag: "7" }], [{ repoURL: "r/redis", tag: "7" }, img("1.0.0")], true],
    ["another tag makes another name", [img("1.0.0")], [img("1.0.1")], false],
    ["a tag moved to another digest makes another name", [img("1.0.0", "sha256:a")], [img("1.0.0", "sha256:b")], false],
  ])("%s", (_title, a, b, same) => {
    expect(freightName(a) === freightName(b)).toBe(same);
    expect(freightName(a)).toMatch(/^[0-9a-f]{40}$/);
  });

  it("names Freight after its content and labels it with its tags", () => {
    const f = freightOf("kargo-demo", "kargo-demo", [img("1.25.3")]);
    expect(f.metadata?.name).toBe(freightName([img("1.25.3")]));
    expect(f.alias).toBe("1.25.3");
    expect(aliasOf([img("1.0.0"), { repoURL: "r/redis", tag: "7" }])).toBe("nginx:1.0.0 redis:7");
  });
});

describe("eligibility", () => {
  it.each([
    ["a warehouse stage takes its warehouse's freight", test, freight("1.0.0"), true, ""],
    ["a warehouse stage refuses another warehouse's freight", test, freight("1.0.0", { warehouse: "other" }), false,
      "comes from Warehouse other, but Stage test takes Freight from Warehouse kargo-demo"],
    ["a downstream stage refuses freight its upstream has not verified", uat, freight("1.0.0"), false,
      "is not verified in upstream Stage test (it is verified in no Stage yet); promote it to test"],
    ["a downstream stage refuses freight verified elsewhere only", uat, freight("1.0.0", { verifiedIn: ["prod"] }), false, "verified in prod only"],
    ["a downstream stage takes freight its upstream verified", uat, freight("1.0.0", { verifiedIn: ["test"] }), true, ""],
    ["a downstream stage takes freight approved for it", uat, freight("1.0.0", { approvedFor: ["uat"] }), true, ""],
    ["a stage without subscriptions takes nothing", stage("x", {}), freight("1.0.0"), false, "has no subscriptions: set spec.subscriptions.warehouse"],
  ].map(([title, s, f, ok, reason]) => ({ title, s: s as Stage, f: f as Freight, ok, reason })))("$title", ({ s, f, ok, reason }) => {
    const result = eligibility(s, f);
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it("lists what a stage may take, newest first", () => {
    const all = [freight("1.0.0", { verifiedIn: ["test"], created: "2026-12-06T10:00:00Z" }), freight("1.1.0", { created: "2026-12-06T11:00:00Z" }),
      freight("1.0.1", { verifiedIn: ["test"], created: "2026-12-06T10:30:00Z" })];
    expect(availableFreight(uat, all).map((f) => f.alias)).toEqual(["1.0.1", "1.0.0"]);
    expect(availableFreight(test, all).map((f) => f.alias)).toEqual(["1.1.0", "1.0.1", "1.0.0"]);
  });
});

describe("auto-promotion", () => {
  const project = (auto: boolean): PromotionProject => ({ metadata: { name: "kargo-demo" }, spec: { promotionPolicies: [{ stage: "test", autoPromotionEnabled: auto }] } });
  const newest = freight("1.1.0", { created: "2026-12-06T11:00:00Z" });
  const older = freight("1.0.0");
  const promo = (f: Freight, phase: NonNullable<Promotion["status"]>["phase"], s = "test"): Promotion =>
    ({ metadata: { name: `${s}.x` }, spec: { stage: s, freight: f.metadata?.name ?? "" }, status: { phase } });
  it.each([
    ["promotes the newest freight when the project allows it", project(true), test, [], "promote", ""],
    ["does nothing when the project does not allow it", project(false), test, [], "skip", "auto-promotion is off for Stage test in Project kargo-demo"],
    ["does nothing without a policy for the stage", project(true), uat, [], "skip", "auto-promotion is off for Stage uat"],
    ["does nothing when the stage has the newest freight", project(true), stage("test", { warehouse: "kargo-demo" }, newest.metadata?.name), [], "skip", "has the newest Freight"],
    ["waits while a promotion of the stage runs", project(true), test, [promo(older, "Running")], "skip", "is under way"],
    ["does not repeat a failed promotion of the same freight", project(true), test, [promo(newest, "Failed")], "skip", "was promoted to Stage test before"],
    ["is not held back by another stage's promotion", project(true), test, [promo(newest, "Running", "uat")], "promote", ""],
  ].map(([title, p, s, promotions, outcome, reason]) => ({ title, p: p as PromotionProject, s: s as Stage, promotions: promotions as Promotion[], outcome, reason })))(
    "$title", ({ p, s, promotions, outcome, reason }) => {
    const decision = autoPromotion(p, s, [older, newest], promotions);
    if (outcome === "promote") expect(decision).toEqual({ promote: newest });
    else expect((decision as { skip: string }).skip).toContain(reason);
    });
});

describe("verification", () => {
  const promotedAt = "2026-12-06T10:00:00.000Z";
  const current: StageHistoryEntry = { name: "f", promotion: "test.f", promotedAt, commits: [{ repoURL: "https://git.example/gitops", branch: "stage/test", id: "c2" }] };
  const app = (sync: string, health: string, revision: string, o: { startedAt?: string; targetRevision?: string } = {}): Application => ({
    metadata: { name: "kargo-demo-test", namespace: "tether-system" },
    spec: { source: { repoURL: "https://git.example/gitops.git", targetRevision: o.targetRevision ?? "stage/test", path: "stages/test" }, destination: {} },
    status: {
      sync: { status: sync as "Synced", revision }, health: { status: health as "Healthy" },
      operationState: { phase: "Succeeded", startedAt: o.startedAt ?? "2026-12-06T10:00:05.000Z" },
    },
  });
  const apps = (a?: Application) => new Map(a ? [["tether-system/kargo-demo-test", a]] : []);
  it.each([
    ["verified when its app is Synced and Healthy at the promoted commit", app("Synced", "Healthy", "c2"), "Healthy", true],
    ["not verified while the app runs the previous commit", app("Synced", "Healthy", "c1"), "Progressing", false],
    ["not verified while the app is OutOfSync", app("OutOfSync", "Healthy", "c2"), "Progressing", false],
    ["not verified while the app is Progressing", app("Synced", "Progressing", "c2"), "Progressing", false],
    ["unhealthy when the app is Degraded", app("Synced", "Degraded", "c2"), "Unhealthy", false],
    ["not verified by a sync that ran before the promotion", app("Synced", "Healthy", "c2", { startedAt: "2026-12-06T09:59:00.000Z" }), "Progressing", false],
    ["an app on another branch counts when Synced and Healthy after the promotion", app("Synced", "Healthy", "zz", { targetRevision: "main" }), "Healthy", true],
    ["unhealthy when the app does not exist", undefined, "Unhealthy", false],
  ])("%s", (_title, a, status, verified) => {
    const result = stageHealth(test, current, apps(a), "tether-system");
    expect(result.health.status).toBe(status);
    expect(result.verified).toBe(verified);
  });

  it("names a missing Application and the fix", () => {
    expect(stageHealth(test, current, apps(), "tether-system").health.issues).toEqual([
      "Application tether-system/kargo-demo-test (argoCDAppUpdates) not found; create it or fix appName",
    ]);
  });
});
