// `tether project role ...` (alias `tether proj role`): project role tokens for CI, as `argocd proj role`.
// A token is a JWT the agent's key signs (Secret tether-server-key, read with the kubeconfig); what it may
// do is its role's policies in the AppProject; it is valid while listed in the project's
// status.jwtTokensByRole (where create-token records it), so delete-token refuses it at once.
import { randomBytes } from "node:crypto";
import { Command, Option } from "commander";
import { GROUP, VERSION, type AppProject, type JwtToken } from "../../agent/api/types.ts";
import { KubeApiError, KubeHttp, pathSegment } from "../../agent/apply/http.ts";
import { loadOrCreateKeys, signProjectToken } from "../../agent/rbac/tokens.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import { kubeOptions, loadKubeConfig, withCluster, type KubeFlags } from "../kube.ts";
import { parseDuration, parseFormat, serialize, table } from "../output.ts";

type Flags = KubeFlags & { output?: string };

const projectPath = (namespace: string, name: string) =>
  `/apis/${GROUP}/${VERSION}/namespaces/${pathSegment(namespace)}/appprojects/${pathSegment(name, "project")}`;

async function readProject(http: KubeHttp, namespace: string, name: string): Promise<AppProject> {
  try {
    return await http.ok("GET", projectPath(namespace, name)) as AppProject;
  } catch (err) {
    if (err instanceof KubeApiError && err.code === 404) throw new NotFoundError(`AppProject ${name} not found in namespace ${namespace}: check the name (tether project list)`);
    throw err;
  }
}

function roleOf(project: AppProject, role: string): void {
  const roles = project.spec.roles ?? [];
  if (!roles.some((r) => r.name === role)) {
    throw new NotFoundError(`project ${project.metadata?.name ?? ""} has no role ${role}` +
      (roles.length ? ` (it has ${roles.map((r) => r.name).join(", ")})` : ": add it under spec.roles in the AppProject's file in Git"));
  }
}

/** Every token of a role: those written in Git (spec) and those issued by create-token (status). */
function tokensOf(project: AppProject, role: string): (JwtToken & { where: "spec" | "status" })[] {
  const spec = project.spec.roles?.find((r) => r.name === role)?.jwtTokens ?? [];
  const status = project.status?.jwtTokensByRole?.[role]?.items ?? [];
  return [...spec.map((t) => ({ ...t, where: "spec" as const })), ...status.map((t) => ({ ...t, where: "status" as const }))];
}

const ns = (flags: KubeFlags) => flags.namespace ?? "tether-system";

export function roleCommand(): Command {
  const role = new Command("role").description("Project roles' tokens for CI (Argo CD's `argocd proj role`)")
    .addHelpText("after", `
A role and its policies are written in the AppProject (spec.roles, in Git); its tokens are issued here.

Examples:
  tether proj role create-token team-a ci --expires-in 720h --id github-actions
  tether proj role list-tokens team-a ci
  tether proj role delete-token team-a ci github-actions`);
  role.addCommand(createToken()).addCommand(listTokens()).addCommand(deleteToken());
  return role;
}

function createToken(): Command {
  return kubeOptions(new Command("create-token"), "the agent's namespace")
    .description("Issue a token for PROJECT's ROLE and print it (shown once; keep it in your CI's secret store)")
    .argument("<project>").argument("<role>")
    .option("-e, --expires-in <duration>", "how long the token is valid, e.g. 24h, 30m, 720h (default: no expiry)")
    .option("-i, --id <id>", "a name for the token, used by delete-token (default: random)")
    .option("-t, --token-only", "print only the token")
    .addHelpText("after", `
Use it as a bearer token against the agent's API (no kubeconfig): it may do what the role's policies allow
in its project, and nothing elsewhere.

Example:
  TOKEN=$(tether proj role create-token team-a ci --expires-in 720h --id github-actions -t)
  curl -H "Authorization: Bearer $TOKEN" -X POST https://tether.example.com/api/v1/applications/web/sync`)
    .action(async (project: string, roleName: string, flags: KubeFlags & { expiresIn?: string; id?: string; tokenOnly?: boolean }) => {
      const kc = loadKubeConfig(flags);
      const http = new KubeHttp(kc);
      const namespace = ns(flags);
      const seconds = flags.expiresIn === undefined ? undefined : Math.round(parseDuration(flags.expiresIn, "--expires-in") / 1000);
      if (seconds !== undefined && seconds <= 0) throw new UsageError("--expires-in must be more than 0 (omit it for a token without expiry)");
      const id = flags.id ?? randomBytes(8).toString("hex");
      if (!/^[A-Za-z0-9._-]{1,63}$/.test(id)) throw new UsageError(`--id ${id}: use letters, digits, '.', '_' or '-' (at most 63)`);
      const token = await withCluster(kc, async () => {
        const proj = await readProject(http, namespace, project);
        roleOf(proj, roleName);
        if (tokensOf(proj, roleName).some((t) => t.id === id)) throw new UsageError(`role ${roleName} of project ${project} already has a token ${id}: pick another --id or delete it first`);
        const iat = Math.floor(Date.now() / 1000);
        const entry: JwtToken = { iat, id, ...(seconds !== undefined ? { exp: iat + seconds } : {}) };
        const signed = await signProjectToken(await loadOrCreateKeys(http, namespace), { project, role: roleName, ...entry });
        const items = proj.status?.jwtTokensByRole?.[roleName]?.items ?? [];
        // A merge patch with the resourceVersion read: a concurrent create-token makes this one fail (409), not vanish.
        await http.ok("PATCH", projectPath(namespace, project), { contentType: "application/merge-patch+json", json: {
          metadata: { resourceVersion: proj.metadata?.resourceVersion },
          status: { jwtTokensByRole: { [roleName]: { items: [...items, entry] } } },
        } });
        return signed;
      });
      if (flags.tokenOnly) process.stdout.write(`${token}\n`);
      else process.stdout.write(`Token ${id} for role ${roleName} of project ${project}${seconds !== undefined ? `, valid for ${flags.expiresIn}` : ", without expiry"}:\n${token}\n`);
    });
}

function listTokens(): Command {
  return kubeOptions(new Command("list-tokens"), "the agent's namespace")
    .description("List the tokens of PROJECT's ROLE (ids and dates, never the tokens)")
    .argument("<project>").argument("<role>")
    .addOption(new Option("-o, --output <format>", "table, json or yaml").default("table"))
    .action(async (project: string, roleName: string, flags: Flags) => {
      const format = parseFormat(flags.output, ["table", "json", "yaml"]);
      const kc = loadKubeConfig(flags);
      const http = new KubeHttp(kc);
      const proj = await withCluster(kc, () => readProject(http, ns(flags), project));
      roleOf(proj, roleName);
      const tokens = tokensOf(proj, roleName);
      if (format === "json" || format === "yaml") return void process.stdout.write(serialize(tokens, format));
      const when = (s: number | undefined) => (s ? new Date(s * 1000).toISOString() : "never");
      process.stdout.write(tokens.length === 0 ? `No tokens for role ${roleName} of project ${project}.\n`
        : table(["ID", "ISSUED-AT", "EXPIRES-AT", "WHERE"], tokens.map((t) => [t.id ?? String(t.iat), when(t.iat), when(t.exp), t.where])));
    });
}

function deleteToken(): Command {
  return kubeOptions(new Command("delete-token"), "the agent's namespace")
    .description("Revoke a token of PROJECT's ROLE by its id (or issued-at): refused by the agent from then on")
    .argument("<project>").argument("<role>").argument("<id>", "the token's id, or its issued-at for a token without one")
    .addHelpText("after", "\nExit codes: 0 revoked, 3 no such project, role or token.\n\nExample:\n  tether proj role delete-token team-a ci github-actions")
    .action(async (project: string, roleName: string, id: string, flags: KubeFlags) => {
      const kc = loadKubeConfig(flags);
      const http = new KubeHttp(kc);
      const namespace = ns(flags);
      await withCluster(kc, async () => {
        const proj = await readProject(http, namespace, project);
        roleOf(proj, roleName);
        const matches = (t: JwtToken) => t.id === id || (t.id === undefined && String(t.iat) === id);
        const tokens = tokensOf(proj, roleName).filter(matches);
        if (tokens.length === 0) throw new NotFoundError(`role ${roleName} of project ${project} has no token ${id} (tether proj role list-tokens ${project} ${roleName})`);
        if (tokens.some((t) => t.where === "spec")) {
          throw new UsageError(`token ${id} is written in the AppProject's spec (in Git): remove it from spec.roles[${roleName}].jwtTokens there and commit`);
        }
        const items = (proj.status?.jwtTokensByRole?.[roleName]?.items ?? []).filter((t) => !matches(t));
        await http.ok("PATCH", projectPath(namespace, project), { contentType: "application/merge-patch+json", json: {
          metadata: { resourceVersion: proj.metadata?.resourceVersion },
          status: { jwtTokensByRole: { [roleName]: { items } } },
        } });
      });
      process.stdout.write(`Token ${id} of role ${roleName} of project ${project} revoked.\n`);
    });
}
