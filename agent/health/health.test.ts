import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { HealthStatusCode, Manifest } from "../api/types.ts";
import { assessHealth, resourceHealth, worst, type HealthResult } from "./index.ts";

function fixture(name: string): Manifest {
  return parse(readFileSync(new URL(`./testdata/${name}.yaml`, import.meta.url), "utf8")) as Manifest;
}

describe("assessHealth", () => {
  it.each<[string, HealthStatusCode, string | undefined]>([
    ["deployment-healthy", "Healthy", undefined],
    ["deployment-progressing-updating", "Progressing", "Waiting for rollout to finish: 1 out of 3 new replicas have been updated..."],
    ["deployment-progressing-old-replicas", "Progressing", "Waiting for rollout to finish: 1 old replicas are pending termination..."],
    ["deployment-progressing-unavailable", "Progressing", "Waiting for rollout to finish: 2 of 3 updated replicas are available..."],
    ["deployment-progressing-generation", "Progressing", "Waiting for rollout to finish: observed deployment generation less than desired generation"],
    ["deployment-degraded-deadline", "Degraded", 'Deployment "message-app" exceeded its progress deadline'],
    ["deployment-suspended", "Suspended", "Deployment is paused"],
    ["deployment-deleting", "Progressing", "Pending deletion: waiting for finalizers foregroundDeletion"],

    ["statefulset-healthy", "Healthy", "statefulset rolling update complete 3 pods at revision redis-6c8f5d9b7..."],
    ["statefulset-progressing-ready", "Progressing", "Waiting for 2 pods to be ready..."],
    ["statefulset-progressing-rolling", "Progressing", "Waiting for rollout to finish: 1 out of 3 new pods have been updated..."],
    ["statefulset-progressing-unobserved", "Progressing", "Waiting for statefulset spec update to be observed..."],
    ["statefulset-progressing-partitioned", "Progressing", "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated..."],
    ["statefulset-healthy-partitioned", "Healthy", "partitioned roll out complete: 1 new pods have been updated..."],
    ["statefulset-healthy-ondelete", "Healthy", "statefulset has 3 ready pods"],

    ["daemonset-healthy", "Healthy", undefined],
    ["daemonset-progressing-updating", "Progressing", 'Waiting for daemon set "node-exporter" rollout to finish: 1 out of 2 new pods have been updated...'],
    ["daemonset-progressing-unavailable", "Progressing", 'Waiting for daemon set "node-exporter" rollout to finish: 1 of 2 updated pods are available...'],
    ["daemonset-progressing-generation", "Progressing", "Waiting for rollout to finish: observed daemon set generation less than desired generation"],
    ["daemonset-healthy-ondelete", "Healthy", "daemon set 0 out of 2 new pods have been updated"],

    ["replicaset-healthy", "Healthy", undefined],
    ["replicaset-progressing", "Progressing", "Waiting for rollout to finish: 1 out of 3 new replicas are available..."],
    [
      "replicaset-degraded-quota",
      "Degraded",
      'pods "guestbook-ui-85985d774c-x7k2p" is forbidden: exceeded quota: compute-resources, requested: limits.cpu=500m, used: limits.cpu=2, limited: limits.cpu=2',
    ],

    ["pod-running-ready", "Healthy", undefined],
    ["pod-pending", "Progressing", undefined],
    [
      "pod-crashloopbackoff",
      "Degraded",
      'container "message-app" is CrashLoopBackOff: back-off 2m40s restarting failed container=message-app pod=message-app-7d9c8b6f4-2xw9d_staging(0b1a5c2e-5d0f-4a57-9f0e-7d8a0d2b6c11)',
    ],
    ["pod-imagepullbackoff", "Degraded", 'container "message-app" is ImagePullBackOff: Back-off pulling image "ghcr.io/example/message-app:does-not-exist"'],
    ["pod-init-crashloopbackoff", "Degraded", 'container "migrate" is CrashLoopBackOff'],
    ["pod-hook-imagepullbackoff", "Progressing", undefined],
    ["pod-running-not-ready", "Progressing", undefined],
    ["pod-running-restarted-not-ready", "Degraded", undefined],
    ["pod-running-job", "Progressing", undefined],
    ["pod-succeeded", "Healthy", undefined],
    ["pod-failed-exit-code", "Degraded", 'container "migrate" failed with exit code 2'],
    ["pod-failed-oomkilled", "Degraded", "OOMKilled"],
    ["pod-failed-evicted", "Degraded", "The node was low on resource: ephemeral-storage. Threshold quantity: 1Gi, available: 512Mi. "],

    ["job-complete", "Healthy", "Reached expected number of succeeded pods"],
    ["job-failed", "Degraded", "Job has reached the specified backoff limit"],
    ["job-running", "Progressing", undefined],
    ["job-suspended", "Suspended", "Job suspended"],
    ["job-resumed", "Progressing", undefined],

    ["service-clusterip", "Healthy", undefined],
    ["service-loadbalancer-pending", "Progressing", "Waiting for the load balancer to be assigned an address"],
    ["service-loadbalancer-ready", "Healthy", undefined],

    ["pvc-bound", "Healthy", undefined],
    ["pvc-pending", "Progressing", "Waiting for a volume to be bound"],
    ["pvc-lost", "Degraded", "The bound PersistentVolume no longer exists; the data it held is unavailable"],

    ["ingress-no-address", "Progressing", "Waiting for an ingress controller to publish an address"],
    ["ingress-with-address", "Healthy", undefined],

    ["crd-established", "Healthy", undefined],
    ["crd-no-conditions", "Progressing", "Waiting for the CRD to be established"],
    ["crd-names-not-accepted", "Degraded", 'CRD names have not been accepted: "cert" is already in use'],
    ["crd-non-structural", "Degraded", "Schema violations found: spec.validation.openAPIV3Schema.type: Required value: must not be empty at the root"],
    ["crd-terminating", "Progressing", "Pending deletion: waiting for finalizers customresourcecleanup.apiextensions.k8s.io"],

    ["namespace-active", "Healthy", undefined],
    ["namespace-terminating", "Progressing", "Pending deletion"],

    ["application-no-status", "Progressing", "Waiting for the Application to report its health"],
    ["application-healthy", "Healthy", undefined],
    ["application-degraded", "Degraded", 'Deployment/staging/message-app: Deployment "message-app" exceeded its progress deadline'],
    ["application-outofsync-automated", "Progressing", "Waiting for the automated sync of an OutOfSync Application"],
    ["application-outofsync-manual", "Healthy", "The Application is OutOfSync"],

    ["configmap", "Healthy", undefined],
  ])("%s is %s", (name, status, message) => {
    expect(assessHealth(fixture(name))).toEqual<HealthResult>(message === undefined ? { status } : { status, message });
  });

  it("reports an object that does not exist as Missing", () => {
    expect(assessHealth(undefined)).toEqual({ status: "Missing" });
  });

  it("judges every API version of a kind with the same check", () => {
    const legacy = { ...fixture("deployment-suspended"), apiVersion: "apps/v1beta2" };
    expect(assessHealth(legacy).status).toBe("Suspended");
  });

  it("does not mistake a same-named kind of another group for a built-in one", () => {
    const knative: Manifest = {
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      metadata: { name: "hello", namespace: "staging" },
      spec: { type: "LoadBalancer" },
    };
    expect(assessHealth(knative)).toEqual({ status: "Healthy" });
  });

  it("lets a custom check judge a kind the table does not know", () => {
    const certificate: Manifest = {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "guestbook-tls", namespace: "staging" },
      status: { conditions: [{ type: "Ready", status: "False", message: "Issuing certificate as Secret does not exist" }] },
    };
    const checks = { "cert-manager.io/Certificate": () => ({ status: "Progressing" as const, message: "Issuing" }) };
    expect(assessHealth(certificate, { checks })).toEqual({ status: "Progressing", message: "Issuing" });
  });

  it("reports Unknown with the reason when a check throws", () => {
    const checks = {
      Pod: () => {
        throw new Error("unexpected status shape");
      },
    };
    expect(assessHealth(fixture("pod-running-ready"), { checks })).toEqual({
      status: "Unknown",
      message: "Health check for Pod failed: unexpected status shape",
    });
  });

  it("tolerates a live object whose status has not been written yet", () => {
    const fresh: Manifest = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", generation: 1 }, spec: { replicas: 2 } };
    expect(assessHealth(fresh).status).toBe("Progressing");
  });
});

describe("worst", () => {
  it.each<[HealthStatusCode[], HealthStatusCode]>([
    [[], "Healthy"],
    [["Healthy", "Healthy"], "Healthy"],
    [["Healthy", "Suspended"], "Suspended"],
    [["Suspended", "Progressing"], "Progressing"],
    [["Progressing", "Missing", "Healthy"], "Missing"],
    [["Missing", "Degraded"], "Degraded"],
    [["Degraded", "Unknown", "Healthy"], "Unknown"],
  ])("of %j is %s", (statuses, expected) => {
    expect(worst(...statuses)).toBe(expected);
  });
});

describe("resourceHealth (what status.resources lists)", () => {
  const obj = (apiVersion: string, kind: string, status?: Record<string, unknown>): Manifest =>
    ({ apiVersion, kind, metadata: { name: "x", namespace: "staging" }, ...(status ? { status } : {}) });
  it.each<[string, Manifest | undefined, HealthResult | undefined]>([
    ["a ConfigMap has none, as in Argo CD (no health check for its kind)", obj("v1", "ConfigMap"), undefined],
    ["a Role has none", obj("rbac.authorization.k8s.io/v1", "Role"), undefined],
    ["a custom resource without conditions has none", obj("example.com/v1", "Widget", {}), undefined],
    ["a custom resource whose Ready condition is True is Healthy", obj("example.com/v1", "Widget", { conditions: [{ type: "Ready", status: "True" }] }), { status: "Healthy" }],
    ["a custom resource still reconciling is Progressing", obj("example.com/v1", "Widget", { conditions: [{ type: "Reconciling", status: "True", message: "working" }] }),
      { status: "Progressing", message: "working" }],
    ["a Namespace has its built-in check", { ...obj("v1", "Namespace", { phase: "Active" }), metadata: { name: "ns" } }, { status: "Healthy" }],
    ["an object that does not exist is Missing", undefined, { status: "Missing" }],
  ])("%s", (_title, live, expected) => {
    expect(resourceHealth(live)).toEqual(expected);
  });

  it("a ConfigMap being deleted is Progressing (Pending deletion), as in Argo CD", () => {
    const cm = { ...obj("v1", "ConfigMap"), metadata: { name: "x", namespace: "staging", deletionTimestamp: "2026-12-06T06:00:00Z" } };
    expect(resourceHealth(cm)).toEqual({ status: "Progressing", message: "Pending deletion" });
  });
});
