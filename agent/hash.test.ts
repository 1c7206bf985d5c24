import { describe, expect, it } from "vitest";
import { stableHash, stableStringify } from "./hash.ts";

describe("stableHash", () => {
  it("is the same for the same content in another key order", () => {
    expect(stableHash({ a: 1, b: { c: [1, { d: 2, e: 3 }] } })).toBe(stableHash({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }));
  });

  it("differs when a value differs, however deep", () => {
    expect(stableHash({ helm: { releaseName: "a" } })).not.toBe(stableHash({ helm: { releaseName: "b" } }));
  });

  it("leaves undefined members out, as JSON does", () => {
    expect(stableStringify({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(stableStringify([undefined])).toBe("[null]");
  });
});
