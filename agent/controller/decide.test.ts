import { describe, expect, it } from "vitest";
import { decide } from "./decide.ts";

const auto = (prune: boolean, selfHeal: boolean) => ({ automated: { prune, selfHeal } });

describe("decide", () => {
  it.each([
    { name: "manual app, drift", syncPolicy: undefined, operation: undefined, outOfSync: true, newDesired: false, expected: { sync: false, prune: false } },
    { name: "manual app, new commit", syncPolicy: undefined, operation: undefined, outOfSync: true, newDesired: true, expected: { sync: false, prune: false } },
    { name: "manual app, sync requested with prune", syncPolicy: undefined, operation: { prune: true }, outOfSync: true, newDesired: false, expected: { sync: true, prune: true } },
    { name: "manual app, dry-run requested", syncPolicy: undefined, operation: { dryRun: true }, outOfSync: true, newDesired: false, expected: { sync: false, prune: false } },
    { name: "automated, new commit", syncPolicy: auto(true, false), operation: undefined, outOfSync: true, newDesired: true, expected: { sync: true, prune: true } },
    { name: "automated, new commit that changes nothing live", syncPolicy: auto(false, false), operation: undefined, outOfSync: false, newDesired: true, expected: { sync: true, prune: false } },
    { name: "automated without selfHeal, drift only", syncPolicy: auto(true, false), operation: undefined, outOfSync: true, newDesired: false, expected: { sync: false, prune: true } },
    { name: "automated with selfHeal, drift only", syncPolicy: auto(true, true), operation: undefined, outOfSync: true, newDesired: false, expected: { sync: true, prune: true } },
    { name: "automated, nothing new, nothing differs", syncPolicy: auto(true, true), operation: undefined, outOfSync: false, newDesired: false, expected: { sync: false, prune: true } },
    { name: "automated prune, sync requested without prune", syncPolicy: auto(true, true), operation: { prune: false }, outOfSync: true, newDesired: false, expected: { sync: true, prune: false } },
    { name: "automated, retries of this revision exhausted", syncPolicy: auto(true, true), operation: undefined, outOfSync: true, newDesired: true, retriesExhausted: true, expected: { sync: false, prune: true } },
    { name: "retries exhausted, sync requested by hand", syncPolicy: auto(true, true), operation: { prune: true }, outOfSync: true, newDesired: true, retriesExhausted: true, expected: { sync: true, prune: true } },
    { name: "automated but suspended, new commit", syncPolicy: auto(true, true), operation: undefined, outOfSync: true, newDesired: true, suspended: true, expected: { sync: false, prune: true } },
    { name: "suspended, sync requested by hand", syncPolicy: auto(true, true), operation: { prune: false }, outOfSync: true, newDesired: true, suspended: true, expected: { sync: true, prune: false } },
  ])("$name", ({ syncPolicy, operation, outOfSync, newDesired, retriesExhausted, suspended, expected }) => {
    expect(decide({ syncPolicy, operation, outOfSync, newDesired, retriesExhausted, suspended })).toMatchObject(expected);
  });
});
