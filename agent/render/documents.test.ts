import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { hasDuplicateKey, jsonDocument, splitDocuments } from "./documents.ts";

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

describe("jsonDocument: a document that is one JSON object skips the YAML parser", () => {
  const yamlValue = (text: string) => parseAllDocuments(text, { merge: true }).map((doc) => doc.toJS() as unknown)[0];
  it.each([
    ["a compact object", '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-0"},"data":{"VALUE":"0"}}\n'],
    ["an indented object", '{\n  "kind": "ConfigMap",\n  "data": { "a": "1", "b": "x: y" }\n}\n'],
    ["after a marker", '---\n{"kind":"ConfigMap","spec":{"replicas":3}}\n'],
    ["on the marker's line", '--- {"kind":"ConfigMap"}\n'],
    ["numbers, booleans, null and escapes", '{"a":1.5e3,"b":-2,"c":true,"d":null,"e":"\\u00e9\\n\\"q\\"","f":[1,{"g":[]}],"h":{},"i":0.1}'],
    ["a key spelled with an escape", '{"\\u0061":1,"b":2}'],
  ])("gives the value the YAML parser gives: %s", (_name, text) => {
    expect(jsonDocument(text)?.value).toEqual(yamlValue(text));
  });

  it.each([
    ["YAML", "kind: ConfigMap\n"],
    ["a comment before it", '# generated\n{"kind":"ConfigMap"}\n'],
    ["a comment after it", '{"kind":"ConfigMap"} # generated\n'],
    ["a JSON array", '[{"kind":"ConfigMap"}]'],
    ["a key twice", '{"kind":"ConfigMap","kind":"Secret"}'],
    ["a key twice, once spelled with an escape", '{"a":1,"\\u0061":2}'],
    ["a key twice in a nested object", '{"data":{"a":"1","b":{},"a":"2"}}'],
    ["a negative zero", '{"spec":{"replicas":-0}}'],
    ["a YAML flow mapping that is not JSON", "{kind: ConfigMap}"],
  ])("leaves %s to the YAML parser", (_name, text) => {
    expect(jsonDocument(text)).toBeUndefined();
  });

  it.each([
    ['{"a":{"b":1},"b":2}', false],
    ['{"a":[{"b":1},{"b":2}],"c":[{}, "d", "d"]}', false],
    ['{"a":"b","c":"a"}', false],
    ['{"a":[1,2],"x":{"y":{}},"a":3}', true],
    ['[{"a":1},{"a":1}]', false],
    ['{"a\\"b":1,"a\\"b":2}', true],
  ])("hasDuplicateKey(%s) is %s", (text, twice) => {
    expect(hasDuplicateKey(text)).toBe(twice);
  });
});
