import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { droppedFields } from "./owned.ts";

const deployment = (spec: Record<string, unknown>): Manifest => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec });

/** A live Deployment whose last apply by `tether` set replicas, a nodeSelector and one container with a port. */
const live: Manifest = {
  ...deployment({ replicas: 2 }),
  metadata: {
    name: "web",
    managedFields: [
      { manager: "kube-controller-manager", operation: "Update", apiVersion: "apps/v1", fieldsV1: { "f:status": { "f:replicas": {} } } },
      {
        manager: "tether", operation: "Apply", apiVersion: "apps/v1",
        fieldsV1: {
          "f:metadata": { "f:labels": { "f:tether.dev/app": {} } },
          "f:spec": {
            "f:replicas": {},
            "f:template": { "f:spec": {
              "f:nodeSelector": { "f:disk": {} },
              "f:containers": { 'k:{"name":"app"}': { ".": {}, "f:name": {}, "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } } } },
            } },
          },
        },
      },
    ],
  },
};

const container = { name: "app", ports: [{ containerPort: 80 }] };

describe("droppedFields", () => {
  it("finds nothing when Git still sets every field tether applied (a defaulted merge key counts as equal)", () => {
    const desired = { ...deployment({ replicas: 2, template: { spec: { nodeSelector: { disk: "ssd" }, containers: [container] } } }), metadata: { name: "web", labels: { "tether.dev/app": "x" } } };
    expect(droppedFields(desired, live)).toEqual([]);
  });

  it("finds a nodeSelector deleted from Git", () => {
    const desired = { ...deployment({ replicas: 2, template: { spec: { containers: [container] } } }), metadata: { name: "web", labels: { "tether.dev/app": "x" } } };
    expect(droppedFields(desired, live)).toEqual(["/spec/template/spec/nodeSelector"]);
  });

  it("finds a list item (by its merge key) deleted from Git", () => {
    const desired = { ...deployment({ replicas: 2, template: { spec: { nodeSelector: { disk: "ssd" }, containers: [{ name: "app" }] } } }), metadata: { name: "web", labels: { "tether.dev/app": "x" } } };
    expect(droppedFields(desired, live)).toEqual(['/spec/template/spec/containers/k:{"name":"app"}/ports']);
  });

  it("ignores other managers and other API versions", () => {
    const desired = { ...deployment({}), metadata: { name: "web" } };
    expect(droppedFields(desired, live, "kubectl")).toEqual([]);
    expect(droppedFields({ ...desired, apiVersion: "apps/v1beta2" }, live)).toEqual([]);
  });

  it.each([
    ["a label whose name has a slash", { metadata: { name: "web", labels: {} }, spec: { replicas: 2, template: { spec: { nodeSelector: { disk: "ssd" }, containers: [container] } } } },
      ["/metadata/labels/tether.dev~1app"]],
    ["two fields at once, each by its own path", { metadata: { name: "web", labels: { "tether.dev/app": "a" } }, spec: { template: { spec: { containers: [container] } } } },
      ["/spec/replicas", "/spec/template/spec/nodeSelector"]],
    ["a whole list item", { metadata: { name: "web", labels: { "tether.dev/app": "a" } }, spec: { replicas: 2, template: { spec: { nodeSelector: { disk: "ssd" }, containers: [] } } } },
      ['/spec/template/spec/containers/k:{"name":"app"}']],
  ])("names %s", (_what, desired, dropped) => {
    expect(droppedFields({ apiVersion: "apps/v1", kind: "Deployment", ...desired }, live)).toEqual(dropped);
  });
});
