// `tether health`: assess objects offline with exactly the agent's health rules, to test a tether-cm
// customization the way Argo CD's health_test.yaml does.
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { EXIT, UsageError } from "../errors.ts";
import { serialize, table } from "../output.ts";
import { assess, type AssessOutput } from "./assess.ts";

interface Flags {
  readonly file: string[];
  readonly lua?: string;
  readonly useOpenLibs?: boolean;
  readonly config?: string;
  readonly output: "json" | "yaml" | "text";
}

const EXAMPLES = `
Rules, first match wins (as the agent): a Lua check in tether-cm (resource.customizations.health.<group>_<kind>),
a CEL check (resource.customizations.healthCEL.<group>_<kind>), the built-in check of the kind, then the
generic rule (Ready/Available/Stalled conditions, observedGeneration).

Exit codes: 0 every object is Healthy; 1 some object is not (the output says which and why);
2 a usage error (a file that cannot be read, a document without apiVersion and kind).

Examples:
  tether health -f certificate.yaml
  tether health -f rollout.yaml -f analysisrun.yaml -o text
  tether health -f testdata/degraded.yaml --lua health.lua -o json
  tether health -f widget.yaml --config tether-cm.yaml -o yaml
  kubectl get certificates -A -o yaml | tether health -f - -o text`;

export function healthCommand(): Command {
  return new Command("health")
    .description("Assess the health of objects from files offline, with exactly the agent's rules and tether-cm's customizations")
    .requiredOption("-f, --file <file>", "a YAML or JSON file of objects (several documents, a List); - for stdin; repeatable",
      (value: string, all: string[] = []) => [...all, value])
    .option("--lua <file>", "a health.lua that judges every object given, as if set in tether-cm for its kind")
    .option("--use-open-libs", "give the --lua script the open libraries (resource.customizations.useOpenLibs)")
    .option("--config <file>", "a tether-cm ConfigMap whose resource.customizations.* the agent would use")
    .addOption(new Option("-o, --output <format>", "json, yaml or text").choices(["json", "yaml", "text"]).default("text"))
    .addHelpText("after", EXAMPLES)
    .action((flags: Flags) => {
      const out = assess({
        files: flags.file.map((name) => ({ name, text: read(name) })),
        ...(flags.config ? { config: { name: flags.config, text: read(flags.config) } } : {}),
        ...(flags.lua ? { lua: read(flags.lua), openLibs: flags.useOpenLibs ?? false } : {}),
      });
      for (const p of out.problems) process.stderr.write(`warning: ${flags.config ?? "config"}: ${p.key}: ${p.message}\n`);
      process.stdout.write(render(out, flags.output));
      if (out.verdicts.some((v) => v.status !== "Healthy")) process.exitCode = EXIT.failed;
    });
}

function read(name: string): string {
  try {
    return readFileSync(name === "-" ? 0 : name, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${name}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
}

function render(out: AssessOutput, format: Flags["output"]): string {
  const plain = out.verdicts.map(({ rule: _rule, ...v }) => v);
  if (format !== "text") return serialize(plain, format);
  return table(["KIND", "NAME", "STATUS", "RULE", "MESSAGE"], out.verdicts.map((v) => [v.kind, v.name, v.status, v.rule, v.message ?? ""]));
}
