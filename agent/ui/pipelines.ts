// The UI's promotion pipelines (agent/promote): the projects, one project's stages left to right with the
// Freight in each, and the Promote button. A promotion is authorised like a sync: Kubernetes callers need
// verb `promote` on the stage (`stages.tether.dev`, Kargo's own RBAC verb), SSO and project-token callers
// need Argo CD's `applications, sync` on every Application the stage syncs, since promoting syncs them.
import type { KubeConfig } from "@kubernetes/client-node";
import { GROUP } from "../api/types.ts";
import type { Stage } from "../api/promotion.ts";
import { PromotionClient } from "../promote/client.ts";
import { newPromotion } from "../promote/controller.ts";
import { eligibility } from "../promote/eligibility.ts";
import { appNamespaceOf } from "../promote/verify.ts";
import { pipelineView, type PipelineView } from "../promote/view.ts";
import type { SsoService } from "../sso/service.ts";
import { HttpError, type Access, type Identity } from "./auth.ts";

export interface PipelineRoutesOptions {
  readonly kc: KubeConfig;
  /** The agent namespace, where the stages' Applications live. */
  readonly namespace: string;
  readonly access: Access;
  readonly sso?: SsoService;
}

export interface PipelineRoutes {
  /** The promotion projects the caller may list. */
  list(who: Identity): Promise<{ name: string; stages: number }[]>;
  view(who: Identity, project: string): Promise<PipelineView>;
  /** Creates the Promotion; returns its name. 409 with the reason when the stage may not take that Freight. */
  promote(who: Identity, project: string, body: Record<string, unknown>): Promise<{ promotion: string; freight: string; stage: string }>;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function pipelineRoutes(opts: PipelineRoutesOptions): PipelineRoutes {
  const client = new PromotionClient(opts.kc, opts.namespace);
  const kube = (who: Identity, verb: string, resource: string, namespace?: string) =>
    (who.sso ? Promise.resolve() : opts.access.authorize(who, { verb, group: GROUP, resource, ...(namespace ? { namespace } : {}) }));

  const read = async (who: Identity, project: string) => {
    if (!NAME.test(project)) throw new HttpError(400, `${project} is not a project name`);
    await kube(who, "list", "stages", project);
    const objects = await client.project(project);
    if (!objects.project && objects.stages.length === 0) throw new HttpError(404, `promotion project ${project} not found`);
    // Argo CD's RBAC has no stages: an SSO caller sees a pipeline when it may get every Application it deploys.
    for (const stage of who.sso ? objects.stages : []) await authorizeApps(opts, who, stage, "get");
    return objects;
  };

  return {
    async list(who) {
      await kube(who, "list", "projects");
      const { projects, stages } = await client.snapshot();
      return projects.map((p) => ({ name: p.metadata?.name ?? "", stages: stages.filter((s) => s.metadata?.namespace === p.metadata?.name).length }));
    },
    async view(who, project) {
      const o = await read(who, project);
      return pipelineView({ project, stages: o.stages, freight: o.freight, promotions: o.promotions, ...(o.project ? { projectObject: o.project } : {}) });
    },
    async promote(who, project, body) {
      const stageName = typeof body.stage === "string" ? body.stage : "";
      const freightName = typeof body.freight === "string" ? body.freight : "";
      if (!stageName || !freightName) throw new HttpError(400, "pass {\"stage\": NAME, \"freight\": NAME}");
      const o = await read(who, project);
      const stage = o.stages.find((s) => s.metadata?.name === stageName);
      if (!stage) throw new HttpError(404, `stage ${stageName} not found in project ${project}`);
      await authorizePromote(opts, who, project, stage);
      const freight = o.freight.find((f) => f.metadata?.name === freightName);
      if (!freight) throw new HttpError(404, `Freight ${freightName} not found in project ${project}`);
      const ok = eligibility(stage, freight);
      if (!ok.ok) throw new HttpError(409, ok.reason);
      const promotion = newPromotion(stage, freightName, `user:${who.user}`);
      await client.createPromotion(promotion);
      await client.recordEvent({ ...promotion, kind: "Promotion" }, {
        type: "Normal", reason: "PromotionRequested", message: `${who.user} requested the promotion of Freight ${freightName} to stage ${stageName} through the UI`,
      }).catch(() => undefined);
      return { promotion: promotion.metadata?.name ?? "", freight: freightName, stage: stageName };
    },
  };
}

async function authorizePromote(opts: PipelineRoutesOptions, who: Identity, project: string, stage: Stage): Promise<void> {
  const stageName = stage.metadata?.name ?? "";
  if (!who.sso) {
    await opts.access.authorize(who, { verb: "promote", group: GROUP, resource: "stages", namespace: project, name: stageName });
    return;
  }
  await authorizeApps(opts, who, stage, "sync");
}

/** An SSO or project-token caller's Argo CD right (`applications, ACTION`) on every Application of the stage. */
async function authorizeApps(opts: PipelineRoutesOptions, who: Identity, stage: Stage, action: "get" | "sync"): Promise<void> {
  const stageName = stage.metadata?.name ?? "";
  const sso = opts.sso;
  if (!sso || !who.sso) throw new HttpError(403, `permission denied: applications, ${action}`);
  const apps = await new PromotionClient(opts.kc, opts.namespace).applications();
  for (const u of stage.spec.promotionMechanisms?.argoCDAppUpdates ?? []) {
    const app = apps.get(`${appNamespaceOf(u.appNamespace, opts.namespace)}/${u.appName}`);
    const object = `${app?.spec.project || "default"}/${u.appName}`;
    if (!app || !(await sso.allowed(who.sso, { resource: "applications", action, object }))) {
      throw new HttpError(403, `permission denied: applications, ${action}, ${object}, sub: ${who.user} (stage ${stageName} deploys it)`);
    }
  }
}
