import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { generateApplications, parseApplicationSetSpec, type ApplicationSetSpec, type ClusterEntry, type GeneratorEnv } from "./index.ts";

const SECRET = { "argocd.argoproj.io/secret-type": "cluster" };
const clusters: ClusterEntry[] = [
  { name: "staging", server: "https://1.2.3.4", labels: { ...SECRET, environment: "staging", "use-kafka": "false" }, annotations: {} },
  { name: "production", server: "https://2.4.6.8", labels: { ...SECRET, environment: "production" }, annotations: { owner: "team-a" } },
  // A Secret labelled the Tether way only.
  { name: "tether-only", server: "https://9.9.9.9", labels: { "tether.dev/secret-type": "cluster", environment: "edge" }, annotations: {} },
  // The local cluster as the environment lists it: no Secret, so no labels.
  { name: "in-cluster", server: "https://kubernetes.default.svc", labels: {}, annotations: {} },
];

const env: GeneratorEnv = {
  clusters: () => Promise.resolve(clusters),
  checkout: () => Promise.reject(new Error("connection refused")),
};

function specOf(yaml: string): ApplicationSetSpec {
  const parsed = parseApplicationSetSpec(parse(yaml), "test");
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.spec;
}

async function names(yaml: string, e: GeneratorEnv = env): Promise<unknown> {
  const result = await generateApplications(specOf(yaml), e);
  return result.ok ? result.applications.map((a) => a.metadata.name) : result;
}

describe("clusters generator", () => {
  it("produces every cluster Secret and then the local cluster, with Argo CD's parameters", async () => {
    const result = await generateApplications(specOf(`
generators: [{clusters: {}}]
template:
  metadata: {name: '{{name}}-guestbook', annotations: {env: '{{metadata.labels.environment}}', owner: '{{metadata.annotations.owner}}'}}
  spec: {destination: {server: '{{server}}'}, project: '{{nameNormalized}}'}
`), env);
    expect(result.ok && result.applications.map((a) => [a.metadata.name, a.metadata.annotations, a.spec])).toEqual([
      ["production-guestbook", { env: "production", owner: "team-a" }, { destination: { server: "https://2.4.6.8" }, project: "production" }],
      ["staging-guestbook", { env: "staging", owner: "{{metadata.annotations.owner}}" }, { destination: { server: "https://1.2.3.4" }, project: "staging" }],
      ["tether-only-guestbook", { env: "edge", owner: "{{metadata.annotations.owner}}" }, { destination: { server: "https://9.9.9.9" }, project: "tether-only" }],
      // The local cluster has no labels: fasttemplate leaves those parameters as written.
      ["in-cluster-guestbook", { env: "{{metadata.labels.environment}}", owner: "{{metadata.annotations.owner}}" },
        { destination: { server: "https://kubernetes.default.svc" }, project: "in-cluster" }],
    ]);
  });

  it("refuses a label value that did not render to a valid one, naming the element", async () => {
    const result = await generateApplications(specOf(`
generators: [{clusters: {}}]
template: {metadata: {name: '{{name}}', labels: {env: '{{metadata.labels.environment}}'}}, spec: {}}
`), env);
    expect(result).toMatchObject({ ok: false, generator: "generators[0].clusters", reason: "ApplicationValidationError" });
    if (!result.ok) expect(result.message).toContain("element 3 (name=in-cluster");
  });

  it.each([
    ["matchLabels", "{matchLabels: {environment: staging}}", ["staging"]],
    ["matchExpressions In", "{matchExpressions: [{key: environment, operator: In, values: [staging, production]}]}", ["production", "staging"]],
    ["matchExpressions DoesNotExist", "{matchExpressions: [{key: use-kafka, operator: DoesNotExist}]}", ["production", "tether-only"]],
    ["no selector", "{}", ["production", "staging", "tether-only", "in-cluster"]],
  ])("selects clusters by %s; the local cluster only without a selector", async (_title, selector, expected) => {
    expect(await names(`
generators: [{clusters: {selector: ${selector}}}]
template: {metadata: {name: '{{name}}'}, spec: {}}
`)).toEqual(expected);
  });

  it("gives goTemplate .metadata.labels and templated .values (Generators-Cluster.md)", async () => {
    const result = await generateApplications(specOf(`
goTemplate: true
generators:
- clusters:
    selector: {matchLabels: {"argocd.argoproj.io/secret-type": cluster}}
    values: {revision: '{{ if eq .name "production" }}stable{{ else }}HEAD{{ end }}', ns: '{{.nameNormalized}}-ns'}
template:
  metadata: {name: '{{.name}}-app', annotations: {owner: '{{ .metadata.annotations.owner | default "nobody" }}'}}
  spec: {source: {targetRevision: '{{.values.revision}}'}, destination: {namespace: '{{.values.ns}}'}}
`), env);
    expect(result.ok && result.applications.map((a) => [a.metadata.name, a.metadata.annotations, a.spec])).toEqual([
      ["production-app", { owner: "team-a" }, { source: { targetRevision: "stable" }, destination: { namespace: "production-ns" } }],
      ["staging-app", { owner: "nobody" }, { source: { targetRevision: "HEAD" }, destination: { namespace: "staging-ns" } }],
    ]);
  });

  it("does not add the local cluster when a Secret describes it", async () => {
    const withLocal: GeneratorEnv = {
      ...env,
      clusters: () => Promise.resolve([
        { name: "local", server: "https://kubernetes.default.svc", labels: { ...SECRET }, annotations: {} },
        { name: "in-cluster", server: "https://kubernetes.default.svc", labels: {}, annotations: {} },
      ]),
    };
    expect(await names("generators: [{clusters: {}}]\ntemplate: {metadata: {name: '{{name}}'}, spec: {}}", withLocal)).toEqual(["local"]);
  });

  it("fails naming the generator when the cluster Secrets cannot be listed", async () => {
    const broken: GeneratorEnv = { ...env, clusters: () => Promise.reject(new Error("HTTP 403: forbidden")) };
    const result = await generateApplications(specOf("generators: [{clusters: {}}]\ntemplate: {metadata: {name: x}, spec: {}}"), broken);
    expect(result).toMatchObject({ ok: false, generator: "generators[0].clusters", reason: "ApplicationGenerationFromParamsError" });
    if (!result.ok) expect(result.message).toContain("cannot list cluster Secrets: HTTP 403: forbidden");
  });
});

describe("matrix generator", () => {
  it("combines every pair, the second child rendered with the first's parameters (Generators-List.md elementsYaml)", async () => {
    const result = await generateApplications(specOf(`
goTemplate: true
goTemplateOptions: ["missingkey=error"]
generators:
- matrix:
    generators:
    - list:
        elements:
        - key: {components: [{name: api, port: 80}, {name: web, port: 8080}]}
          env: dev
    - list:
        elementsYaml: "{{ .key.components | toJson }}"
template:
  metadata: {name: '{{.env}}-{{.name}}'}
  spec: {port: '{{.port}}'}
`), env);
    expect(result.ok && result.applications.map((a) => [a.metadata.name, a.spec.port])).toEqual([["dev-api", "80"], ["dev-web", "8080"]]);
  });

  it("crosses clusters with a list, the first child's values winning in goTemplate", async () => {
    expect(await names(`
goTemplate: true
generators:
- matrix:
    generators:
    - clusters: {selector: {matchLabels: {environment: staging}}}
    - list: {elements: [{app: a, name: shadowed}, {app: b}]}
template: {metadata: {name: '{{.name}}-{{.app}}'}, spec: {}}
`)).toEqual(["staging-a", "staging-b"]);
  });

  it("refuses the same fasttemplate parameter with two values", async () => {
    const result = await generateApplications(specOf(`
generators:
- matrix:
    generators:
    - list: {elements: [{name: x}]}
    - list: {elements: [{name: y}]}
template: {metadata: {name: '{{name}}'}, spec: {}}
`), env);
    expect(result).toMatchObject({ ok: false, generator: "generators[0].matrix" });
    if (!result.ok) expect(result.message).toContain("found duplicate key name with different value");
  });

  it("names the failing child when its repository is unreachable", async () => {
    const result = await generateApplications(specOf(`
generators:
- matrix:
    generators:
    - list: {elements: [{env: dev}]}
    - git: {repoURL: 'https://git.example.com/{{env}}.git', revision: HEAD, directories: [{path: '*'}]}
template: {metadata: {name: '{{env}}'}, spec: {}}
`), env);
    expect(result).toMatchObject({ ok: false, generator: "generators[0].matrix.generators[1].git", reason: "ApplicationGenerationFromParamsError" });
    if (!result.ok) expect(result.message).toContain("cannot read repository https://git.example.com/dev.git at revision HEAD: connection refused");
  });

  it.each([
    ["one child", "[{list: {elements: [{a: b}]}}]", "a matrix combines exactly two generators; this one has 1"],
    ["three levels", "[{matrix: {generators: [{matrix: {generators: []}}, {list: {}}]}}, {list: {}}]", "not supported (two levels at most"],
  ])("refuses %s", async (_t, generators, message) => {
    const result = await generateApplications(specOf(`generators: [{matrix: {generators: ${generators}}}]\ntemplate: {metadata: {name: x}, spec: {}}`), env);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(message);
  });
});

describe("merge generator", () => {
  it("overrides the base sets that match on mergeKeys (Generators-Merge.md, fasttemplate)", async () => {
    const result = await generateApplications(specOf(`
generators:
- merge:
    mergeKeys: [server]
    generators:
    - clusters: {values: {kafka: 'true', redis: 'false'}}
    - clusters: {selector: {matchLabels: {use-kafka: 'false'}}, values: {kafka: 'false'}}
    - list: {elements: [{server: https://2.4.6.8, values.redis: 'true'}]}
template:
  metadata: {name: '{{name}}'}
  spec: {kafka: '{{values.kafka}}', redis: '{{values.redis}}'}
`), env);
    expect(result.ok && result.applications.map((a) => [a.metadata.name, a.spec])).toEqual([
      ["production", { kafka: "true", redis: "true" }],
      ["staging", { kafka: "false", redis: "false" }],
      ["tether-only", { kafka: "true", redis: "false" }],
      ["in-cluster", { kafka: "true", redis: "false" }],
    ]);
  });

  it("refuses two sets with the same merge key", async () => {
    const result = await generateApplications(specOf(`
generators:
- merge:
    mergeKeys: [server]
    generators: [{list: {elements: [{server: a}, {server: a}]}}, {list: {elements: []}}]
template: {metadata: {name: x}, spec: {}}
`), env);
    expect(result).toMatchObject({ ok: false, generator: "generators[0].merge" });
    if (!result.ok) expect(result.message).toContain('same mergeKeys {"server":"a"}');
  });
});

describe("around every generator", () => {
  it("filters parameter sets with selector, on flattened parameters (Generators-Post-Selector.md)", async () => {
    expect(await names(`
goTemplate: true
generators:
- list:
    elements:
    - {cluster: engineering-dev, url: https://kubernetes.default.svc, env: staging}
    - {cluster: engineering-prod, url: https://kubernetes.default.svc, env: prod}
  selector: {matchLabels: {env: staging}}
template: {metadata: {name: '{{.cluster}}-guestbook'}, spec: {}}
`)).toEqual(["engineering-dev-guestbook"]);
  });

  it("merges a generator's own template over the set's (Template.md)", async () => {
    const result = await generateApplications(specOf(`
generators:
- list:
    elements: [{cluster: dev}]
    template: {metadata: {}, spec: {source: {path: 'override/{{cluster}}'}}}
- list:
    elements: [{cluster: prod}]
template:
  metadata: {name: '{{cluster}}-app'}
  spec: {project: default, source: {repoURL: r, path: 'base/{{cluster}}'}}
`), env);
    expect(result.ok && result.applications.map((a) => [a.metadata.name, a.spec])).toEqual([
      ["dev-app", { project: "default", source: { repoURL: "r", path: "override/dev" } }],
      ["prod-app", { project: "default", source: { repoURL: "r", path: "base/prod" } }],
    ]);
  });

  it("applies templatePatch, rendered per element, over the Application (Template.md's example)", async () => {
    const result = await generateApplications(specOf(`
goTemplate: true
goTemplateOptions: ["missingkey=error"]
generators:
- list:
    elements:
    - {cluster: engineering-dev, url: https://kubernetes.default.svc, autoSync: true, prune: true, valueFiles: [values.large.yaml, values.debug.yaml]}
    - {cluster: engineering-prod, url: https://kubernetes.default.svc, autoSync: false, prune: false, valueFiles: [values.large.yaml]}
template:
  metadata: {name: '{{.cluster}}-deployment'}
  spec:
    project: "default"
    source: {repoURL: https://github.com/infra-team/cluster-deployments.git, targetRevision: HEAD, path: 'guestbook/{{ .cluster }}'}
    destination: {server: '{{.url}}', namespace: guestbook}
templatePatch: |
  spec:
    source:
      helm:
        valueFiles:
        {{- range $valueFile := .valueFiles }}
          - {{ $valueFile }}
        {{- end }}
  {{- if .autoSync }}
    syncPolicy:
      automated:
        prune: {{ .prune }}
  {{- end }}
`), env);
    expect(result.ok && result.applications.map((a) => [a.metadata.name, a.spec.source, a.spec.syncPolicy])).toEqual([
      [
        "engineering-dev-deployment",
        { repoURL: "https://github.com/infra-team/cluster-deployments.git", targetRevision: "HEAD", path: "guestbook/engineering-dev",
          helm: { valueFiles: ["values.large.yaml", "values.debug.yaml"] } },
        { automated: { prune: true } },
      ],
      [
        "engineering-prod-deployment",
        { repoURL: "https://github.com/infra-team/cluster-deployments.git", targetRevision: "HEAD", path: "guestbook/engineering-prod",
          helm: { valueFiles: ["values.large.yaml"] } },
        undefined,
      ],
    ]);
  });

  it("reports a templatePatch that does not render to YAML", async () => {
    const result = await generateApplications(specOf(`
goTemplate: true
generators: [{list: {elements: [{c: dev}]}}]
template: {metadata: {name: x}, spec: {}}
templatePatch: "spec: [unclosed"
`), env);
    expect(result).toMatchObject({ ok: false, reason: "RenderTemplateParamsError", generator: "generators[0].list" });
  });

  it("reports an unknown template function at the generator that used it", async () => {
    const result = await generateApplications(specOf(`
goTemplate: true
generators: [{list: {elements: [{c: dev}]}}]
template: {metadata: {name: '{{ required "c" .c }}'}, spec: {}}
`), env);
    expect(result).toMatchObject({ ok: false, reason: "RenderTemplateParamsError" });
    if (!result.ok) expect(result.message).toContain('function "required" not defined');
  });

  it("refuses a generator Tether does not build, saying so", async () => {
    const result = await generateApplications(specOf("generators: [{pullRequest: {github: {owner: o, repo: r}}}]\ntemplate: {metadata: {name: x}, spec: {}}"), env);
    expect(result).toMatchObject({ ok: false, generator: "generators[0].pullRequest", reason: "ErrorOccurred" });
  });
});

describe("plugin generator against a real HTTP server", () => {
  let server: Server;
  let baseUrl: string;
  const requests: Array<{ url: string | undefined; auth: string | undefined; body: unknown }> = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        requests.push({ url: req.url, auth: req.headers.authorization, body: JSON.parse(body) });
        if (req.headers.authorization !== "Bearer s3cret") {
          res.writeHead(403).end("forbidden");
          return;
        }
        if (JSON.parse(body).input.parameters.slow === true) return; // never answers
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ output: { parameters: [{ name: "one", nested: { x: "1" } }, { name: "two", nested: { x: "2" } }] } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function pluginEnv(token: string, timeout?: string): GeneratorEnv {
    return {
      ...env,
      configMap: (name) => Promise.resolve(name === "my-plugin" ? { baseUrl, token: "$plugin-secret:token", ...(timeout ? { requestTimeout: timeout } : {}) } : undefined),
      secretValue: (ref) => Promise.resolve(ref === "$plugin-secret:token" ? token : undefined),
    };
  }

  const pluginSet = (params: string): string => `
generators:
- plugin:
    configMapRef: {name: my-plugin}
    input: {parameters: ${params}}
    values: {v: '{{name}}-value'}
template:
  metadata: {name: '{{name}}-{{nested.x}}', annotations: {in: '{{generator.input.parameters.key}}', v: '{{values.v}}'}}
  spec: {}
`;

  it("POSTs the input to /api/v1/getparams.execute with the bearer token and renders its output (Generators-Plugin.md)", async () => {
    const result = await generateApplications(specOf(pluginSet("{key: value}")), pluginEnv("s3cret"), { name: "myplugin" });
    expect(result.ok && result.applications.map((a) => [a.metadata.name, a.metadata.annotations])).toEqual([
      ["one-1", { in: "{{generator.input.parameters.key}}", v: "one-value" }],
      ["two-2", { in: "{{generator.input.parameters.key}}", v: "two-value" }],
    ]);
    expect(requests.at(-1)).toEqual({
      url: "/api/v1/getparams.execute",
      auth: "Bearer s3cret",
      body: { applicationSetName: "myplugin", input: { parameters: { key: "value" } } },
    });
  });

  it("fails naming the plugin's answer when the token is refused", async () => {
    const result = await generateApplications(specOf(pluginSet("{key: value}")), pluginEnv("wrong"));
    expect(result).toMatchObject({ ok: false, generator: "generators[0].plugin", reason: "ApplicationGenerationFromParamsError" });
    if (!result.ok) expect(result.message).toContain("answered HTTP 403: forbidden");
  });

  it("fails after requestTimeout when the plugin does not answer", async () => {
    const result = await generateApplications(specOf(pluginSet("{slow: true}")), pluginEnv("s3cret", "1"));
    expect(result).toMatchObject({ ok: false, generator: "generators[0].plugin" });
    if (!result.ok) expect(result.message).toContain("no answer within 1s (requestTimeout)");
  });

  it("fails saying what to create when the ConfigMap is missing", async () => {
    const result = await generateApplications(specOf(pluginSet("{}").replace("my-plugin", "other")), pluginEnv("s3cret"));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain("ConfigMap other not found in the agent's namespace: create it with baseUrl and token");
  });
});
