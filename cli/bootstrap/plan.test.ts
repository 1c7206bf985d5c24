import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { bootstrapManifests } from "../../bootstrap/manifests.ts";
import { ageIdentities, bootstrapOptions, dryRunText, type BootstrapFlags } from "./plan.ts";

const KEY = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
const FLAGS: BootstrapFlags = {
  repo: "https://git.example.com/platform/gitops.git", path: "components", revision: "main", namespace: "tether-system",
  image: "tether:0.1.0", pollInterval: "60s", replicas: "2", clusterRole: "cluster-admin", rootName: "root",
};

describe("tether bootstrap's plan", () => {
  it("takes the identity out of an age-keygen file and drops its comments", () => {
    expect(ageIdentities(`# created: 2026-01-01T00:00:00Z\n# public key: age1xyz\n${KEY}\n`, "key.txt")).toBe(KEY);
  });

  it("refuses a key file without an identity, naming the file and how to make one", () => {
    expect(() => ageIdentities("age1publickeyonly\n", "pub.txt")).toThrow(/--age-key-file pub.txt: no age identity.*tether secret keygen/);
  });

  it.each([
    [{ repo: "gitops" }, /--repo gitops: expected a Git URL/],
    [{ repo: "https://git:token@git.example.com/x.git" }, /carries a password/],
    [{ replicas: "0" }, /--replicas 0: expected a whole number/],
    [{ path: "../elsewhere" }, /--path \.\.\/elsewhere: expected a directory inside the repository/],
  ])("refuses %j with a message naming the flag", (change, message) => {
    expect(() => bootstrapOptions({ ...FLAGS, ...change }, undefined)).toThrow(message);
  });

  it("accepts the URL forms the agent clones", () => {
    for (const repo of ["https://h/x.git", "ssh://git@h/x.git", "git@h:org/x.git", "file:///srv/git/x"]) {
      expect(bootstrapOptions({ ...FLAGS, repo }, undefined).root.repoURL).toBe(repo);
    }
  });

  it("prints every object for --dry-run with the Secret's keys but never its values", () => {
    const objects = bootstrapManifests(bootstrapOptions(FLAGS, KEY));
    const text = dryRunText(objects);
    expect(text).not.toContain(Buffer.from(KEY).toString("base64").slice(0, 20));
    expect(text).not.toContain(KEY);
    const docs = text.split(/^---\n/m).filter(Boolean).map((d) => parse(d) as { kind: string; data?: Record<string, string> });
    expect(docs.map((d) => d.kind)).toEqual(objects.map((o) => o.kind));
    expect(docs.find((d) => d.kind === "Secret")?.data).toEqual({ "identity.agekey": "<masked>" });
  });
});
