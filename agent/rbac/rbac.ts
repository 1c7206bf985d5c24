// Argo CD's RBAC, evaluated by casbin with Argo's model: `p, <subject>, <resource>, <action>, <object>, <allow|deny>`
// and `g, <user or group>, <role>` lines from ConfigMap `tether-rbac-cm` (`policy.csv`, overlays `policy.<name>.csv`,
// `policy.default`, `scopes`, `policy.matchMode`), the built-in `role:readonly` and `role:admin`, and each AppProject's
// `spec.roles` as run-time policy for requests on that project's objects. Pure: settings and projects in, a decision out.
import { newEnforcer, newModelFromString, type Enforcer } from "casbin";
import { parse as parseYaml } from "yaml";
import type { AppProject } from "../api/types.ts";
import { TetherError } from "../errors.ts";
import { globMatch } from "../render/glob.ts";

/** The ConfigMap that holds the policy, named as Argo's `argocd-rbac-cm`. */
export const RBAC_CONFIGMAP = "tether-rbac-cm";

/** Argo CD's resources (those that belong to a project take `<project>/<name>` objects). */
export const PROJECT_SCOPED_RESOURCES = ["applications", "applicationsets", "logs", "exec"] as const;

/** Argo CD's casbin model: a request is allowed when some policy allows it and none denies it. */
const MODEL = `
[request_definition]
r = sub, res, act, obj

[policy_definition]
p = sub, res, act, obj, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub) && globOrRegexMatch(r.res, p.res) && globOrRegexMatch(r.act, p.act) && globOrRegexMatch(r.obj, p.obj)
`;

/**
 * The built-in roles, with Argo CD's meaning: `role:readonly` reads everything, `role:admin` does everything
 * (and inherits readonly). Written for Tether's resources; `exec` is out of scope and has no grant.
 */
export const BUILTIN_POLICY = [
  ...["applications", "applicationsets", "logs"].map((r) => `p, role:readonly, ${r}, get, */*, allow`),
  ...["clusters", "repositories", "projects", "accounts", "certificates", "gpgkeys"].map((r) => `p, role:readonly, ${r}, get, *, allow`),
  ...["create", "update", "update/*", "delete", "delete/*", "sync", "rollback", "override", "action/*"]
    .map((a) => `p, role:admin, applications, ${a}, */*, allow`),
  ...["get", "create", "update", "delete"].map((a) => `p, role:admin, applicationsets, ${a}, */*, allow`),
  ...["clusters", "repositories", "projects"].flatMap((r) => ["create", "update", "delete"].map((a) => `p, role:admin, ${r}, ${a}, *, allow`)),
  "p, role:admin, accounts, update, *, allow",
  "g, role:admin, role:readonly",
  "g, admin, role:admin",
].join("\n");

export type MatchMode = "glob" | "regex";

/** `tether-rbac-cm`, parsed. */
export interface RbacSettings {
  /** policy.csv followed by every `policy.<overlay>.csv` in key order, as Argo's PolicyCSV joins them. */
  readonly policyCsv: string;
  /** A role every authenticated caller has (Argo's `policy.default`, e.g. `role:readonly`); "" for none. */
  readonly defaultRole: string;
  /** The token claims whose values are the caller's groups (Argo's `scopes`, default `[groups]`). */
  readonly scopes: readonly string[];
  readonly matchMode: MatchMode;
}

export const DEFAULT_SCOPES = ["groups"] as const;

/** Reads `tether-rbac-cm` data; a malformed key is an error naming it and saying the fix. */
export function rbacSettingsFrom(data: Readonly<Record<string, string>> | undefined): RbacSettings {
  const d = data ?? {};
  const overlays = Object.keys(d).filter((k) => k.startsWith("policy.") && k.endsWith(".csv") && k !== "policy.csv").sort();
  const policyCsv = [d["policy.csv"] ?? "", ...overlays.map((k) => d[k] ?? "")].join("\n");
  const mode = (d["policy.matchMode"] ?? "glob").trim();
  if (mode !== "glob" && mode !== "regex") {
    throw new TetherError("InvalidSpecError", `${RBAC_CONFIGMAP} policy.matchMode '${mode}' is not glob or regex: set one of them`, { retryable: false });
  }
  let scopes: readonly string[] = DEFAULT_SCOPES;
  if (d.scopes !== undefined && d.scopes.trim() !== "") {
    const parsed: unknown = parseYaml(d.scopes);
    if (!Array.isArray(parsed) || !parsed.every((s): s is string => typeof s === "string")) {
      throw new TetherError("InvalidSpecError", `${RBAC_CONFIGMAP} scopes '${d.scopes}' is not a list of claim names: write e.g. '[groups, email]'`, { retryable: false });
    }
    scopes = parsed;
  }
  for (const [i, line] of policyLines(policyCsv).entries()) checkLine(line, `${RBAC_CONFIGMAP} policy line ${i + 1}`);
  return { policyCsv, defaultRole: (d["policy.default"] ?? "").trim(), scopes, matchMode: mode };
}

/** The non-comment lines of a policy, trimmed. */
function policyLines(csv: string): string[] {
  return csv.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

/** Splits a CSV policy line (quotes allowed, as Argo's reader); throws naming `where` for a malformed one. */
export function splitLine(line: string, where: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (quoted) {
      if (c === '"' && line.charAt(i + 1) === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur.trim() === "") {
      quoted = true;
      cur = "";
    } else if (c === ",") {
      out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (quoted) throw new TetherError("InvalidSpecError", `${where} '${line}' has an unclosed quote`, { retryable: false });
  out.push(cur.trim());
  return out;
}

function checkLine(line: string, where: string): string[] {
  const tokens = splitLine(line, where);
  const [kind] = tokens;
  if (kind === "p" && tokens.length === 6) {
    const eft = tokens[5];
    if (eft !== "allow" && eft !== "deny") {
      throw new TetherError("InvalidSpecError", `${where} '${line}' ends with '${eft ?? ""}': the effect is allow or deny`, { retryable: false });
    }
    return tokens;
  }
  if (kind === "g" && tokens.length === 3) return tokens;
  throw new TetherError("InvalidSpecError",
    `${where} '${line}' is not 'p, subject, resource, action, object, allow|deny' or 'g, subject, role'`, { retryable: false });
}

/** A project's roles as run-time policy (Argo's ProjectPoliciesString): each role may read its project. */
export function projectPolicy(project: AppProject): string {
  const name = project.metadata?.name ?? "";
  const lines: string[] = [];
  for (const role of project.spec.roles ?? []) {
    lines.push(`p, proj:${name}:${role.name}, projects, get, ${name}, allow`);
    for (const p of role.policies ?? []) lines.push(p);
    for (const g of role.groups ?? []) lines.push(`g, ${g}, proj:${name}:${role.name}`);
  }
  return lines.join("\n");
}

/** `proj:<project>:<role>`, the subject of a project role (and of its tokens). */
export function projectRoleSubject(project: string, role: string): string {
  return `proj:${project}:${role}`;
}

function parseProjectSubject(subject: string): { project: string; role: string } | undefined {
  const parts = subject.split(":");
  return parts.length === 3 && parts[0] === "proj" ? { project: parts[1] ?? "", role: parts[2] ?? "" } : undefined;
}

/** What is asked: Argo's resource, action and object (`<project>/<app>` for project-scoped resources). */
export interface RbacRequest {
  readonly resource: string;
  readonly action: string;
  readonly object: string;
}

/** Who asks: a user's subject (OIDC `sub`, or `email` for some providers) and the claims that carry groups. */
export interface RbacCaller {
  readonly subject: string;
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** The values of `scopes` claims in a token: a string or a list of strings each. */
export function groupsOf(claims: Readonly<Record<string, unknown>> | undefined, scopes: readonly string[]): string[] {
  const out: string[] = [];
  for (const scope of scopes) {
    const v = claims?.[scope];
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) for (const g of v) if (typeof g === "string") out.push(g);
  }
  return out;
}

/**
 * Decides requests against the built-in, user and project policies. One casbin enforcer per project
 * policy is kept (rebuilt when the project's roles change), as Argo caches them.
 */
export class RbacEnforcer {
  private readonly byProject = new Map<string, { policy: string; enforcer: Promise<Enforcer> }>();

  constructor(readonly settings: RbacSettings, private readonly projects: (name: string) => AppProject | undefined) {}

  /** Whether the caller may do it: a project token only within its project, a user by subject, default role or groups. */
  async enforce(caller: RbacCaller, req: RbacRequest): Promise<boolean> {
    const project = this.projectOf(req);
    const projectToken = parseProjectSubject(caller.subject);
    if (projectToken) {
      // A project role's token acts only inside its own project, and only by that project's policy.
      if (!project || project.metadata?.name !== projectToken.project) return false;
      return this.check(await this.enforcerFor(project), caller.subject, req);
    }
    const enforcer = await this.enforcerFor(project);
    if (this.settings.defaultRole !== "" && await this.check(enforcer, this.settings.defaultRole, req)) return true;
    if (caller.subject !== "" && await this.check(enforcer, caller.subject, req)) return true;
    for (const group of groupsOf(caller.claims, this.settings.scopes)) {
      if (group !== "" && await this.check(enforcer, group, req)) return true;
    }
    return false;
  }

  private async check(enforcer: Enforcer, subject: string, req: RbacRequest): Promise<boolean> {
    return enforcer.enforce(subject, req.resource, req.action, req.object);
  }

  /** The AppProject a request is about: `<project>/…` objects of project-scoped resources, or a project itself. */
  private projectOf(req: RbacRequest): AppProject | undefined {
    if ((PROJECT_SCOPED_RESOURCES as readonly string[]).includes(req.resource) || req.resource === "clusters" || req.resource === "repositories") {
      const parts = req.object.split("/");
      return parts.length >= 2 ? this.projects(parts[0] ?? "") : undefined;
    }
    return req.resource === "projects" ? this.projects(req.object) : undefined;
  }

  private enforcerFor(project: AppProject | undefined): Promise<Enforcer> {
    const key = project?.metadata?.name ?? "";
    const policy = project ? projectPolicy(project) : "";
    const cached = this.byProject.get(key);
    if (cached && cached.policy === policy) return cached.enforcer;
    if (this.byProject.size > 1000) this.byProject.clear();
    const enforcer = build(this.settings, policy, key);
    this.byProject.set(key, { policy, enforcer });
    return enforcer;
  }
}

async function build(settings: RbacSettings, runtime: string, project: string): Promise<Enforcer> {
  const lines = [...policyLines(BUILTIN_POLICY), ...policyLines(settings.policyCsv), ...runtimeLines(runtime, project)];
  const tokens = lines.map((l) => splitLine(l, "policy"));
  const enforcer = await newEnforcer(newModelFromString(MODEL));
  const match = settings.matchMode === "regex"
    ? (value: string, pattern: string) => regexMatch(pattern, value)
    : (value: string, pattern: string) => globMatch(pattern, value);
  await enforcer.addFunction("globOrRegexMatch", match);
  // Rules go in as token lists, so a quoted token may hold a comma (a regex `{1,3}`, a glob `{a,b}`).
  await enforcer.addNamedPolicies("p", dedupe(tokens.filter((t) => t[0] === "p").map((t) => t.slice(1))));
  await enforcer.addNamedGroupingPolicies("g", dedupe(tokens.filter((t) => t[0] === "g").map((t) => t.slice(1))));
  return enforcer;
}

/** casbin refuses a batch holding a rule twice; a policy repeated across overlays is still one rule. */
function dedupe(rules: string[][]): string[][] {
  const seen = new Set<string>();
  return rules.filter((r) => {
    const key = JSON.stringify(r);
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** A project's policy lines that parse; a malformed line is skipped (Argo falls back to the global policy). */
function runtimeLines(runtime: string, project: string): string[] {
  return policyLines(runtime).filter((line) => {
    try {
      checkLine(line, `AppProject ${project} spec.roles policy`);
      return true;
    } catch {
      return false;
    }
  });
}

/** Argo's regex mode (Go's regexp.MatchString): unanchored; a malformed pattern matches nothing. */
const regexes = new Map<string, RegExp | undefined>();
function regexMatch(pattern: string, value: string): boolean {
  if (!regexes.has(pattern)) {
    if (regexes.size > 10_000) regexes.clear();
    let re: RegExp | undefined;
    try {
      re = new RegExp(pattern);
    } catch {
      re = undefined;
    }
    regexes.set(pattern, re);
  }
  return regexes.get(pattern)?.test(value) ?? false;
}
