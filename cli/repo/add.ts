// `tether repo add URL`: the credential Secret the agent reads for a repository, in Argo CD's format
// (`url`, `username`, `password`, `sshPrivateKey`), so the same Secret also works for Argo CD.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { DEFAULT_NAMESPACE, type Manifest } from "../../agent/api/types.ts";
import { KubeCluster } from "../../agent/apply/cluster.ts";
import { credentialScope } from "../../agent/source/credentials.ts";
import { UsageError } from "../errors.ts";
import { kubeOptions, loadKubeConfig, type KubeFlags } from "../kube.ts";

/** What the Secret holds; exactly one of `password` and `sshPrivateKey`. */
export interface RepoCredentialSpec {
  readonly url: string;
  readonly namespace: string;
  readonly username?: string;
  readonly password?: string;
  readonly sshPrivateKey?: string;
  /** SSH without a host key check (Argo CD's `insecure: "true"`); otherwise the known hosts ConfigMap decides. */
  readonly insecureIgnoreHostKey?: boolean;
  /** `repo-creds`: a template for every repository under `url` (Argo CD's credential template). */
  readonly template?: boolean;
  /** The Secret's name; by default derived from the URL, so adding the same URL again replaces it. */
  readonly name?: string;
}

/** The Secret for a repository credential; throws UsageError for a URL or a credential that cannot work. */
export function repoCredentialSecret(spec: RepoCredentialSpec): Manifest {
  const scope = credentialScope(spec.url);
  if (scope === undefined) {
    throw new UsageError(`${spec.url}: expected an https://, http://, ssh:// or git@host:path URL (credentials are never sent to file:// or local paths)`);
  }
  const ssh = scope.scheme === "ssh";
  if (ssh && spec.sshPrivateKey === undefined) throw new UsageError(`${spec.url} is an SSH URL: pass --ssh-key-file FILE`);
  if (!ssh && spec.password === undefined) throw new UsageError(`${spec.url} is an HTTP(S) URL: pass --password-stdin (and --username)`);
  if (!ssh && spec.sshPrivateKey !== undefined) throw new UsageError("--ssh-key-file is for ssh:// and git@host:path URLs; HTTPS takes --password-stdin");
  if (ssh && spec.password !== undefined) throw new UsageError("--password-stdin is for HTTPS URLs; an SSH URL takes --ssh-key-file");
  if (!ssh && spec.insecureIgnoreHostKey === true) throw new UsageError("--insecure-ignore-host-key is for ssh:// and git@host:path URLs");
  const type = spec.template ? "repo-creds" : "repository";
  const data: Record<string, string> = { type: "git", url: spec.url.trim() };
  if (spec.username !== undefined) data.username = spec.username;
  if (spec.password !== undefined) data.password = spec.password;
  if (spec.sshPrivateKey !== undefined) data.sshPrivateKey = spec.sshPrivateKey;
  if (spec.insecureIgnoreHostKey === true) data.insecure = "true";
  return {
    apiVersion: "v1", kind: "Secret",
    metadata: {
      name: spec.name ?? secretNameFor(spec.url, type), namespace: spec.namespace,
      labels: { "tether.dev/secret-type": type, "app.kubernetes.io/part-of": "tether" },
    },
    type: "Opaque",
    // `data`, base64: the API server turns stringData into data, which an apply would then report forever.
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")])),
  };
}

/** `repo-<host>-<hash>` (or `creds-…`): readable, a valid name, one per URL. */
export function secretNameFor(url: string, type: "repository" | "repo-creds"): string {
  const scope = credentialScope(url);
  const slug = [scope?.host ?? "repo", ...(scope?.segments ?? []).slice(-1)].join("-")
    .replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "");
  const hash = createHash("sha256").update(url.trim()).digest("hex").slice(0, 8);
  return `${type === "repository" ? "repo" : "creds"}-${slug}-${hash}`;
}

interface AddFlags extends KubeFlags {
  readonly username?: string;
  readonly passwordStdin: boolean;
  readonly sshKeyFile?: string;
  readonly insecureIgnoreHostKey: boolean;
  readonly template: boolean;
  readonly name?: string;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError("--password-stdin reads the password from standard input: pipe it in (printf %s \"$TOKEN\" | tether repo add ...)");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  if (text === "") throw new UsageError("--password-stdin: standard input was empty");
  return text;
}

async function readKey(file: string): Promise<string> {
  const key = await readFile(file, "utf8").catch(() => { throw new UsageError(`--ssh-key-file ${file}: cannot read the file`); });
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new UsageError(`--ssh-key-file ${file}: not a private key (expected -----BEGIN ... PRIVATE KEY-----)`);
  return key;
}

export function repoAddCommand(): Command {
  return kubeOptions(new Command("add")
    .argument("<url>", "the repository (or, with --template, the URL prefix) the credential is for")
    .description("Store the credential the agent uses for a repository, as a Secret in the agent namespace (Argo CD's format)"),
  "agent namespace")
    .option("--username <name>", "user name for HTTPS (default: git)")
    .option("--password-stdin", "read the password or token from standard input (never from a flag: it would stay in the shell history)", false)
    .option("--ssh-key-file <file>", "private key for an ssh:// or git@host:path URL")
    .option("--insecure-ignore-host-key", "SSH: connect without checking the server's host key (prefer the tether-ssh-known-hosts ConfigMap)", false)
    .option("--template", "a credential template (repo-creds) for every repository under URL, at a '/' boundary", false)
    .option("--name <name>", "the Secret's name (default: derived from the URL)")
    .addHelpText("after", `
The credential is sent only to the same scheme, host and port, and to paths under the URL's path at a
'/' boundary: a credential for https://git.example.com/team never reaches https://git.example.com/team-b.

For SSH the agent checks the server's host key against key ssh_known_hosts of ConfigMap
tether-ssh-known-hosts (or Argo CD's argocd-ssh-known-hosts-cm) in the agent namespace:
  ssh-keyscan github.com > known_hosts
  kubectl -n tether create configmap tether-ssh-known-hosts --from-file=ssh_known_hosts=known_hosts

Examples:
  printf %s "$TOKEN" | tether repo add https://github.com/acme/gitops.git --username robot --password-stdin
  printf %s "$TOKEN" | tether repo add https://github.com/acme --template --username robot --password-stdin
  tether repo add git@github.com:acme/gitops.git --ssh-key-file ~/.ssh/deploy_key
  tether repo add ssh://git@git.internal:2222/acme/gitops.git --ssh-key-file deploy_key --insecure-ignore-host-key`)
    .action(async (url: string, flags: AddFlags) => {
      const secret = repoCredentialSecret({
        url, namespace: flags.namespace ?? DEFAULT_NAMESPACE, template: flags.template,
        ...(flags.username ? { username: flags.username } : {}),
        ...(flags.passwordStdin ? { password: await readStdin() } : {}),
        ...(flags.sshKeyFile ? { sshPrivateKey: await readKey(flags.sshKeyFile) } : {}),
        ...(flags.insecureIgnoreHostKey ? { insecureIgnoreHostKey: true } : {}),
        ...(flags.name ? { name: flags.name } : {}),
      });
      if (url.trim().toLowerCase().startsWith("http://")) {
        console.error(`warning: ${url} is plain http: the password crosses the network unencrypted`);
      }
      const cluster = new KubeCluster(loadKubeConfig(flags));
      await cluster.apply(secret);
      console.log(`Secret ${secret.metadata.namespace}/${secret.metadata.name} holds the credential for ${url}`);
    });
}
