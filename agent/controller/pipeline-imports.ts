// Which modules may call the render entry points, the build stage and the impersonation rule: only
// the pipeline (controller/pipeline.ts) and the stages it is made of. Pure; pipeline-imports.test.ts
// runs it over every source file.

/** Value imports only the pipeline may take, by the module path they come from (its last segments). */
const GUARDED: readonly { readonly from: RegExp; readonly names: ReadonlySet<string> }[] = [
  {
    from: /(^|\/)render\/(index|application|sources|directory|kustomize|helm|chart|jsonnet)\.ts$/,
    names: new Set(["renderApplication", "renderSources", "resolveSources", "renderDirectory", "renderKustomize", "renderHelm", "renderChart"]),
  },
  { from: /(^|\/)controller\/build\.ts$/, names: new Set(["build", "resolveRevisions"]) },
  { from: /(^|\/)policy\/impersonation\.ts$/, names: new Set(["impersonationFor"]) },
];

/** Files allowed to take them: the pipeline, the stages it wires, and the render stage's own modules. */
const ALLOWED = [/^agent\/controller\/pipeline\.ts$/, /^agent\/controller\/build\.ts$/, /^agent\/render\//, /^agent\/policy\//];

const IMPORT = /import\s+(type\s+)?\{([^}]*)\}\s+from\s+"([^"]+)"/g;

/** `file: name` for each guarded name `file` imports around the pipeline; `[]` when it keeps to it. */
export function forbiddenImports(file: string, text: string): string[] {
  if (ALLOWED.some((a) => a.test(file))) return [];
  const found: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    if (m[1]) continue;
    const guard = GUARDED.find((g) => g.from.test(m[3] ?? ""));
    if (!guard) continue;
    for (const spec of (m[2] ?? "").split(",")) {
      const name = spec.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0]?.trim() ?? "";
      if (!spec.trim().startsWith("type ") && guard.names.has(name)) found.push(`${file}: ${name}`);
    }
  }
  return found;
}
