import { describe, expect, it } from "vitest";
import type { Application, OperationState } from "../api/types.ts";
import { decide, emptyPruneRefusal, nextRun, operationsOf, pinnedToOperation, retryAfter, type DecisionInput, type EndedOperation } from "./decide.ts";

const auto = (prune: boolean, selfHeal: boolean) => ({ automated: { prune, selfHeal } });
const NOW = Date.parse("2026-12-06T06:00:00Z");
const failed = (o: Partial<EndedOperation> = {}): EndedOperation => ({ phase: "Failed", sameDesired: true, revision: "abc1234", message: "one or more objects failed to apply", retryCount: 0, finishedAt: NOW - 1000, ...o });
const succeeded = (o: Partial<EndedOperation> = {}): EndedOperation => ({ phase: "Succeeded", sameDesired: true, revision: "abc1234", retryCount: 0, finishedAt: NOW - 1000, ...o });
const retry = (limit: number) => ({ limit, backoff: { duration: "5s", factor: 2, maxDuration: "1m" } });

type Row = { name: string; input: Partial<DecisionInput>; expected: Record<string, unknown> };

describe("decide: Argo CD's auto-sync rules", () => {
  it.each<Row>([
    // Manual apps
    { name: "manual app, drift: nothing", input: { syncPolicy: undefined, outOfSync: true }, expected: { sync: false } },
    { name: "manual app, sync requested with prune", input: { syncPolicy: undefined, requested: { prune: true }, outOfSync: true }, expected: { sync: true, prune: true, fromRequest: true } },
    { name: "manual app, dry run requested: nothing applied, request cleared", input: { requested: { dryRun: true }, outOfSync: true }, expected: { sync: false, fromRequest: true } },
    { name: "a requested sync runs even at a revision whose sync failed", input: { syncPolicy: auto(true, false), requested: { prune: false }, outOfSync: true, last: failed() }, expected: { sync: true, prune: false } },
    { name: "a requested sync runs while suspended", input: { syncPolicy: auto(true, true), requested: {}, outOfSync: true, suspended: true }, expected: { sync: true, prune: false } },
    // An operation in progress is a lock
    { name: "running: it continues, whatever else changed", input: { syncPolicy: auto(true, true), running: { prune: true, isRequest: false }, outOfSync: true }, expected: { sync: true, continuing: true, prune: true } },
    { name: "running: a new request waits for it", input: { syncPolicy: auto(false, false), requested: { prune: true }, running: { prune: false, isRequest: false } },
      expected: { sync: true, continuing: true, prune: false, fromRequest: false, why: expect.stringMatching(/requested sync waits/) } },
    { name: "running the requested sync: the request ends with it", input: { requested: { prune: true }, running: { prune: true, isRequest: true } }, expected: { sync: true, continuing: true, fromRequest: true } },
    { name: "running while suspended: it still ends", input: { syncPolicy: auto(true, true), suspended: true, running: { prune: true, isRequest: false } }, expected: { sync: true, continuing: true } },
    // Automated: OutOfSync only
    { name: "automated, new revision out of sync: sync", input: { syncPolicy: auto(true, false), outOfSync: true, last: succeeded({ sameDesired: false }) }, expected: { sync: true, prune: true } },
    { name: "automated, first sync (no operation yet)", input: { syncPolicy: auto(false, false), outOfSync: true }, expected: { sync: true, prune: false } },
    { name: "automated, new commit that renders the same objects: nothing", input: { syncPolicy: auto(true, true), outOfSync: false, last: succeeded({ sameDesired: false }) }, expected: { sync: false, why: "in sync" } },
    { name: "automated, nothing new, nothing differs", input: { syncPolicy: auto(true, true), outOfSync: false, last: succeeded() }, expected: { sync: false } },
    { name: "automated without prune, only objects to prune: nothing", input: { syncPolicy: auto(false, true), outOfSync: true, pruneOnly: true }, expected: { sync: false } },
    { name: "automated with prune, only objects to prune: sync", input: { syncPolicy: auto(true, false), outOfSync: true, pruneOnly: true }, expected: { sync: true, prune: true } },
    { name: "automated but suspended, new revision", input: { syncPolicy: auto(true, true), outOfSync: true, suspended: true }, expected: { sync: false } },
    // selfHeal: drift at a revision already synced
    { name: "drift after a successful sync, selfHeal: sync", input: { syncPolicy: auto(true, true), outOfSync: true, last: succeeded() }, expected: { sync: true, why: expect.stringMatching(/selfHeal reverts/) } },
    { name: "drift after a successful sync, no selfHeal: nothing", input: { syncPolicy: auto(true, false), outOfSync: true, last: succeeded() }, expected: { sync: false } },
    // A failed revision is not repeated
    { name: "failed revision, no retry policy: SyncError, no sync", input: { syncPolicy: auto(true, true), outOfSync: true, last: failed() },
      expected: { sync: false, syncError: "Failed last sync attempt to abc1234: one or more objects failed to apply" } },
    { name: "failed revision, selfHeal does not repeat it either", input: { syncPolicy: auto(true, true), outOfSync: true, last: failed({ phase: "Error" }) }, expected: { sync: false, syncError: expect.stringMatching(/^Failed last sync attempt to abc1234/) } },
    { name: "failed revision, a new revision out of sync: sync", input: { syncPolicy: auto(true, false), outOfSync: true, last: failed({ sameDesired: false }) }, expected: { sync: true } },
    { name: "failed revision, retry allowed and its backoff over: retry 1", input: { syncPolicy: { ...auto(true, false), retry: retry(2) }, outOfSync: true, last: failed({ finishedAt: NOW - 6000 }) },
      expected: { sync: true, retryCount: 1 } },
    { name: "failed revision, retry allowed but backoff not over: wait", input: { syncPolicy: { ...auto(true, false), retry: retry(2) }, outOfSync: true, last: failed({ retryCount: 1, finishedAt: NOW - 6000 }) },
      expected: { sync: false, recheckAfterMs: 4000 } },
    { name: "failed revision, retries spent: SyncError", input: { syncPolicy: { ...auto(true, false), retry: retry(2) }, outOfSync: true, last: failed({ retryCount: 2 }) },
      expected: { sync: false, syncError: expect.stringMatching(/^Failed last sync attempt/), why: expect.stringMatching(/allows no more attempts/) } },
    { name: "failed revision, retry limit -1: retries forever", input: { syncPolicy: { ...auto(true, false), retry: retry(-1) }, outOfSync: true, last: failed({ retryCount: 40, finishedAt: 0 }) },
      expected: { sync: true, retryCount: 41 } },
  ])("$name", ({ input, expected }) => {
    expect(decide({ syncPolicy: undefined, requested: undefined, outOfSync: false, now: NOW, ...input })).toMatchObject(expected);
  });
});

describe("operationsOf: the operation record read from status", () => {
  const app = (state: OperationState, operation?: Application["operation"]): Application => ({
    apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "a" },
    spec: { destination: {}, syncPolicy: auto(true, false) }, status: { operationState: state }, ...(operation ? { operation } : {}),
  });
  const desired = { revision: "c2", revisions: ["c2"], renderKey: "k2" };

  it.each([
    { name: "an ended operation of the same render", state: { phase: "Failed" as const, syncResult: { revision: "c2", renderKey: "k2" } }, expected: { last: { sameDesired: true } } },
    { name: "an ended operation of another render at the same commit (the spec changed)", state: { phase: "Failed" as const, syncResult: { revision: "c2", renderKey: "k1" } }, expected: { last: { sameDesired: false } } },
    { name: "an old record without renderKey: by revision", state: { phase: "Succeeded" as const, syncResult: { revision: "c2" } }, expected: { last: { sameDesired: true } } },
    { name: "a running automated operation", state: { phase: "Running" as const, operation: { sync: { prune: true }, initiatedBy: { automated: true } } }, expected: { running: { prune: true, isRequest: false } } },
  ])("$name", ({ state, expected }) => {
    expect(operationsOf(app(state), desired)).toMatchObject(expected);
  });

  it("tells the request an operation runs from a new request written meanwhile", () => {
    const request = { sync: { prune: true }, initiatedBy: { username: "ana" } };
    const state = { phase: "Running" as const, operation: request };
    expect(operationsOf(app(state, request), desired).running?.isRequest).toBe(true);
    expect(operationsOf(app(state, { sync: { prune: false }, initiatedBy: { username: "bo" } }), desired).running?.isRequest).toBe(false);
  });
});

describe("pinnedToOperation", () => {
  const app = (state?: OperationState): Application => ({
    apiVersion: "tether.dev/v1alpha1", kind: "Application", metadata: { name: "a" }, spec: { destination: {} }, ...(state ? { status: { operationState: state } } : {}),
  });

  it.each([
    { name: "a running operation resolves at its revision", state: { phase: "Running" as const, syncResult: { revision: "c1" } }, expected: { revision: "c1" } },
    { name: "several sources: at its revisions", state: { phase: "Running" as const, syncResult: { revision: "c1", revisions: ["c1", "1.2.0"] } }, expected: { revisions: ["c1", "1.2.0"] } },
    { name: "an ended operation pins nothing", state: { phase: "Succeeded" as const, syncResult: { revision: "c1" } }, expected: undefined },
    { name: "no operation yet", state: undefined, expected: undefined },
  ])("$name", ({ state, expected }) => {
    expect(pinnedToOperation(app(state)).operation?.sync).toEqual(expected);
  });
});

describe("nextRun", () => {
  it.each([
    { name: "an operation waiting comes back soon", input: { phase: "Running" as const }, expected: { kind: "requeue", afterMs: 2000 } },
    { name: "a failed operation without retry is not retried by the queue", input: { phase: "Failed" as const }, expected: { kind: "done" } },
    { name: "a failed operation with retry: after its backoff", input: { phase: "Failed" as const, retry: { limit: 3, backoff: { duration: "2s" } }, retryCount: 1 }, expected: { kind: "retry", afterMs: 4000 } },
    { name: "a failed operation whose retries are spent", input: { phase: "Failed" as const, retry: { limit: 1 }, retryCount: 1 }, expected: { kind: "done" } },
    { name: "an operation that ended after several reconciles: compare with Git again at once", input: { phase: "Succeeded" as const, continued: true }, expected: { kind: "requeue", afterMs: 0 } },
    { name: "an operation done in one go", input: { phase: "Succeeded" as const }, expected: { kind: "done" } },
    { name: "no operation, a retry backoff running", input: { recheckAfterMs: 1500 }, expected: { kind: "requeue", afterMs: 1500 } },
  ])("$name", ({ input, expected }) => {
    expect(nextRun(input)).toEqual(expected);
  });
});

describe("retryAfter", () => {
  it.each([
    { policy: undefined, spent: 0, expected: undefined },
    { policy: { limit: 2 }, spent: 0, expected: 5000 },
    { policy: { limit: 2 }, spent: 1, expected: 10_000 },
    { policy: { limit: 2 }, spent: 2, expected: undefined },
    { policy: { limit: 0 }, spent: 0, expected: undefined },
  ])("policy $policy after $spent retries: $expected", ({ policy, spent, expected }) => {
    expect(retryAfter(policy, spent)).toBe(expected);
  });
});

describe("emptyPruneRefusal", () => {
  const sync = { sync: true, prune: true, why: "" };
  it.each([
    { name: "an empty render that would prune everything", input: { planned: 0, inventory: 3, decision: sync, allowEmpty: false }, refused: true },
    { name: "allowEmpty", input: { planned: 0, inventory: 3, decision: sync, allowEmpty: true }, refused: false },
    { name: "nothing to prune anyway", input: { planned: 0, inventory: 0, decision: sync, allowEmpty: false }, refused: false },
    { name: "no prune", input: { planned: 0, inventory: 3, decision: { ...sync, prune: false }, allowEmpty: false }, refused: false },
    { name: "objects rendered", input: { planned: 1, inventory: 3, decision: sync, allowEmpty: false }, refused: false },
  ])("$name", ({ input, refused }) => {
    const message = emptyPruneRefusal({ ...input, path: "apps/web", revision: "abcdef0123" });
    expect(message !== undefined).toBe(refused);
    if (message) expect(message).toBe("apps/web at abcdef0 rendered no objects; nothing was pruned. If the application really should be empty, set syncPolicy.automated.allowEmpty: true");
  });
});
