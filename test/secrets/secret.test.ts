// `tether secret` as a user runs it against the real control plane: keygen stores the identity for
// the agent, create writes only ciphertext, and the agent decrypts it through a KSOPS generator.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ageKey } from "../../agent/decrypt/testdata/keys.ts";
import { toolPath } from "../harness/paths.ts";
import { cli, startAgent, type AgentProcess } from "../support/agent.ts";
import { application, applyApp, appReader, syncedAndHealthy } from "../support/apps.ts";
import { createRepo, type TestRepo } from "../support/git.ts";
import { kube } from "../support/kube.ts";

const NS = "tether-e2e-secrets";
const { kubeconfigPath, kc, core, objects } = kube();
const TOKEN = "tk-51c0d7e2a9b84f36-only-in-the-cluster";

let repo: TestRepo;
let agent: AgentProcess | undefined;
let recipient: string;
let entry: string;

const run = (args: readonly string[]) => cli(args, { kubeconfig: kubeconfigPath });
const sopsConfig = () => path.join(repo.work, ".sops.yaml");

async function keySecret(): Promise<Record<string, string>> {
  const secret = await core.readNamespacedSecret({ name: "tether-sops", namespace: NS });
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}

beforeAll(async () => {
  expect((await run(["install", "--namespace", NS])).exitCode).toBe(0);
  repo = await createRepo();
});

afterAll(async () => {
  await agent?.stop();
  await repo?.cleanup();
});

describe("tether secret keygen --kubeconfig", () => {
  it("stores the identity in Secret tether-sops next to the ones already there, and puts its recipient in .sops.yaml", async () => {
    const earlier = await ageKey();
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "tether-sops" }, stringData: { "earlier.agekey": earlier.identity } } });

    const result = await run(["secret", "keygen", "--kubeconfig", kubeconfigPath, "-n", NS, "--sops-config", sopsConfig(), "-o", "json"]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as { recipient: string; secret: { key: string; change: string }; sopsConfig: { change: string } };
    ({ recipient } = report);
    entry = report.secret.key;
    expect(report).toMatchObject({ secret: { namespace: NS, name: "tether-sops", change: "added" }, sopsConfig: { file: sopsConfig(), change: "created" } });
    expect(result.stdout).not.toContain("AGE-SECRET-KEY");

    const keys = await keySecret();
    expect(Object.keys(keys).sort()).toEqual(["earlier.agekey", entry].sort());
    expect(keys["earlier.agekey"]).toBe(earlier.identity);
    const { stdout: derived } = await execa(toolPath("age-keygen"), ["-y"], { input: keys[entry] });
    expect(derived.trim()).toBe(recipient);
    expect(parse(await readFile(sopsConfig(), "utf8"))).toEqual({
      creation_rules: [{ path_regex: "\\.(ya?ml|json)$", encrypted_regex: "^(data|stringData)$", age: recipient }],
    });
  });

  it("prints only the recipient on stdout, and says the identity is kept only in the cluster", async () => {
    const result = await run(["secret", "keygen", "--kubeconfig", kubeconfigPath, "-n", NS, "--no-sops-config", "--name", "second"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^age1[0-9a-z]{58}$/);
    expect(result.stderr).toContain(`identity stored in Secret ${NS}/tether-sops, entry second.agekey (added)`);
    expect(result.stderr).toContain("the identity is kept only in the cluster");
    expect(Object.keys(await keySecret())).toContain("second.agekey");
  });

  it("exits 3 and says to install Tether when the agent namespace does not exist", async () => {
    const result = await run(["secret", "keygen", "--kubeconfig", kubeconfigPath, "-n", "tether-nowhere", "--no-sops-config"]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/namespace tether-nowhere does not exist; run `tether install` first/);
  });
});

describe("tether secret create", () => {
  it("writes a manifest with no plaintext, which sops decrypts with the stored identity", async () => {
    const file = path.join(repo.work, "token-app", "token.enc.yaml");
    const result = await run(["secret", "create", "api-token", "--from-literal", `TOKEN=${TOKEN}`, "--out", file]);
    expect(result.stderr).not.toMatch(/^error/m);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Secret api-token (TOKEN) encrypted for ${recipient}`);

    const text = await readFile(file, "utf8");
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(Buffer.from(TOKEN).toString("base64"));
    expect(parse(text)).toMatchObject({ kind: "Secret", metadata: { name: "api-token" } });

    const { stdout } = await execa(toolPath("sops"), ["decrypt", file], { env: { SOPS_AGE_KEY: (await keySecret())[entry] } });
    expect(Buffer.from((parse(stdout) as { data: { TOKEN: string } }).data.TOKEN, "base64").toString()).toBe(TOKEN);
  });

  it("exits 2 and says to run keygen when no .sops.yaml rule covers the file", async () => {
    const file = path.join(path.dirname(repo.work), "outside", "token.enc.yaml");
    const result = await run(["secret", "create", "t", "--from-literal", "a=b", "--out", file]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/run `tether secret keygen/);
  });

  it("exits 5 when asked to encrypt a file that is already encrypted", async () => {
    const result = await run(["secret", "encrypt", path.join(repo.work, "token-app", "token.enc.yaml")]);
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toMatch(/is already encrypted by sops/);
  });
});

describe("what the agent does with it", () => {
  it("decrypts the Secret through a KSOPS generator and applies it", async () => {
    const rev = await repo.commit({
      "token-app/kustomization.yaml": "resources: [configmap.yaml]\ngenerators: [secret-generator.yaml]\n",
      "token-app/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: token-app\ndata:\n  MODE: demo\n",
      "token-app/secret-generator.yaml": "apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: token\nfiles: [./token.enc.yaml]\n",
    });
    agent = await startAgent({ kubeconfig: kubeconfigPath, namespace: NS });
    await applyApp(objects, application("token-app", {
      repoURL: repo.url, path: "token-app", destNamespace: "e2e-secrets", agentNamespace: NS,
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    }));
    await appReader(kc, NS).until("token-app", "Synced and Healthy", syncedAndHealthy(rev), 90_000);
    const secret = await core.readNamespacedSecret({ name: "api-token", namespace: "e2e-secrets" });
    expect(Buffer.from(secret.data?.TOKEN ?? "", "base64").toString()).toBe(TOKEN);
    expect(agent.logs()).not.toContain(TOKEN);
  });
});
