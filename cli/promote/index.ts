// `tether promote PROJECT STAGE [--freight ID]` and `tether promote status PROJECT`: Kargo's promotion
// through the agent's promotion controller (agent/promote). A promotion is a Promotion object; the agent
// carries it out, this command waits for the outcome.
import { Command, Option } from "commander";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Promotion } from "../../agent/api/promotion.ts";
import { DEFAULT_NAMESPACE } from "../../agent/api/types.ts";
import { EXIT, NotFoundError, TimeoutError, UsageError } from "../errors.ts";
import { kubeOptions, loadKubeConfig, withCluster, type KubeFlags } from "../kube.ts";
import { parseDuration, parseFormat, serialize } from "../output.ts";
import { pipelineTable } from "./view.ts";

type PromoteFlags = KubeFlags & { freight?: string; wait: boolean; timeout: string };

async function promotionClient(flags: KubeFlags): Promise<{ kc: KubeConfig; c: import("../../agent/promote/client.ts").PromotionClient }> {
  const kc = loadKubeConfig(flags);
  const { PromotionClient } = await import("../../agent/promote/client.ts");
  return { kc, c: new PromotionClient(kc, flags.namespace ?? DEFAULT_NAMESPACE) };
}

async function readProject(flags: KubeFlags, project: string) {
  const { kc, c } = await promotionClient(flags);
  const objects = await withCluster(kc, () => c.project(project));
  if (!objects.project && objects.stages.length === 0) {
    throw new NotFoundError(`project ${project} not found: no Project ${project} and no Stages in namespace ${project}; apply the project's manifests (kind: Project, Warehouse, Stage) first`);
  }
  return { kc, c, objects };
}

export function promoteCommand(): Command {
  const cmd = kubeOptions(new Command("promote")
    .description("Promote Freight to a stage of a promotion project (Kargo's Warehouse → Freight → Stage), and show the pipeline")
    .argument("[project]", "the promotion project (Kargo's Project: the namespace of its Warehouses and Stages)")
    .argument("[stage]", "the stage to promote to")
    .option("--freight <id>", "the Freight to promote: its name, a unique prefix of it, or its alias (the image tag); default the newest the stage may take")
    .option("--no-wait", "return once the Promotion is created, without waiting for it to finish")
    .option("--timeout <duration>", "how long to wait for the Promotion", "2m"), "the agent namespace (where the stages' Applications live)")
    .addHelpText("after", `
A stage takes Freight straight from its Warehouse (spec.subscriptions.warehouse), or only Freight its
upstream stage verified: the upstream stage's Applications were Synced and Healthy at the promoted
revision. Anything else is refused, naming the stage that has not verified it, and nothing is written.
The promotion commits the image to the stage's branch (gitRepoUpdates) and syncs its Applications
(argoCDAppUpdates). Exit codes: 0 promoted, 1 refused or failed, 3 no such project, stage or Freight, 4 timeout.

Examples:
  tether promote kargo-demo test                     # the newest Freight of the Warehouse
  tether promote kargo-demo uat --freight 1.25.3     # by alias (the tag)
  tether promote kargo-demo prod --freight 3f2a9c1   # by name prefix
  tether promote status kargo-demo`)
    .action(async (project: string | undefined, stage: string | undefined, flags: PromoteFlags) => {
      if (!project || !stage) throw new UsageError("tether promote needs PROJECT and STAGE (or `tether promote status PROJECT`); see `tether promote --help`");
      await promote(project, stage, flags);
    });

  kubeOptions(cmd.command("status <project>").description("Show a promotion project's pipeline: each stage's Freight, health, what it may take next"),
    "the agent namespace")
    .addOption(new Option("-o, --output <format>", "table, json or yaml").default("table"))
    .addHelpText("after", "\nExamples:\n  tether promote status kargo-demo\n  tether promote status kargo-demo -o json | jq '.stages[] | {name, freight: .current.alias}'")
    .action(async (project: string, flags: KubeFlags & { output?: string }) => {
      const format = parseFormat(flags.output, ["table", "json", "yaml"]);
      const { objects } = await readProject(flags, project);
      const { pipelineView } = await import("../../agent/promote/view.ts");
      const view = pipelineView({
        project, stages: objects.stages, freight: objects.freight, promotions: objects.promotions,
        ...(objects.project ? { projectObject: objects.project } : {}),
      });
      process.stdout.write(format === "json" || format === "yaml" ? serialize(view, format) : pipelineTable(view));
    });
  return cmd;
}

async function promote(project: string, stageName: string, flags: PromoteFlags): Promise<void> {
  const timeoutMs = parseDuration(flags.timeout, "--timeout");
  const { kc, c, objects } = await readProject(flags, project);
  const { eligibility, availableFreight } = await import("../../agent/promote/eligibility.ts");
  const { resolveFreight } = await import("../../agent/promote/view.ts");
  const { newPromotion } = await import("../../agent/promote/controller.ts");
  const stage = objects.stages.find((s) => s.metadata?.name === stageName);
  if (!stage) {
    throw new NotFoundError(`stage ${stageName} not found in project ${project} (stages: ${objects.stages.map((s) => s.metadata?.name).join(", ") || "none"})`);
  }
  let freight;
  if (flags.freight) {
    const found = resolveFreight(objects.freight, flags.freight);
    if (typeof found === "string") throw new NotFoundError(found.replace("PROJECT", project));
    freight = found;
  } else {
    freight = availableFreight(stage, objects.freight)[0];
    if (!freight) throw new NotFoundError(`no Freight is available to stage ${stageName}: ${stage.spec.subscriptions.warehouse ? `Warehouse ${stage.spec.subscriptions.warehouse} has made none yet` : "its upstream stages have verified none yet"}; see \`tether promote status ${project}\``);
  }
  // Refused here, before anything is created; the agent checks again when it runs the Promotion.
  const ok = eligibility(stage, freight);
  if (!ok.ok) {
    process.stderr.write(`refused: ${ok.reason}\n`);
    process.exitCode = EXIT.failed;
    return;
  }
  const user = kc.getCurrentUser()?.name ?? process.env.USER ?? "tether-cli";
  const promotion = newPromotion(stage, freight.metadata?.name ?? "", `user:${user}`);
  await withCluster(kc, () => c.createPromotion(promotion));
  const name = promotion.metadata?.name ?? "";
  process.stdout.write(`Promotion ${project}/${name}: Freight ${freight.metadata?.name ?? ""} (${freight.alias ?? ""}) to stage ${stageName}\n`);
  if (!flags.wait) return;
  const done = await waitForPromotion(kc, () => c.getPromotion(project, name), timeoutMs);
  process.stdout.write(`${done.status?.phase ?? "Unknown"}: ${done.status?.message ?? ""}\n`);
  if (done.status?.phase !== "Succeeded") process.exitCode = EXIT.failed;
}

async function waitForPromotion(kc: KubeConfig, get: () => Promise<Promotion>, timeoutMs: number): Promise<Promotion> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await withCluster(kc, get);
    const phase = p.status?.phase;
    if (phase === "Succeeded" || phase === "Failed" || phase === "Errored") return p;
    if (Date.now() > deadline) {
      throw new TimeoutError(`timed out after ${timeoutMs / 1000}s waiting for Promotion ${p.metadata?.name ?? ""} (${phase ?? "Pending"}: ${p.status?.message ?? "not taken yet"}); is \`tether agent\` running?`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
