import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TSchema } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { applicationCrd } from "./crds.ts";
import { ApplicationSpecSchema, AppProjectSpecSchema, wire } from "./schema.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Every field path under a schema: `syncPolicy.retry.backoff.factor`. */
function fieldPaths(schema: TSchema, prefix = ""): string[] {
  const s = schema as { properties?: Record<string, TSchema>; items?: TSchema };
  if (s.items) return fieldPaths(s.items, prefix);
  return Object.entries(s.properties ?? {}).flatMap(([name, child]) => [`${prefix}${name}`, ...fieldPaths(child, `${prefix}${name}.`)]);
}

/** The product's own source (agent, cli, bootstrap), without tests and without the schema itself. */
function productSource(): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== "testdata") walk(p);
      else if (e.isFile() && p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith("schema.ts") && !p.endsWith("crds.ts")) files.push(p);
    }
  };
  for (const d of ["agent", "cli", "bootstrap"]) walk(path.join(root, d));
  return files.map((f) => readFileSync(f, "utf8")).join("\n");
}

/** A property read: `.name`, `?.name`, `{ name }`, `name:` in a literal, or `"name"` as a key. */
function isRead(source: string, field: string): boolean {
  const name = field.slice(field.lastIndexOf(".") + 1);
  return new RegExp(`\\.${name}\\b|[{,]\\s*${name}\\s*[,}=:]|["'\`]${name}["'\`]`).test(source);
}

describe("the API schema", () => {
  const source = productSource();

  it.each(fieldPaths(ApplicationSpecSchema).map((f) => [f]))("Application spec.%s is read by the code", (field) => {
    expect(isRead(source, field), `spec.${field} is in the CRD but nothing reads it: implement it or remove it`).toBe(true);
  });

  it.each(fieldPaths(AppProjectSpecSchema).map((f) => [f]))("AppProject spec.%s is read by the code", (field) => {
    expect(isRead(source, field), `spec.${field} is in the CRD but nothing reads it: implement it or remove it`).toBe(true);
  });

  it("finds a field nothing reads", () => {
    expect(isRead("const a = app.spec.source;", "syncPolicy.retry")).toBe(false);
    expect(isRead("const { retry } = policy;", "syncPolicy.retry")).toBe(true);
  });

  it("serialises literal unions as enums the API server accepts", () => {
    const text = JSON.stringify(applicationCrd);
    expect(text).not.toContain('"const"');
    expect(text).not.toContain('"anyOf"');
    expect(text).toContain('"enum":["Synced","OutOfSync","Unknown"]');
    expect(wire(ApplicationSpecSchema)).toMatchObject({ type: "object", required: ["destination"] });
  });
});
