// `tether preview` on this repository's own components/: a clone, two commits that change it, and
// what the preview says about them, without a cluster.
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../harness/paths.ts";
import { tether } from "./support.ts";

const KEY = path.join(repoRoot, "test", "fixtures", "demo.agekey");
const secret = (value: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: ${value}\n`;
// vault-app shows how a changed Secret is masked: a plain one, which the agent (and so the preview) refuses without the opt-out.
const app = (name: string) => `apiVersion: tether.dev/v1alpha1
kind: Application
metadata:
  name: ${name}${name === "vault-app" ? '\n  annotations:\n    tether.dev/allow-plaintext-secrets: "true"' : ""}
spec:
  project: apps
  source:
    path: components/apps/${name}
  destination:
    server: https://kubernetes.default.svc
    namespace: ${name}
`;

let dir: string;
let git: SimpleGit;
let base: string;
let head: string;

async function commit(files: Record<string, string | null>, message: string): Promise<string> {
  for (const [file, content] of Object.entries(files)) {
    const full = path.join(dir, file);
    if (content === null) await rm(full, { recursive: true, force: true });
    else {
      await mkdir(path.dirname(full), { recursive: true });
      await writeFile(full, content);
    }
  }
  await git.add(["-A"]);
  await git.commit(message);
  return (await git.revparse(["HEAD"])).trim();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tether-preview-test-"));
  await simpleGit().clone(repoRoot, dir, ["--no-hardlinks", "--quiet"]);
  git = simpleGit(dir);
  await git.addConfig("user.name", "Tether Test").addConfig("user.email", "test@tether.dev").addConfig("commit.gpgsign", "false");
  // The preview checks each app against its project, as the agent does: project apps lets these namespaces in.
  const projects = (await readFile(path.join(dir, "projects/apps.yaml"), "utf8"))
    .replace("  destinations:\n", "  destinations:\n    - {server: https://kubernetes.default.svc, namespace: vault-app}\n    - {server: https://kubernetes.default.svc, namespace: new-app}\n");
  base = await commit({
    "projects/apps.yaml": projects, "components/apps/vault-app.yaml": app("vault-app"), "components/apps/vault-app/secret.yaml": secret("hunter2"),
  }, "base");
  const configmap = await readFile(path.join(dir, "components/apps/message-app/configmap.yaml"), "utf8");
  head = await commit({
    "components/apps/message-app/configmap.yaml": configmap.replace(/MESSAGE: .*/, 'MESSAGE: "Hello from the pull request"'),
    "components/apps/vault-app/secret.yaml": secret("hunter3"),
    "components/apps/guestbook-ui.yaml": null,
    "components/apps/new-app.yaml": app("new-app"),
    "components/apps/new-app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\ndata:\n  A: b\n",
  }, "the pull request");
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("tether preview", () => {
  it("lists the apps added, removed and changed, with object diffs and Secret values masked (exit 1)", async () => {
    const r = await tether(["preview", "--base", base, "--head", head, "--age-key-file", KEY], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^5 of \d+ applications change between [0-9a-f]{7} and [0-9a-f]{7}:/);
    expect(r.stdout).toContain("~ Application message-app (changed)\n    ~ ConfigMap/message-app\n");
    expect(r.stdout).toContain("+ Application new-app (added)\n    + ConfigMap/new\n");
    expect(r.stdout).toContain("- Application guestbook-ui (removed)\n");
    expect(r.stdout).toContain('-  MESSAGE: Hello from Git, delivered by Tether\n+  MESSAGE: Hello from the pull request');
    // The changed Secret shows that its value changed, never the value.
    expect(r.stdout).toContain("~ Application vault-app (changed)\n    ~ Secret/creds");
    expect(r.stdout).toMatch(/- {2}password: \++\n\+ {2}password: \++\n/);
    expect(r.stdout).not.toMatch(/hunter[23]/);
    // The root's own objects: the Application manifests that came and went.
    expect(r.stdout).toContain("~ Application root (changed)");
  });

  it("-o json and -o markdown carry the same changes", async () => {
    const json = await tether(["preview", "--base", base, "--head", head, "--age-key-file", KEY, "-o", "json"], { cwd: dir });
    expect(json.exitCode, json.stderr).toBe(1);
    const preview = JSON.parse(json.stdout) as { base: string; head: string; apps: { name: string; change: string }[] };
    expect(preview.base).toBe(base);
    expect(preview.head).toBe(head);
    expect(preview.apps.map((a) => `${a.name}:${a.change}`).sort()).toEqual(["guestbook-ui:removed", "message-app:changed", "new-app:added", "root:changed", "vault-app:changed"]);
    const md = await tether(["preview", "--base", base, "--head", head, "--age-key-file", KEY, "-o", "markdown"], { cwd: dir });
    expect(md.stdout).toContain("| `new-app` | added | + `ConfigMap/new` |");
    expect(md.stdout).toContain("```diff");
    expect(md.stdout).not.toMatch(/hunter[23]/);
  });

  it("says nothing changes between a commit and itself (exit 0)", async () => {
    const r = await tether(["preview", "--base", head, "--head", "HEAD", "--age-key-file", KEY], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^No changes between [0-9a-f]{7} and [0-9a-f]{7} \(\d+ applications\)\.$/);
  });

  it("without the age key, an app with encrypted files is reported, not shown as emptied", async () => {
    const r = await tether(["preview", "--base", base, "--head", head], { cwd: dir, env: { SOPS_AGE_KEY_FILE: undefined } });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toContain("~ Application message-app (changed)\n    error at base:");
    expect(r.stdout).toContain("(for a preview: pass --age-key-file)");
    expect(r.stdout).not.toContain("- ConfigMap/message-app");
  });

  it("names a revision the clone does not have (exit 2)", async () => {
    const r = await tether(["preview", "--base", "no-such-branch"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain("--base no-such-branch is not a commit of the Git repository");
  });
});
