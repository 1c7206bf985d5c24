import { describe, expect, it } from "vitest";
import { summarize, type Change } from "./changeset.ts";

const cm = (name: string, action: Change["action"], message?: string): Change =>
  ({ ref: { group: "", version: "v1", kind: "ConfigMap", namespace: "web", name }, action, ...(message ? { message } : {}) });

describe("summarize", () => {
  it("names every object of a small change set", () => {
    expect(summarize([cm("a", "created"), cm("b", "unchanged"), cm("c", "deleted")])).toBe("created ConfigMap/web/a, deleted ConfigMap/web/c");
    expect(summarize([cm("a", "unchanged")])).toBe("no changes");
  });

  it("names the first twenty of a large one, failures first, and counts the rest by action", () => {
    const changes = [...Array.from({ length: 4999 }, (_, i) => cm(`cm-${i}`, "created")), cm("bad", "failed", "HTTP 422")];
    const line = summarize(changes);
    expect(line.startsWith("failed ConfigMap/web/bad (HTTP 422), created ConfigMap/web/cm-0, ")).toBe(true);
    expect(line.endsWith(", and 4980 more (4980 created)")).toBe(true);
    expect(line.length).toBeLessThan(1000);
  });
});
