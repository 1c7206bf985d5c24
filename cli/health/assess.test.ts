import { describe, expect, it } from "vitest";
import { assess } from "./assess.ts";

const certificates = `
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web-tls, namespace: apps}
status:
  conditions:
  - {type: Ready, status: "False", reason: DoesNotExist}
  - {type: Issuing, status: "True", message: Issuing certificate as Secret does not exist}
---
apiVersion: v1
kind: List
items:
- apiVersion: cert-manager.io/v1
  kind: Certificate
  metadata: {name: api-tls}
  status: {conditions: [{type: Ready, status: "True", message: Certificate is up to date and has not expired}]}
`;

describe("tether health's assessment", () => {
  it("judges every object of every document (Lists unwrapped) with the agent's built-in rules", () => {
    expect(assess({ files: [{ name: "certs.yaml", text: certificates }] }).verdicts).toEqual([
      { kind: "Certificate", name: "web-tls", status: "Progressing", message: "Issuing certificate as Secret does not exist", rule: "built-in" },
      { kind: "Certificate", name: "api-tls", status: "Healthy", message: "Certificate is up to date and has not expired", rule: "built-in" },
    ]);
  });

  it("applies --lua to every kind given, as a tether-cm customization of that kind", () => {
    const lua = "if obj.status.conditions[1].status == 'True' then return {status='Healthy'} end return {status='Degraded', message='not yet'}";
    expect(assess({ files: [{ name: "certs.yaml", text: certificates }], lua }).verdicts.map((v) => [v.status, v.rule])).toEqual([["Degraded", "lua"], ["Healthy", "lua"]]);
  });

  it("reads tether-cm from --config, a ConfigMap manifest, and reports its bad keys", () => {
    const config = `apiVersion: v1
kind: ConfigMap
metadata: {name: tether-cm}
data:
  resource.customizations.healthCEL.cert-manager.io_Certificate: |
    current: status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')
    failed: status.conditions.exists(c, c.type == 'Ready' && has(c.reason) && c.reason == 'DoesNotExist')
  resource.customizations.helth.apps_Deployment: oops
`;
    const out = assess({ files: [{ name: "certs.yaml", text: certificates }], config: { name: "cm.yaml", text: config } });
    expect(out.verdicts.map((v) => [v.status, v.rule])).toEqual([["Degraded", "cel"], ["Healthy", "cel"]]);
    expect(out.problems.map((p) => p.key)).toEqual(["resource.customizations.helth.apps_Deployment"]);
  });

  it.each([
    ["a document that is not an object", "just a string", "certs.yaml: document 1 is not a Kubernetes object (it needs apiVersion and kind)"],
    ["broken YAML", "a: [", "certs.yaml: document 1 is not valid YAML"],
  ])("refuses %s, naming the file and document", (_title, text, message) => {
    expect(() => assess({ files: [{ name: "certs.yaml", text }] })).toThrow(message);
  });
});
