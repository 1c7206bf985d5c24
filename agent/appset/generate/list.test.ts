import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { generateApplications, parseApplicationSetSpec, type ApplicationSetSpec, type GeneratorEnv } from "./index.ts";

const env: GeneratorEnv = {
  clusters: () => Promise.resolve([]),
  checkout: () => Promise.reject(new Error("no git in this test")),
};

function specOf(yaml: string): ApplicationSetSpec {
  const parsed = parseApplicationSetSpec((parse(yaml) as { spec: unknown }).spec, "ApplicationSet argocd/test");
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.spec;
}

// docs/operator-manual/applicationset/Generators-List.md, first example, with the second element uncommented.
const guestbook = `
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
  - list:
      elements:
      - cluster: engineering-dev
        url: https://kubernetes.default.svc
      - cluster: engineering-prod
        url: https://kubernetes.default.svc
  template:
    metadata:
      name: '{{.cluster}}-guestbook'
    spec:
      project: "my-project"
      source:
        repoURL: https://github.com/argoproj/argo-cd.git
        targetRevision: HEAD
        path: applicationset/examples/list-generator/guestbook/{{.cluster}}
      destination:
        server: '{{.url}}'
        namespace: guestbook
`;

describe("list generator", () => {
  it("produces one Application per element, as Argo CD's documented example", async () => {
    const result = await generateApplications(specOf(guestbook), env);
    expect(result).toEqual({
      ok: true,
      applications: ["engineering-dev", "engineering-prod"].map((cluster) => ({
        metadata: { name: `${cluster}-guestbook`, finalizers: ["tether.dev/resources-finalizer"] },
        spec: {
          project: "my-project",
          source: {
            repoURL: "https://github.com/argoproj/argo-cd.git",
            targetRevision: "HEAD",
            path: `applicationset/examples/list-generator/guestbook/${cluster}`,
          },
          destination: { server: "https://kubernetes.default.svc", namespace: "guestbook" },
        },
      })),
    });
  });

  it("renders the same Applications with fasttemplate when goTemplate is off", async () => {
    const fast = guestbook.replace("goTemplate: true", "goTemplate: false").replace(/\{\{\.(\w+)\}\}/g, "{{ $1 }}");
    const result = await generateApplications(specOf(fast), env);
    const go = await generateApplications(specOf(guestbook), env);
    expect(result).toEqual(go);
  });

  it("fails, naming the generator and the element, when missingkey=error meets an element without the key", async () => {
    const spec = specOf(guestbook.replace("      - cluster: engineering-prod\n", "      - name: engineering-prod\n"));
    const result = await generateApplications(spec, env);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.generator).toBe("generators[0].list");
    expect(result.reason).toBe("RenderTemplateParamsError");
    expect(result.message).toContain("element 1");
    expect(result.message).toContain('template.metadata.name ("{{.cluster}}-guestbook"): at <.cluster>: map has no entry for key "cluster"');
    expect(result.message).toContain("add it to every element");
  });

  it("prints <no value> for a missing key without missingkey=error, and then refuses the invalid name", async () => {
    const spec = specOf(guestbook.replace('goTemplateOptions: ["missingkey=error"]', "").replace("      - cluster: engineering-prod\n", "      - name: x\n"));
    const result = await generateApplications(spec, env);
    expect(result).toMatchObject({ ok: false, reason: "ApplicationValidationError", generator: "generators[0].list" });
    if (!result.ok) expect(result.message).toContain("'<no value>-guestbook' is not a DNS-1123 subdomain");
  });

  it("leaves unknown fasttemplate parameters as they are, as Argo CD does", async () => {
    const spec = specOf(`
spec:
  generators:
  - list:
      elements:
      - cluster: dev
        values: {tier: gold}
  template:
    metadata: {name: '{{cluster}}-app', annotations: {note: '{{ unknown }} {{values.tier}}'}}
    spec: {project: default}
`);
    const result = await generateApplications(spec, env);
    expect(result.ok && result.applications[0]?.metadata).toEqual({
      name: "dev-app",
      annotations: { note: "{{ unknown }} gold" },
      finalizers: ["tether.dev/resources-finalizer"],
    });
  });

  it("refuses a non-string element value without goTemplate, saying how to fix it", async () => {
    const spec = specOf(`
spec:
  generators: [{list: {elements: [{cluster: dev, replicas: 3}]}}]
  template: {metadata: {name: '{{cluster}}'}, spec: {}}
`);
    const result = await generateApplications(spec, env);
    expect(result).toMatchObject({ ok: false, generator: "generators[0].list", reason: "ApplicationGenerationFromParamsError" });
    if (!result.ok) expect(result.message).toContain("elements[0].replicas is not a string");
  });

  it("appends elementsYaml elements after elements", async () => {
    const spec = specOf(`
spec:
  goTemplate: true
  generators:
  - list:
      elements: [{name: a}]
      elementsYaml: |
        - name: b
          replicas: 2
  template: {metadata: {name: '{{.name}}'}, spec: {info: '{{.replicas | default 1}}'}}
`);
    const result = await generateApplications(spec, env);
    expect(result.ok && result.applications.map((a) => [a.metadata.name, a.spec.info])).toEqual([["a", "1"], ["b", "2"]]);
  });

  it("keeps the template's finalizers, and adds none when resources are preserved", async () => {
    const base = `
spec:
  generators: [{list: {elements: [{n: a}]}}]
  template: {metadata: {name: '{{n}}'}, spec: {}}
`;
    const preserved = specOf(base.replace("spec:\n  generators", "spec:\n  syncPolicy: {preserveResourcesOnDeletion: true}\n  generators"));
    const result = await generateApplications(preserved, env);
    expect(result.ok && result.applications[0]?.metadata).toEqual({ name: "a" });
  });

  it("refuses two elements that produce the same Application name", async () => {
    const spec = specOf(`
spec:
  generators: [{list: {elements: [{n: a}, {n: a}]}}]
  template: {metadata: {name: 'app-{{n}}'}, spec: {}}
`);
    const result = await generateApplications(spec, env);
    expect(result).toMatchObject({ ok: false, reason: "ApplicationValidationError" });
    if (!result.ok) expect(result.message).toContain("already produced by generators[0].list element 0");
  });

  it("slugifies as GoTemplate.md's example", async () => {
    const spec = specOf(`
spec:
  goTemplate: true
  generators: [{list: {elements: [{name: s3, branch: "feat/a_really+long_super_crazy name branch"}]}}]
  template:
    metadata:
      name: 'hellos3-{{.name}}-{{ cat .branch | slugify 23 }}'
      annotations:
        label-1: '{{ cat .branch | slugify }}'
        label-2: '{{ cat .branch | slugify 23 }}'
        label-3: '{{ cat .branch | slugify 50 false }}'
    spec: {}
`);
    const result = await generateApplications(spec, env);
    expect(result.ok && result.applications[0]?.metadata).toMatchObject({
      name: "hellos3-s3-feat-a-really-long",
      annotations: {
        "label-1": "feat-a-really-long-super-crazy-name-branch",
        "label-2": "feat-a-really-long",
        "label-3": "feat-a-really-long-super-crazy-name-branch",
      },
    });
  });

  it("renders each string on its own, so a range across fields fails as GoTemplate.md says", async () => {
    const spec = specOf(`
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators: [{list: {elements: [{parameters: [{name: a, value: b}]}]}}]
  template:
    metadata: {name: x}
    spec:
      source:
        helm:
          parameters:
          - name: "{{range .parameters}}"
          - name: "{{.name}}"
            value: "{{.value}}"
          - name: throw-away
            value: "{{end}}"
`);
    const result = await generateApplications(spec, env);
    expect(result).toMatchObject({ ok: false, reason: "RenderTemplateParamsError", generator: "generators[0].list" });
    if (!result.ok) expect(result.message).toContain("unexpected EOF");
  });

  it("uses dig for an optional key under missingkey=error (GoTemplate.md)", async () => {
    const spec = specOf(guestbook.replace("name: '{{.cluster}}-guestbook'", "name: '{{.cluster}}{{dig \"nameSuffix\" \"\" .}}'")
      .replace("url: https://kubernetes.default.svc\n      - cluster: engineering-prod", "url: https://kubernetes.default.svc\n        nameSuffix: -x\n      - cluster: engineering-prod"));
    const result = await generateApplications(spec, env);
    expect(result.ok && result.applications.map((a) => a.metadata.name)).toEqual(["engineering-dev-x", "engineering-prod"]);
  });

  it("returns no Applications at all when a later generator fails", async () => {
    const spec = specOf(`
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
  - list: {elements: [{cluster: a}]}
  - list: {elements: [{other: b}]}
  template: {metadata: {name: '{{.cluster}}'}, spec: {}}
`);
    const result = await generateApplications(spec, env);
    expect(result).toEqual({ ok: false, generator: "generators[1].list", reason: "RenderTemplateParamsError", message: expect.stringContaining("element 0 (other=b)") });
  });

  it.each([
    [{ generators: [] }, "spec.generators must list at least one generator"],
    [{ generators: [{ list: {} }] }, "spec.template must be an object"],
    [{ generators: [{ list: {} }], template: {}, goTemplateOptions: ["missingkey=boom"] }, "'missingkey=boom' is not an option"],
  ])("parseApplicationSetSpec refuses %j", (spec, message) => {
    const parsed = parseApplicationSetSpec(spec, "ApplicationSet a/b");
    expect(parsed).toMatchObject({ ok: false });
    if (!parsed.ok) expect(parsed.message).toContain(message);
  });
});
