import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Manifest } from "../api/types.ts";
import {
  compare, DECRYPTED_PATHS_ANNOTATION, decryptedIn, markDecrypted, maskLive, maskSecret, maskSecrets, normalize, SECRET_MASK, unifiedDiff,
} from "./index.ts";
import { invalidIgnoreRules, respectIgnored } from "./ignore.ts";
import { diffLines } from "./lines.ts";

function fixture(name: string): Manifest {
  return parse(readFileSync(new URL(`./testdata/${name}.yaml`, import.meta.url), "utf8")) as Manifest;
}

/** A deep copy of `obj` changed by `edit`, for "someone changed the live object" cases. */
function edited(obj: Manifest, edit: (copy: any) => void): Manifest {
  const copy = structuredClone(obj);
  edit(copy);
  return copy;
}

const desired = fixture("deployment-desired");
const live = fixture("deployment-live");

describe("normalize", () => {
  const normalized = normalize(live) as any;

  it("removes what the server owns: managedFields, resourceVersion, uid, generation, creationTimestamp, status", () => {
    expect(Object.keys(normalize(live).metadata).sort()).toEqual(["annotations", "labels", "name", "namespace"]);
    expect(normalized.status).toBeUndefined();
  });

  it("drops null fields, such as the pod template's creationTimestamp", () => {
    expect(normalized.spec.template.metadata).toEqual({ labels: { "app.kubernetes.io/name": "guestbook-ui" } });
  });

  it("keeps empty maps that mean something, such as emptyDir", () => {
    expect(normalized.spec.template.spec.volumes).toEqual([{ emptyDir: {}, name: "cache" }]);
  });

  it("drops the last-applied annotation and the annotations map it leaves empty", () => {
    expect(normalize(fixture("secret-live")).metadata.annotations).toBeUndefined();
  });

  it("folds a Secret's stringData into base64 data, as the API server stores it", () => {
    expect(normalize(fixture("secret-desired"))).toMatchObject({
      data: { username: "bWVzc2FnZXM=", password: "Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5LXN0YXBsZQ==" },
    });
    expect(normalize(fixture("secret-desired")).stringData).toBeUndefined();
  });

  it("keeps null list items and a member named __proto__ as data, as the API server returns them", () => {
    const odd = JSON.parse('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"spec":{"args":[null,"a"],"__proto__":{"b":1}}}') as Manifest;
    const spec = normalize(odd).spec as Record<string, unknown>;
    expect(spec.args).toEqual([null, "a"]);
    expect(Object.keys(spec)).toEqual(["args", "__proto__"]);
    expect(Object.getPrototypeOf(spec)).toBe(Object.prototype);
  });

  it("does not change the object it is given", () => {
    const before = structuredClone(live);
    normalize(live, { ignoreDifferences: [{ group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas"] }] });
    expect(live).toEqual(before);
  });
});

describe("compare", () => {
  it("does not count defaults added by the server as drift", () => {
    expect(compare({ desired, live })).toMatchObject({ status: "Synced", differences: [] });
  });

  it("reports a changed replica count as drift, naming the field", () => {
    const scaled = edited(live, (d) => (d.spec.replicas = 5));
    expect(compare({ desired, live: scaled })).toMatchObject({ status: "OutOfSync", differences: ["/spec/replicas"] });
  });

  it("reports an object missing from the cluster as OutOfSync", () => {
    expect(compare({ desired, live: undefined })).toMatchObject({ status: "OutOfSync", differences: [""], live: undefined });
  });

  it("reports a container added by hand as drift, because lists compare by position and length", () => {
    const sidecar = edited(live, (d) => (d.spec.template.spec.containers as unknown[]).push({ name: "debug", image: "busybox:1.36" }));
    expect(compare({ desired, live: sidecar })).toMatchObject({ status: "OutOfSync", differences: ["/spec/template/spec/containers"] });
  });

  it("reports a changed field inside a list item by its index", () => {
    const retagged = edited(live, (d) => (d.spec.template.spec.containers[0].image = "gcr.io/heptio-images/ks-guestbook-demo:0.1"));
    expect(compare({ desired, live: retagged }).differences).toEqual(["/spec/template/spec/containers/0/image"]);
  });

  it("reports a label removed from the live object as drift", () => {
    const unlabelled = edited(live, (d) => delete d.metadata.labels["tether.dev/app"]);
    expect(compare({ desired, live: unlabelled }).differences).toEqual(["/metadata/labels/tether.dev~1app"]);
  });

  it("hides a field named by an ignoreDifferences jsonPointer (e.g. replicas owned by an HPA)", () => {
    const scaled = edited(live, (d) => (d.spec.replicas = 5));
    const ignoreDifferences = [{ group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas"] }];
    expect(compare({ desired, live: scaled, ignoreDifferences }).status).toBe("Synced");
  });

  it("matches ignoreDifferences against the live object, so a desired object without a namespace loses the same fields", () => {
    const scaled = edited(live, (d) => (d.spec.replicas = 5));
    const unplaced = edited(desired, (d) => delete d.metadata.namespace);
    const ignoreDifferences = [{ group: "apps", kind: "Deployment", name: "guestbook-ui", namespace: "staging", jsonPointers: ["/spec/replicas"] }];
    expect(compare({ desired: unplaced, live: scaled, ignoreDifferences }).status).toBe("Synced");
  });

  it("reads escaped jsonPointer tokens (~1 for /) as RFC 6901 does", () => {
    const restarted = edited(live, (d) => (d.metadata.annotations["kubectl.kubernetes.io/restartedAt"] = "2025-05-12T10:00:00Z"));
    const withAnnotation = edited(desired, (d) => (d.metadata.annotations["kubectl.kubernetes.io/restartedAt"] = "2025-05-01T08:00:00Z"));
    const ignoreDifferences = [{ group: "apps", kind: "Deployment", jsonPointers: ["/metadata/annotations/kubectl.kubernetes.io~1restartedAt"] }];
    expect(compare({ desired: withAnnotation, live: restarted }).status).toBe("OutOfSync");
    expect(compare({ desired: withAnnotation, live: restarted, ignoreDifferences }).status).toBe("Synced");
  });

  it.each([
    ["another kind", { group: "apps", kind: "StatefulSet" }],
    ["another name", { group: "apps", kind: "Deployment", name: "message-app" }],
    ["another namespace", { group: "apps", kind: "Deployment", namespace: "production" }],
    ["the core group (group omitted)", { kind: "Deployment" }],
  ])("does not apply an ignoreDifferences rule for %s", (_what, rule) => {
    const scaled = edited(live, (d) => (d.spec.replicas = 5));
    const ignoreDifferences = [{ ...rule, jsonPointers: ["/spec/replicas"] }];
    expect(compare({ desired, live: scaled, ignoreDifferences }).status).toBe("OutOfSync");
  });

  it("hides the fields managedFieldsManagers own in the live object's managedFields (an autoscaler's replicas, an injected container's image), and only those", () => {
    const scaled = edited(live, (d) => {
      d.spec.replicas = 5;
      d.spec.template.spec.containers[0].image = "injected:2";
      d.metadata.managedFields = [
        { manager: "tether", operation: "Apply", apiVersion: "apps/v1", fieldsV1: { "f:spec": { "f:replicas": {} } } },
        { manager: "hpa-controller", operation: "Update", apiVersion: "apps/v1", fieldsV1: { "f:spec": { "f:replicas": {} } } },
        { manager: "injector", operation: "Update", apiVersion: "apps/v1",
          fieldsV1: { "f:spec": { "f:template": { "f:spec": { "f:containers": { [`k:{"name":"${d.spec.template.spec.containers[0].name}"}`]: { "f:image": {} } } } } } } },
      ];
    });
    const rule = (managers: string[]) => [{ group: "apps", kind: "Deployment", managedFieldsManagers: managers }];
    expect(compare({ desired, live: scaled, ignoreDifferences: rule(["hpa-controller", "injector"]) }).status).toBe("Synced");
    expect(compare({ desired, live: scaled, ignoreDifferences: rule(["hpa-controller"]) }).differences).toEqual(["/spec/template/spec/containers/0/image"]);
    expect(compare({ desired, live: scaled, ignoreDifferences: rule(["someone-else"]) }).status).toBe("OutOfSync");
  });

  it("hides what jqPathExpressions name, a list item picked by select() on each side wherever it sits", () => {
    const injected = edited(live, (d) => {
      d.spec.replicas = 7;
      (d.spec.template.spec.containers as unknown[]).unshift({ name: "istio-proxy", image: "proxy:1" });
    });
    const ignoreDifferences = [{ group: "apps", kind: "Deployment", jqPathExpressions: [".spec.replicas", '.spec.template.spec.containers[] | select(.name == "istio-proxy")'] }];
    expect(compare({ desired, live: injected }).status).toBe("OutOfSync");
    expect(compare({ desired, live: injected, ignoreDifferences }).status).toBe("Synced");
    const changed = edited(injected, (d) => (d.spec.template.spec.containers[1].image = "other:2"));
    expect(compare({ desired, live: changed, ignoreDifferences }).differences).toEqual(["/spec/template/spec/containers/0/image"]);
  });

  it("applies an ignoreDifferences rule with * for group and kind to every object", () => {
    const scaled = edited(live, (d) => (d.spec.replicas = 5));
    const ignoreDifferences = [{ group: "*", kind: "*", jsonPointers: ["/spec/replicas"] }];
    expect(compare({ desired, live: scaled, ignoreDifferences }).status).toBe("Synced");
  });

  it("treats an empty list in Git as the absent field the server stores", () => {
    const withArgs = edited(desired, (d) => (d.spec.template.spec.containers[0].args = []));
    expect(compare({ desired: withArgs, live }).status).toBe("Synced");
  });

  it("compares a Secret given as stringData with the base64 data stored in the cluster", () => {
    expect(compare({ desired: fixture("secret-desired"), live: fixture("secret-live") }).status).toBe("Synced");
    const rotated = edited(fixture("secret-desired"), (d) => (d.stringData.password = "Tr0ub4dor&3"));
    expect(compare({ desired: rotated, live: fixture("secret-live") })).toMatchObject({ status: "OutOfSync", differences: ["/data/password"] });
  });

  describe("with a server-side-apply dry-run result (predicted)", () => {
    it("is Synced when the dry-run stores what is live", () => {
      expect(compare({ desired, live, predicted: live }).status).toBe("Synced");
    });

    it("sees through canonicalization the subset rule cannot, such as 1024Mi stored as 1Gi", () => {
      const asWritten = edited(desired, (d) => (d.spec.template.spec.containers[0].resources.limits.memory = "1024Mi"));
      const stored = edited(live, (d) => (d.spec.template.spec.containers[0].resources.limits.memory = "1Gi"));
      expect(compare({ desired: asWritten, live: stored }).status).toBe("OutOfSync");
      expect(compare({ desired: asWritten, live: stored, predicted: stored }).status).toBe("Synced");
    });

    it("compares the whole object, so a field only live has is drift", () => {
      const predicted = edited(live, (d) => delete d.spec.template.spec.containers[0].imagePullPolicy);
      expect(compare({ desired, live, predicted }).differences).toEqual(["/spec/template/spec/containers/0/imagePullPolicy"]);
    });

    it("still applies ignoreDifferences to both sides", () => {
      const predicted = edited(live, (d) => (d.spec.replicas = 2));
      const scaled = edited(live, (d) => (d.spec.replicas = 7));
      const ignoreDifferences = [{ group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas"] }];
      expect(compare({ desired, live: scaled, predicted, ignoreDifferences }).status).toBe("Synced");
    });
  });
});

describe("maskSecret", () => {
  it("replaces every data and stringData value with the mask and masks the last-applied copy", () => {
    const masked = maskSecret({ ...fixture("secret-live"), stringData: { token: "s3cr3t" } });
    expect(masked.data).toEqual({ username: SECRET_MASK, password: SECRET_MASK });
    expect(masked.stringData).toEqual({ token: SECRET_MASK });
    expect(JSON.stringify(masked)).not.toMatch(/correct-horse|Y29ycmVjdC1ob3JzZ|s3cr3t/);
  });

  it("leaves other kinds alone", () => {
    const configMap: Manifest = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" }, data: { GREETING: "hello" } };
    expect(maskSecret(configMap)).toEqual(configMap);
  });

  it("does not change the object it is given", () => {
    const secret = fixture("secret-live");
    maskSecret(secret);
    expect(secret.data).toEqual({ username: "bWVzc2FnZXM=", password: "Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5LXN0YXBsZQ==" });
  });

  it("gives equal values the same mask and different values a different one", () => {
    const before = normalize(fixture("secret-live"));
    const after = edited(before, (d) => (d.data.password = "VHIwdWI0ZG9yJjM="));
    const [a, b] = maskSecrets([after, before]) as any[];
    expect(a.data).toEqual({ username: "++++++++", password: "++++++++" });
    expect(b.data).toEqual({ username: "++++++++", password: "+++++++++" });
  });
});

describe("unifiedDiff", () => {
  it("is empty when nothing differs", () => {
    const { target, live: normalizedLive } = compare({ desired, live });
    expect(unifiedDiff(target, normalizedLive, "apps/Deployment/staging/guestbook-ui")).toBe("");
  });

  it("shows a changed replica count as one removed and one added line with context", () => {
    const scaled = edited(live, (d) => (d.spec.replicas = 5));
    const { target, live: normalizedLive } = compare({ desired, live: scaled });
    expect(unifiedDiff(target, normalizedLive, "apps/Deployment/staging/guestbook-ui")).toBe(
      [
        "--- live/apps/Deployment/staging/guestbook-ui",
        "+++ desired/apps/Deployment/staging/guestbook-ui",
        "@@ -11,7 +11,7 @@",
        "   namespace: staging",
        " spec:",
        "   progressDeadlineSeconds: 600",
        "-  replicas: 5",
        "+  replicas: 2",
        "   revisionHistoryLimit: 10",
        "   selector:",
        "     matchLabels:",
        "",
      ].join("\n"),
    );
  });

  it("shows an object to create as all added lines", () => {
    const text = unifiedDiff(desired, undefined, "apps/Deployment/staging/guestbook-ui");
    const lines = text.trimEnd().split("\n");
    expect(lines[2]).toBe(`@@ -0,0 +1,${lines.length - 3} @@`);
    expect(lines.slice(3).every((line) => line.startsWith("+"))).toBe(true);
  });

  it("never shows Secret values, in plaintext, base64 or the last-applied annotation", () => {
    const rotated = edited(fixture("secret-desired"), (d) => (d.stringData.password = "Tr0ub4dor&3"));
    const text = unifiedDiff(rotated, fixture("secret-live"), "Secret/staging/message-app-db");
    expect(text).toContain("-  password: +++++++++");
    expect(text).toContain("+  password: ++++++++");
    for (const secret of ["correct-horse", "Y29ycmVjdC1ob3JzZ", "Tr0ub4dor", "VHIwdWI0ZG9yJjM", "messages", "bWVzc2FnZXM"]) {
      expect(text).not.toContain(secret);
    }
  });

  it("never shows Secret values of an object to create or to prune", () => {
    const created = unifiedDiff(fixture("secret-desired"), undefined, "Secret/staging/message-app-db");
    const pruned = unifiedDiff(undefined, fixture("secret-live"), "Secret/staging/message-app-db");
    expect(created + pruned).not.toMatch(/correct-horse|Y29ycmVjdC1ob3JzZ|bWVzc2FnZXM|messages/);
  });
});

describe("diffLines", () => {
  /** Lines of a tiny alphabet, so random inputs share many lines. */
  function randomLines(seed: number, length: number): string[] {
    let state = seed;
    return Array.from({ length }, () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return "abcd"[state % 4] ?? "a";
    });
  }

  function lcsLength(a: readonly string[], b: readonly string[]): number {
    const row = new Array<number>(b.length + 1).fill(0);
    for (const line of a) {
      let diagonal = 0;
      for (let j = 1; j <= b.length; j++) {
        const above = row[j] ?? 0;
        row[j] = line === b[j - 1] ? diagonal + 1 : Math.max(above, row[j - 1] ?? 0);
        diagonal = above;
      }
    }
    return row[b.length] ?? 0;
  }

  it.each(Array.from({ length: 40 }, (_, i) => [i]))("finds a shortest edit script that rebuilds both sides (seed %i)", (seed) => {
    const a = randomLines(seed + 1, seed % 13);
    const b = randomLines(seed + 101, (seed * 7) % 17);
    const script = diffLines(a, b);
    expect(script.filter((e) => e.op !== "+").map((e) => e.text)).toEqual(a);
    expect(script.filter((e) => e.op !== "-").map((e) => e.text)).toEqual(b);
    expect(script.filter((e) => e.op === " ").length).toBe(lcsLength(a, b));
  });
});

describe("respectIgnored (RespectIgnoreDifferences=true)", () => {
  const rules = [{ group: "apps", kind: "Deployment", jsonPointers: ["/spec/replicas", "/metadata/labels/scaled"] }];
  const deployment = (spec: Record<string, unknown>, labels?: Record<string, string>): Manifest =>
    ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "a", ...(labels ? { labels } : {}) }, spec });

  it("takes ignored fields from the live object, leaves the rest as Git has it, and removes what live lacks", () => {
    const desired = deployment({ replicas: 1, paused: false }, { scaled: "no", app: "web" });
    const out = respectIgnored(desired, deployment({ replicas: 5, paused: true }), rules);
    expect(out.spec).toEqual({ replicas: 5, paused: false });
    expect(out.metadata.labels).toEqual({ app: "web" });
    expect(desired.spec).toEqual({ replicas: 1, paused: false });
  });

  it("leaves out of the applied object the fields managedFieldsManagers own, so the server keeps that manager's value", () => {
    const live = { ...deployment({ replicas: 5, paused: false }), metadata: { name: "web", namespace: "a", managedFields: [
      { manager: "hpa-controller", operation: "Update", apiVersion: "apps/v1", fieldsV1: { "f:spec": { "f:replicas": {} } } },
    ] } } as Manifest;
    const out = respectIgnored(deployment({ replicas: 1, paused: true }), live, [{ group: "apps", kind: "Deployment", managedFieldsManagers: ["hpa-controller"] }]);
    expect(out.spec).toEqual({ paused: true });
  });

  it("with jqPathExpressions, each place the expression names in Git's object takes the live value there", () => {
    const rules2 = [{ group: "apps", kind: "Deployment", jqPathExpressions: ['.spec.template.spec.containers[] | select(.name == "web") | .image', ".spec.gone"] }];
    const desired2 = deployment({ gone: 1, template: { spec: { containers: [{ name: "web", image: "git:1" }, { name: "b", image: "git:2" }] } } });
    const live2 = deployment({ template: { spec: { containers: [{ name: "web", image: "live:9" }, { name: "b", image: "live:8" }] } } });
    expect(respectIgnored(desired2, live2, rules2).spec).toEqual({ template: { spec: { containers: [{ name: "web", image: "live:9" }, { name: "b", image: "git:2" }] } } });
  });

  it("applies Git's value as is when nothing is live or no rule matches", () => {
    const desired = deployment({ replicas: 1 });
    expect(respectIgnored(desired, undefined, rules)).toBe(desired);
    expect(respectIgnored(desired, { ...deployment({ replicas: 5 }), kind: "StatefulSet" }, rules)).toBe(desired);
  });
});

describe("invalidIgnoreRules", () => {
  it("names each jq expression Tether cannot evaluate by its place in the spec", () => {
    expect(invalidIgnoreRules([{ kind: "A", jqPathExpressions: [".ok"] }, { kind: "B", jqPathExpressions: [".fine", "del(.x)"] }]))
      .toEqual([expect.stringMatching(/^spec\.ignoreDifferences\[1\]\.jqPathExpressions\[1\]: jqPathExpressions "del\(\.x\)": expected a path/)]);
    expect(invalidIgnoreRules([{ kind: "A", jsonPointers: ["/x"] }])).toEqual([]);
  });
});

describe("decrypted objects of any kind (issue 22, finding 7)", () => {
  const cm = (password: string, mode: string) => ({
    apiVersion: "v1", kind: "ConfigMap", metadata: { name: "db", namespace: "shop" }, data: { password, mode },
  });
  const custom = { apiVersion: "db.example.com/v1", kind: "Database", metadata: { name: "orders" }, spec: { credentials: { password: "hunter2" }, replicas: [3] } };

  it("masks every value of a decrypted ConfigMap or custom resource in a diff, on both sides, and still shows which changed", () => {
    const diff = unifiedDiff(cm("new-s3cret", "rw"), cm("old-s3cret", "rw"), "ConfigMap/shop/db", { decrypted: true });
    expect(diff).not.toMatch(/s3cret|hunter2/);
    expect(diff).toContain(`-  password: ${SECRET_MASK}+\n+  password: ${SECRET_MASK}\n`);
    expect(diff).not.toMatch(/^[-+]\s+mode/m);
    const created = unifiedDiff(custom, undefined, "Database/orders", { decrypted: true });
    expect(created).not.toContain("hunter2");
    expect(created).toContain("name: orders");
  });

  it("marks a decrypted object with the fields it holds, never a value", () => {
    const marked = markDecrypted(cm("s3cret", "rw"));
    expect(marked.metadata.annotations).toEqual({ [DECRYPTED_PATHS_ANNOTATION]: "/data" });
    expect(markDecrypted(custom).metadata.annotations?.[DECRYPTED_PATHS_ANNOTATION]).toBe("/spec");
    expect(JSON.stringify(marked.metadata)).not.toContain("s3cret");
  });

  it.each([
    ["a marked ConfigMap", markDecrypted(cm("s3cret", "rw")), ["s3cret", "rw"]],
    ["a marked custom resource", markDecrypted(custom), ["hunter2"]],
    ["a Secret, marked or not", { apiVersion: "v1", kind: "Secret", metadata: { name: "t" }, data: { token: "czNjcmV0" } }, ["czNjcmV0"]],
    ["a kubectl-applied marked object", { ...markDecrypted(cm("s3cret", "rw")), metadata: { name: "db", annotations: {
      [DECRYPTED_PATHS_ANNOTATION]: "/data", "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"s3cret"}}' } } }, ["s3cret"]],
  ])("shows %s live with its decrypted values masked", (_what, live, hidden) => {
    const shown = JSON.stringify(maskLive(live));
    for (const value of hidden) expect(shown).not.toContain(value);
    expect(shown).toContain(SECRET_MASK);
  });

  it("leaves an unmarked object and the fields a mark does not name as they are", () => {
    expect(maskLive(cm("plain", "rw"))).toEqual(cm("plain", "rw"));
    const partly = { ...custom, metadata: { name: "orders", annotations: { [DECRYPTED_PATHS_ANNOTATION]: "/spec/credentials,/metadata" } } };
    const shown = maskLive(partly) as typeof custom;
    expect(shown.spec).toEqual({ credentials: { password: SECRET_MASK }, replicas: [3] });
    expect(shown.metadata.name).toBe("orders");
  });

  it("masks a prune diff and an update diff by the live side's mark, without the render", () => {
    const pruned = unifiedDiff(undefined, markDecrypted(cm("old-s3cret", "rw")), "ConfigMap/shop/db");
    expect(pruned).not.toContain("s3cret");
    expect(pruned).toContain(`-  password: ${SECRET_MASK}`);
    // Git now holds the ConfigMap in plaintext: what the cluster still holds from SOPS stays hidden.
    const moved = unifiedDiff(cm("public", "rw"), markDecrypted(cm("old-s3cret", "rw")), "ConfigMap/shop/db");
    expect(moved).not.toContain("s3cret");
  });

  it("finds the decrypted objects of a render among planned copies", () => {
    const isDecrypted = decryptedIn([
      { manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "db" } }, decrypted: true },
      { manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "plain" } }, decrypted: false },
    ]);
    expect(isDecrypted(cm("x", "y"))).toBe(true);
    expect(isDecrypted({ ...cm("x", "y"), metadata: { name: "plain", namespace: "shop" } })).toBe(false);
  });
});
