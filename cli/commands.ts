// The top-level commands of `tether`, each loaded only when it runs: `tether --help` lists them from
// the summaries here without importing any of them, and `tether app list` imports cli/app alone
// (and, in the bundle, only the chunks it needs), so the Kubernetes client and git libraries are not
// parsed for a command that does not use them.
//
// To add a command: a folder cli/<name>/ whose index.ts exports a factory returning its Command,
// and one entry below. The unit test checks that every summary is the loaded command's description.
import type { Command } from "commander";

export interface LazyCommand {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** Shown by `tether --help`; equal to the command's own description. */
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const COMMANDS: readonly LazyCommand[] = [
  {
    name: "bootstrap",
    summary: "Take a cluster from empty to following a Git repository: the install, the agent in the cluster "
      + "and the root Application (safe to run again)",
    load: async () => (await import("./bootstrap/index.ts")).bootstrapCommand(),
  },
  {
    name: "install",
    summary: "Install Tether's CRDs, namespace, RBAC and default AppProject into a cluster (safe to run again)",
    load: async () => (await import("./install/index.ts")).installCommand(),
  },
  {
    name: "agent",
    summary: "Run the Tether agent: keep the cluster equal to the Git sources of its Applications",
    load: async () => (await import("./agent/index.ts")).agentCommand(),
  },
  {
    name: "app",
    summary: "Inspect and drive Applications",
    load: async () => (await import("./app/index.ts")).appCommand(),
  },
  {
    name: "appset",
    aliases: ["appsets"],
    summary: "Inspect ApplicationSets and what they generate",
    load: async () => (await import("./appset/index.ts")).appsetCommand(),
  },
  {
    name: "promote",
    summary: "Promote Freight to a stage of a promotion project (Kargo's Warehouse → Freight → Stage), and show the pipeline",
    load: async () => (await import("./promote/index.ts")).promoteCommand(),
  },
  {
    name: "repo",
    summary: "Lay out and check the GitOps repository",
    load: async () => (await import("./repo/index.ts")).repoCommand(),
  },
  {
    name: "project",
    aliases: ["proj"],
    summary: "Manage AppProjects in projects/, and their roles' tokens",
    load: async () => (await import("./project/index.ts")).projectCommand(),
  },
  {
    name: "secret",
    summary: "SOPS secrets: age keys for the agent, .sops.yaml rules, encrypted Secret manifests to commit",
    load: async () => (await import("./secret/index.ts")).secretCommand(),
  },
  {
    name: "cluster",
    summary: "Register other clusters the agent deploys to (cluster Secrets in Argo CD's format)",
    load: async () => (await import("./cluster/index.ts")).clusterCommand(),
  },
  {
    name: "preview",
    summary: "Show what a branch changes in every application: the app-of-apps tree rendered at two commits, without a cluster",
    load: async () => (await import("./preview/index.ts")).previewCommand(),
  },
  {
    name: "health",
    summary: "Assess the health of objects from files offline, with exactly the agent's rules and tether-cm's customizations",
    load: async () => (await import("./health/index.ts")).healthCommand(),
  },
  {
    name: "login",
    summary: "Log in to an agent's API (SSO through tether-cm's oidc.config, or a project token), for app commands without a kubeconfig",
    load: async () => (await import("./login/index.ts")).loginCommand(),
  },
  {
    name: "logout",
    summary: "End a login to an agent's API and forget its token (the current context, or the one named)",
    load: async () => (await import("./login/index.ts")).logoutCommand(),
  },
  {
    name: "notifications",
    aliases: ["notification"],
    summary: "Try tether-notifications-cm on an Application: render its templates, send a trigger's notifications now",
    load: async () => (await import("./notifications/index.ts")).notificationsCommand(),
  },
  {
    name: "version",
    summary: "Print the version of this client and, with a kubeconfig, of the agent in the cluster",
    load: async () => (await import("./version/index.ts")).versionCommand(),
  },
  {
    name: "ui",
    summary: "Serve the web UI on localhost, acting with the kubeconfig's credentials",
    load: async () => (await import("./ui/index.ts")).uiCommand(),
  },
  {
    name: "completion",
    summary: "Print a shell completion script for bash or zsh",
    load: async () => (await import("./completion/index.ts")).completionCommand(),
  },
];

/** Commands whose action walks the whole command tree, so every other command must be loaded first. */
const NEEDS_ALL = new Set(["completion"]);

const byName = (word: string | undefined) =>
  COMMANDS.find((c) => c.name === word || (c.aliases ?? []).includes(word ?? ""));

/**
 * Which commands `args` (the arguments after `tether`) will run: the one it names (`tether help app`
 * names app), every command for completion, none for `tether --help` or an unknown word (commander
 * then lists or rejects them from the summaries).
 */
export function commandsToLoad(args: readonly string[]): readonly LazyCommand[] {
  const words = args.filter((a) => !a.startsWith("-"));
  const first = words[0] === "help" ? words[1] : words[0];
  const named = byName(first);
  if (!named) return [];
  return NEEDS_ALL.has(named.name) ? COMMANDS : [named];
}
