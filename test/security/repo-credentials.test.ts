// Repository credentials end to end (issue 13): the agent fetches from a real smart-HTTP git server that
// wants a password and from a real OpenSSH sshd that takes one key, with the Secrets `tether repo add`
// writes; the Application's status names the credential (namespace/name), never its value; an SSH key
// is on disk only while git runs, and an unknown host key is refused unless the Secret says insecure.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Application } from "../../agent/api/types.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, hasCondition, synced } from "../support/apps.ts";
import { startGitHttpServer, startSshd, type GitHttpServer, type SshServer } from "../support/git-servers.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-repocreds";
const DEST = "e2e-repocreds";
const PASSWORD = "pw-7f3a9c-never-in-status";
const { kubeconfigPath, kc, core, objects } = kube();
const reader = appReader(kc, NS);
const conditionMessage = (type: string) => (a: Application) => a.status?.conditions?.find((c) => c.type === type)?.message ?? "";

let root: string;
let agentTmp: string;
let http: GitHttpServer;
let sshd: SshServer;
let agent: AgentProcess;

/** A bare repository under `srv/` with one ConfigMap in `app/`; returns its path. */
async function serverRepo(name: string, configMap: string): Promise<string> {
  const work = path.join(root, "work", name);
  const bare = path.join(root, "srv", `${name}.git`);
  await simpleGit().init(["--initial-branch=main", work]);
  await mkdir(path.join(work, "app"), { recursive: true });
  await writeFile(path.join(work, "app", "cm.yaml"), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${configMap}\ndata:\n  FROM: "${name}"\n`);
  await simpleGit(work).add(".").commit("app", { "--author": "t <t@t>" });
  await simpleGit().clone(work, bare, ["--bare"]);
  return bare;
}

/** `tether repo add`, as a user runs it; returns the Secret's name from its output. */
async function repoAdd(args: readonly string[], input?: string): Promise<string> {
  const added = await cli(["repo", "add", ...args, "--namespace", NS], { kubeconfig: kubeconfigPath, ...(input ? { input } : {}) });
  expect(added.exitCode, `${added.stdout}\n${added.stderr}`).toBe(0);
  const name = /^Secret [^/]+\/(\S+) holds/m.exec(added.stdout)?.[1];
  expect(name, added.stdout).toBeDefined();
  return name!;
}

const createApp = (name: string, repoURL: string) =>
  applyApp(objects, application(name, { repoURL, path: "app", destNamespace: DEST, agentNamespace: NS, syncPolicy: { automated: {}, syncOptions: ["CreateNamespace=true"] } }));

const refresh = async (name: string) => {
  const r = await cli(["app", "refresh", name, "--namespace", NS], { kubeconfig: kubeconfigPath });
  expect(r.exitCode, r.stderr).toBe(0);
};

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "tether-repocreds-"));
  agentTmp = path.join(root, "agent-tmp");
  await mkdir(agentTmp);
  for (const [name, cm] of [["http-app", "from-http"], ["ssh-app", "from-ssh"], ["ssh-insecure", "from-ssh-insecure"], ["ssh-wrongkey", "never"]] as const) {
    await serverRepo(name, cm);
  }
  http = await startGitHttpServer(path.join(root, "srv"), PASSWORD);
  sshd = await startSshd(path.join(root, "sshd"));
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  // Remote URLs only, as in production: no --allow-local-repos. TMPDIR of its own, to see the keys go.
  agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS, pollInterval: "300s", allowLocalRepos: false, env: { TMPDIR: agentTmp } });
}, 180_000);

afterAll(async () => {
  await agent?.stop();
  await sshd?.stop();
  await http?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("an HTTP repository with a password", () => {
  it("syncs with the Secret from tether repo add and names it in status.sourceCredential, never the password", async () => {
    const url = `${http.base}/http-app.git`;
    const secret = await repoAdd([url, "--username", "robot", "--password-stdin"], PASSWORD);
    await createApp("cred-http", url);
    const app = await reader.until("cred-http", "Synced with the credential named", (a) => synced()(a) && a.status?.sourceCredential !== undefined, 120_000);
    expect(app.status?.sourceCredential).toBe(`${NS}/${secret}`);
    expect(JSON.stringify(app)).not.toContain(PASSWORD);
    expect(http.users).toContain("robot");
    expect((await core.readNamespacedConfigMap({ name: "from-http", namespace: DEST })).data?.FROM).toBe("http-app");
  });
});

describe("an SSH repository with a deploy key", () => {
  const sshUrl = (repo: string) => `ssh://${sshd.user}@127.0.0.1:${sshd.port}${path.join(root, "srv", `${repo}.git`)}`;

  it("tether repo add --ssh-key-file writes Argo CD's sshPrivateKey field", async () => {
    const secret = await repoAdd([sshUrl("ssh-app"), "--ssh-key-file", sshd.clientKeyFile]);
    const stored = await core.readNamespacedSecret({ name: secret, namespace: NS });
    expect(Buffer.from(stored.data?.sshPrivateKey ?? "", "base64").toString()).toBe(sshd.clientKey);
    expect(Buffer.from(stored.data?.url ?? "", "base64").toString()).toBe(sshUrl("ssh-app"));
    expect(stored.metadata?.labels?.["tether.dev/secret-type"]).toBe("repository");
    expect(stored.data?.insecure).toBeUndefined();
  });

  it("refuses a server whose host key is not known, saying where to put it", async () => {
    await createApp("cred-ssh", sshUrl("ssh-app"));
    const app = await reader.until("cred-ssh", "SourceFailed", hasCondition("SourceFailed"), 120_000);
    expect(conditionMessage("SourceFailed")(app)).toMatch(/Host key verification failed.*tether-ssh-known-hosts/);
    // The credential is named even when the fetch failed, so the user knows which Secret was tried.
    expect(app.status?.sourceCredential).toMatch(new RegExp(`^${NS}/repo-`));
    await expect(core.readNamespacedConfigMap({ name: "from-ssh", namespace: DEST })).rejects.toThrow();
  });

  it("syncs once the host key is in ConfigMap tether-ssh-known-hosts, and leaves no key on disk", async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "tether-ssh-known-hosts" }, data: { ssh_known_hosts: `${sshd.knownHostsLine}\n` } } });
    await refresh("cred-ssh");
    const app = await reader.until("cred-ssh", "Synced over SSH", (a) => synced()(a) && !hasCondition("SourceFailed")(a), 120_000);
    expect(app.status?.sourceCredential).toMatch(new RegExp(`^${NS}/repo-127-0-0-1-`));
    expect(JSON.stringify(app)).not.toContain("PRIVATE KEY");
    expect((await core.readNamespacedConfigMap({ name: "from-ssh", namespace: DEST })).data?.FROM).toBe("ssh-app");
    expect(sshd.logs()).toMatch(/Accepted publickey for/);
    // The key lives in a private directory under the agent's TMPDIR only while git runs (a fetch may still be running now).
    await eventually("the SSH key directory to be removed", async () => ((await readdir(agentTmp)).some((f) => f.startsWith("tether-ssh-")) ? undefined : true), 30_000);
  });

  it("a key the server does not take is refused as a credential problem, naming the Secret tried", async () => {
    const other = path.join(root, "other_key");
    await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const secret = await repoAdd([sshUrl("ssh-wrongkey"), "--ssh-key-file", other]);
    await createApp("cred-ssh-wrongkey", sshUrl("ssh-wrongkey"));
    const app = await reader.until("cred-ssh-wrongkey", "SourceFailed", hasCondition("SourceFailed"), 120_000);
    expect(conditionMessage("SourceFailed")(app)).toMatch(/Permission denied \(publickey\).*the credentials for this repository were refused/);
    expect(app.status?.sourceCredential).toBe(`${NS}/${secret}`);
  });

  it("--insecure-ignore-host-key connects to a server whose key is in no known_hosts", async () => {
    // A known_hosts entry for another key: a strict check would refuse this server.
    await core.replaceNamespacedConfigMap({ name: "tether-ssh-known-hosts", namespace: NS, body: { metadata: { name: "tether-ssh-known-hosts" }, data: { ssh_known_hosts: "[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n" } } });
    const secret = await repoAdd([sshUrl("ssh-insecure"), "--ssh-key-file", sshd.clientKeyFile, "--insecure-ignore-host-key"]);
    await createApp("cred-ssh-insecure", sshUrl("ssh-insecure"));
    const app = await reader.until("cred-ssh-insecure", "Synced without a host key check", synced(), 120_000);
    expect(app.status?.sourceCredential).toBe(`${NS}/${secret}`);
    expect((await core.readNamespacedConfigMap({ name: "from-ssh-insecure", namespace: DEST })).data?.FROM).toBe("ssh-insecure");
  });
});
