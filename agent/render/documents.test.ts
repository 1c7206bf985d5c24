import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { splitDocuments } from "./documents.ts";

const values = (text: string) => splitDocuments(text).flatMap((d) => parseAllDocuments(d.text).map((doc) => doc.toJS() as unknown));

describe("splitDocuments", () => {
  it.each([
    ["one document", "a: 1\n"],
    ["documents after a leading marker", "---\na: 1\n---\nb: 2\n"],
    ["documents without a leading marker", "a: 1\n---\nb: 2\n"],
    ["a comment before the first marker", "# generated\n---\na: 1\n--- # two\nb: 2\n"],
    ["a directive", "%YAML 1.2\n---\na: 1\n"],
    ["a block scalar holding dashes", "a: |\n  ---\n  x\n---\nb: 2\n"],
    ["a marker followed by a value", "--- a\n--- b\n"],
    ["an end marker", "a: 1\n...\n---\nb: 2\n"],
    ["dashes that are not a marker", "a: ----\nb: ---x\n"],
  ])("gives the documents the whole stream gives: %s", (_name, text) => {
    expect(values(text)).toEqual(parseAllDocuments(text).map((doc) => doc.toJS() as unknown));
  });

  it("knows the line each document starts on", () => {
    expect(splitDocuments("a: 1\n---\nb: 2\n\n---\nc: 3\n").map((d) => d.firstLine)).toEqual([1, 2, 5]);
  });
});
