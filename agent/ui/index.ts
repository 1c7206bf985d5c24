// The web UI stage: a JSON API, live updates and the built frontend, mounted by agent/server.ts. See README.md.
import type { DiffSettings } from "../diff/settings.ts";
import os from "node:os";
import path from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeHttp } from "../apply/http.ts";
import { uiRoutes, type UiRoutes } from "./api.ts";
import { kubeAccess } from "./auth.ts";
import { TetherClient } from "../api/client.ts";
import { SsoService } from "../sso/service.ts";
import type { RenderLimits } from "../render/limits.ts";
import type { FetchLimits } from "../source/limits.ts";
import type { TetherSettings } from "../settings/index.ts";

export { uiRoutes, type UiOptions, type UiRoutes } from "./api.ts";
export { kubeAccess, localAccess, metricsAccess, randomToken, type Access, type Identity } from "./auth.ts";

/** The agent's UI: callers bring a bearer token the cluster accepts; the agent's credentials act once RBAC allows. */
export function agentUi(opts: {
  readonly kc: KubeConfig; readonly namespace: string; readonly cacheDir?: string; readonly log?: (line: string) => void;
  readonly allowLocalRepos: boolean; readonly renderLimits?: RenderLimits; readonly fetchLimits?: FetchLimits;
  readonly diffSettings?: () => DiffSettings;
  /** tether-cm's data as the agent's settings watch holds it (`url`, `oidc.config` for SSO). */
  readonly settings: () => Readonly<Record<string, string>>;
  /** The same, parsed: its Lua resource actions. */
  readonly customizations?: () => TetherSettings;
}): UiRoutes {
  const http = new KubeHttp(opts.kc);
  return uiRoutes({
    kc: opts.kc, namespace: opts.namespace, access: kubeAccess(http), allowLocalRepos: opts.allowLocalRepos, prefetch: true,
    sso: new SsoService({ http, client: new TetherClient(opts.kc, opts.namespace), namespace: opts.namespace, tetherCm: opts.settings }),
    ...(opts.renderLimits ? { renderLimits: opts.renderLimits } : {}), ...(opts.fetchLimits ? { fetchLimits: opts.fetchLimits } : {}),
    cacheDir: path.join(opts.cacheDir ?? path.join(os.tmpdir(), `tether-agent-${process.pid}`), "ui-diff"),
    ...(opts.log ? { log: opts.log } : {}), ...(opts.diffSettings ? { diffSettings: opts.diffSettings } : {}),
    ...(opts.customizations ? { customizations: opts.customizations } : {}),
  });
}
