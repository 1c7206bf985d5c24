import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { repoRoot, toolPath } from "../harness/paths.ts";

const fixtures = path.join(repoRoot, "test", "fixtures");
const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as Record<string, any>).filter(Boolean);

describe("the tool binaries", () => {
  it("sops encrypts a Secret for an age recipient and decrypts it with the identity", async () => {
    const { stdout: identity } = await execa(toolPath("age-keygen"));
    const recipient = /public key: (age1\w+)/.exec(identity)?.[1];
    expect(recipient).toMatch(/^age1/);
    const secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  TOKEN: s3cr3t-value\n";

    const { stdout: encrypted } = await execa(toolPath("sops"), ["encrypt", "--age", recipient!,
      "--encrypted-regex", "^(data|stringData)$", "--filename-override", "secret.yaml"], { input: secret, cwd: os.tmpdir() });
    expect(encrypted).not.toContain("s3cr3t-value");
    expect(encrypted).toContain("name: token");
    expect(encrypted).toMatch(/TOKEN: ENC\[AES256_GCM/);

    const { stdout: decrypted } = await execa(toolPath("sops"), ["decrypt", "--input-type", "yaml", "--output-type", "yaml"],
      { input: encrypted, env: { SOPS_AGE_KEY: identity } });
    expect(docs(decrypted)[0]?.stringData).toEqual({ TOKEN: "s3cr3t-value" });
  });

  it("helm template renders a chart with a value override", async () => {
    const { stdout } = await execa(toolPath("helm"), ["template", "demo", path.join(fixtures, "helm", "hello"),
      "--namespace", "web", "--set", "replicas=3"]);
    const [deployment] = docs(stdout).filter((d) => d.kind === "Deployment");
    expect(deployment?.metadata?.name).toBe("demo-hello");
    expect(deployment?.spec?.replicas).toBe(3);
  });

  it("kustomize build renders an overlay with a name prefix and an image override", async () => {
    const { stdout } = await execa(toolPath("kustomize"), ["build", path.join(fixtures, "kustomize", "overlay")]);
    const [deployment] = docs(stdout).filter((d) => d.kind === "Deployment");
    expect(deployment?.metadata?.name).toBe("staging-web");
    expect(deployment?.spec?.template?.spec?.containers?.[0]?.image).toBe("nginx:1.27.1");
  });
});
