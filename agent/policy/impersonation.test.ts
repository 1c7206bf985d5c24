import { describe, expect, it } from "vitest";
import type { AppProject } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { impersonationFor } from "./impersonation.ts";

const IN_CLUSTER = "https://kubernetes.default.svc";
const project = (destinationServiceAccounts?: AppProject["spec"]["destinationServiceAccounts"]): AppProject => ({
  apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name: "team" },
  spec: { sourceRepos: ["*"], destinations: [{ server: "*", namespace: "*" }], ...(destinationServiceAccounts ? { destinationServiceAccounts } : {}) },
});

// Argo CD's documented example, in its order: the first match wins.
const accounts = project([
  { server: IN_CLUSTER, namespace: "guestbook", defaultServiceAccount: "guestbook-deployer" },
  { server: IN_CLUSTER, namespace: "guestbook-*", defaultServiceAccount: "tether-system:guestbook-all" },
  { server: "https://prod.example.com", namespace: "*", defaultServiceAccount: "prod:deployer" },
  { namespace: "*", defaultServiceAccount: "sync" },
]);

describe("impersonationFor", () => {
  it.each([
    ["an exact destination, SA in the destination namespace", IN_CLUSTER, "guestbook", "system:serviceaccount:guestbook:guestbook-deployer"],
    ["a namespace glob, SA named with its namespace", IN_CLUSTER, "guestbook-dev", "system:serviceaccount:tether-system:guestbook-all"],
    ["another server", "https://prod.example.com", "shop", "system:serviceaccount:prod:deployer"],
    ["the catch-all entry", IN_CLUSTER, "other", "system:serviceaccount:other:sync"],
  ])("picks the first matching entry: %s", (_name, server, namespace, user) => {
    expect(impersonationFor(accounts, { server, namespace })?.user).toBe(user);
  });

  it("uses the agent's own identity when the project lists no service accounts", () => {
    expect(impersonationFor(project(), { server: IN_CLUSTER, namespace: "x" })).toBeUndefined();
    expect(impersonationFor(project([]), { server: IN_CLUSTER, namespace: "x" })).toBeUndefined();
  });

  it.each([
    ["no entry matches", project([{ server: IN_CLUSTER, namespace: "a", defaultServiceAccount: "sa" }]), "b", /no entry of its destinationServiceAccounts matches/],
    ["the SA needs a namespace the app does not have", project([{ namespace: "*", defaultServiceAccount: "sa" }]), "", /has no namespace/],
    ["the SA name is not valid", project([{ namespace: "*", defaultServiceAccount: "ns:Bad_Name" }]), "x", /not a valid ServiceAccount name/],
  ])("refuses, never falling back to the agent's identity, when %s", (_name, proj, namespace, message) => {
    const run = () => impersonationFor(proj, { server: IN_CLUSTER, namespace });
    expect(run).toThrow(TetherError);
    expect(run).toThrow(message);
  });
});
