import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { isInlineKubeconfig, loadKubeconfig, pointServerAt } from "./kubeconfig.ts";

// What k3s writes to /etc/rancher/k3s/k3s.yaml (credentials shortened).
const K3S_YAML = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTi...
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: LS0tLS1CRUdJTi...
    client-key-data: LS0tLS1CRUdJTi...
`;

const servers = (text: string) => (parse(text) as { clusters: { cluster: { server: string } }[] }).clusters.map((c) => c.cluster.server);

describe("pointServerAt", () => {
  it("points k3s' loopback server at the host and keeps the port", () => {
    expect(servers(pointServerAt(K3S_YAML, "203.0.113.10"))).toEqual(["https://203.0.113.10:6443"]);
  });

  it("keeps every other field as k3s wrote it", () => {
    const out = parse(pointServerAt(K3S_YAML, "k3s.example.com")) as Record<string, unknown>;
    const original = parse(K3S_YAML) as { clusters: { cluster: Record<string, string> }[] };
    original.clusters[0]!.cluster.server = "https://k3s.example.com:6443";
    expect(out).toEqual(original);
  });

  it("brackets an IPv6 host", () => {
    expect(servers(pointServerAt(K3S_YAML, "2001:db8::10"))).toEqual(["https://[2001:db8::10]:6443"]);
  });

  it("leaves a server that is not on loopback alone", () => {
    const text = K3S_YAML.replace("127.0.0.1", "10.1.2.3");
    expect(servers(pointServerAt(text, "203.0.113.10"))).toEqual(["https://10.1.2.3:6443"]);
  });

  it("says what is wrong with a kubeconfig without clusters", () => {
    expect(() => pointServerAt("apiVersion: v1\nkind: Config\n", "h")).toThrow(/no clusters/);
  });
});

describe("loadKubeconfig", () => {
  it.each([
    ["a YAML kubeconfig", K3S_YAML, true],
    ["a JSON kubeconfig", '{"apiVersion":"v1","kind":"Config"}', true],
    ["a relative path", "kubeconfig", false],
    ["a home path", "~/.kube/config", false],
  ])("tells %s apart from a path", (_what, value, inline) => {
    expect(isInlineKubeconfig(value)).toBe(inline);
  });

  it("reads a path relative to the project directory", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tether-kubeconfig-"));
    writeFileSync(path.join(dir, "kubeconfig"), K3S_YAML);
    expect(loadKubeconfig("kubeconfig", dir)).toBe(K3S_YAML);
  });

  it("names the missing file and the command that fixes it", () => {
    expect(() => loadKubeconfig("missing/kubeconfig", "/nonexistent"))
      .toThrow(/\/nonexistent\/missing\/kubeconfig, which does not exist.*pulumi config set tether:kubeconfig/);
  });
});
