// `tether repo init`: the files of a new GitOps repository, and the checks of an existing one.
// Existing files are never rewritten, so running it twice changes nothing.
import { Document } from "yaml";
import { defaultProject } from "../../agent/api/install.ts";
import { API_VERSION, DEFAULT_NAMESPACE, FINALIZER } from "../../agent/api/types.ts";
import { withChanges, type FileChange, type Plan, type RepoTree } from "../git/tree.ts";
import { DEFAULT_PROJECT, join, PROJECTS, readApps, readProjects } from "./layout.ts";

export interface InitOptions {
  /** The root app-of-apps directory (`--path`). */
  readonly components: string;
  /** The agent's namespace: where the AppProjects go and what the `projects` app deploys to. */
  readonly namespace?: string;
  /** An age public key for `.sops.yaml`; without it the rule is written commented out. */
  readonly ageRecipient?: string;
}

const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

/** Whether `value` looks like an age public key (`age1` and 58 bech32 characters). */
export function isAgeRecipient(value: string): boolean {
  return AGE_RECIPIENT.test(value);
}

/** The Application that applies `projects/`, exactly as this repository's own components/projects.yaml. */
export function projectsApplication(namespace: string = DEFAULT_NAMESPACE): string {
  return `# The AppProjects in projects/, applied first so the apps below can name them.
apiVersion: ${API_VERSION}
kind: Application
metadata:
  name: projects
  finalizers: [${FINALIZER}]
  annotations:
    tether.dev/sync-wave: "-1"
spec:
  project: default
  source:
    path: ${PROJECTS}
  destination:
    server: https://kubernetes.default.svc
    namespace: ${namespace}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
`;
}

/** The `default` AppProject as `tether install` creates it, kept in Git so Git says what it allows. */
export function defaultProjectFile(namespace: string = DEFAULT_NAMESPACE): string {
  const project = defaultProject(namespace);
  const doc = new Document({
    ...project,
    // Every Application names a project; removing this file must never delete the one they share.
    metadata: { ...project.metadata, annotations: { "tether.dev/sync-options": "Prune=false" } },
  });
  doc.commentBefore = " The project every Application uses unless it names another; `tether install` creates the same one.\n"
    + " Narrow it here, or add projects with `tether project create NAME`.";
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
}

export function sopsConfig(ageRecipient?: string): string {
  const key = ageRecipient
    ? `    age: ${ageRecipient}\n`
    : "    # age: age1...   <- the public key of the identity in Secret tether-sops (age-keygen -y key.txt); then uncomment\n";
  return `# SOPS rules for this repository: what \`sops --encrypt\` encrypts, and for whom.
# Encrypt a Secret before you commit it:  sops --encrypt --in-place components/apps/my-app/secret.yaml
# The agent decrypts with the age identities in Secret tether-sops (entries named *.agekey) in its
# namespace. A plain Secret in Git is refused.
creation_rules:
  - path_regex: \\.(ya?ml|json)$
    encrypted_regex: ^(data|stringData)$
${key}`;
}

export function componentsReadme(components: string): string {
  return `# ${components}/: the root app-of-apps

The root Application reads this directory with \`directory: {recurse: true, exclude: "*/*/*"}\`: it
applies the Application manifests one level down (\`${components}/<project>/<app>.yaml\`), and each of
those deploys its own directory (\`${components}/<project>/<app>/\`). Applications here omit
\`spec.source.repoURL\`, so they read this same repository at the root's revision.

| file | what it deploys |
|---|---|
| \`projects.yaml\` | the AppProjects in \`${PROJECTS}/\` (sync wave -1, before the apps that name them) |

Change the cluster by committing here:

    tether project create team-a --dest-namespace 'team-a-*'
    tether app create hello --app ./hello -p team-a --dest-namespace team-a-hello --wait-timeout 2m
    tether app delete hello
`;
}

/** The layout files, path -> content. */
export function layoutFiles(opts: InitOptions): Record<string, string> {
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  return {
    [join(opts.components, "projects.yaml")]: projectsApplication(namespace),
    [join(opts.components, "README.md")]: componentsReadme(opts.components),
    [join(PROJECTS, `${DEFAULT_PROJECT}.yaml`)]: defaultProjectFile(namespace),
    ".sops.yaml": sopsConfig(opts.ageRecipient),
  };
}

/** What is wrong with an existing layout, each with the fix. */
export async function checkLayout(tree: RepoTree, components: string): Promise<string[]> {
  const problems: string[] = [];
  const { apps, broken: brokenApps } = await readApps(tree, components);
  const { projects, broken: brokenProjects } = await readProjects(tree);
  for (const b of [...brokenApps, ...brokenProjects]) problems.push(`${b.message}: fix the YAML (the agent cannot render this directory until then)`);
  const projectNames = new Set([DEFAULT_PROJECT, ...projects.map((p) => p.name)]);
  const seen = new Map<string, string>();
  for (const a of apps) {
    const other = seen.get(a.name);
    if (other) problems.push(`${a.file}: Application ${a.name} is also defined in ${other}; rename one of them`);
    seen.set(a.name, a.file);
    if (!projectNames.has(a.project)) {
      problems.push(`${a.file}: Application ${a.name} names project ${a.project}, which ${PROJECTS}/ does not define; run \`tether project create ${a.project}\``);
    }
    const source = a.app.spec?.source;
    if (source && !source.repoURL && source.path && (await tree.kind(source.path)) !== "dir") {
      problems.push(`${a.file}: Application ${a.name} deploys ${source.path}, which does not exist in the repository; commit it or fix spec.source.path`);
    }
  }
  const projectFiles = new Map<string, string>();
  for (const p of projects) {
    const other = projectFiles.get(p.name);
    if (other) problems.push(`${p.file}: AppProject ${p.name} is also defined in ${other}; remove one of them`);
    projectFiles.set(p.name, p.file);
  }
  return problems;
}

/** The init plan: the layout files that are missing; the existing ones are checked and kept. */
export async function planInit(tree: RepoTree, opts: InitOptions): Promise<Plan> {
  const changes: FileChange[] = [];
  const notes: string[] = [];
  for (const [path, content] of Object.entries(layoutFiles(opts))) {
    if ((await tree.kind(path)) === undefined) changes.push({ path, content });
    else notes.push(`${path}: exists, kept as it is`);
  }
  const problems = await checkLayout(withChanges(tree, changes), opts.components);
  if (problems.length > 0) {
    throw new Error(`the repository's layout has ${problems.length} problem(s); nothing was changed:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
  const created = changes.map((c) => c.path);
  const message = `Lay out the GitOps repository\n\nAdded by \`tether repo init\`:\n${created.map((p) => `  ${p}\n`).join("")}`;
  return { message, changes, notes };
}
