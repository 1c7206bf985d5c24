import { describe, expect, it } from "vitest";
import { JqError, jqPaths, removeJqPaths } from "./jq.ts";

const deployment = () => ({
  metadata: { annotations: { "a/b": "1", keep: "2" } },
  spec: {
    replicas: 3,
    template: { spec: {
      initContainers: [{ name: "istio-init", image: "proxy:1" }, { name: "mine", image: "x:1" }],
      containers: [{ name: "web", image: "web:1", env: [{ name: "A", value: "1" }] }, { name: "sidecar", image: "proxy:1" }],
    } },
  },
  webhooks: [{ name: "a", clientConfig: { caBundle: "AAA" } }, { name: "b", clientConfig: { caBundle: "BBB", url: "u" } }],
});

describe("jqPathExpressions as Argo CD users write them", () => {
  it.each([
    [".spec.replicas", [["spec", "replicas"]]],
    ['.metadata.annotations."a/b"', [["metadata", "annotations", "a/b"]]],
    ['.metadata.annotations["a/b"]', [["metadata", "annotations", "a/b"]]],
    [".webhooks[]?.clientConfig.caBundle", [["webhooks", 0, "clientConfig", "caBundle"], ["webhooks", 1, "clientConfig", "caBundle"]]],
    [".webhooks[1].clientConfig", [["webhooks", 1, "clientConfig"]]],
    ['.spec.template.spec.initContainers[] | select(.name == "istio-init")', [["spec", "template", "spec", "initContainers", 0]]],
    ['.spec.template.spec.containers[] | select(.name == "web") | .env[] | select(.name == "A") | .value', [["spec", "template", "spec", "containers", 0, "env", 0, "value"]]],
    ['.spec.template.spec.containers[] | select(.image == "proxy:1" and .name != "web") | .image', [["spec", "template", "spec", "containers", 1, "image"]]],
    ['.webhooks[] | select(.name == "a" or .name == "b") | .clientConfig.url', [["webhooks", 1, "clientConfig", "url"]]],
    [".spec.nothing.here", []],
  ])("%s", (expression, want) => {
    expect(jqPaths(expression, deployment())).toEqual(want);
  });

  it("removes what it names, list items from the last so the others keep their place", () => {
    const doc = deployment();
    removeJqPaths(doc, '.spec.template.spec.containers[] | select(.image == "proxy:1")');
    removeJqPaths(doc, ".webhooks[]");
    removeJqPaths(doc, '.metadata.annotations."a/b"');
    expect(doc.spec.template.spec.containers.map((c) => c.name)).toEqual(["web"]);
    expect(doc.webhooks).toEqual([]);
    expect(doc.metadata.annotations).toEqual({ keep: "2" });
  });

  it.each([
    ["del(.spec)", /expected a path starting with \. at column 1/],
    [".spec | length", /expected a path starting with \. at column 9/],
    ['.a[] | select(.name | test("x"))', /expected == or != in select\(\)/],
    [".spec.", /expected a field name after \./],
    ['.a | select(.b == "x"', /expected "\)"/],
  ])("refuses %s, naming the expression and what it takes", (expression, message) => {
    expect(() => jqPaths(expression, {})).toThrow(JqError);
    expect(() => jqPaths(expression, {})).toThrow(message);
    expect(() => jqPaths(expression, {})).toThrow(`jqPathExpressions "${expression}"`);
  });
});
