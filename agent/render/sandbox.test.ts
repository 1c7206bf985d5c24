// Issue 22's sandbox findings, each as a repository author would try it, against the real helm.
import { mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { pathWithTools } from "../../test/harness/paths.ts";
import { TetherError } from "../errors.ts";
import { ChartFetcher } from "../source/helm-repo.ts";
import { isChartName } from "./chart-deps.ts";
import { renderHelm } from "./helm.ts";
import { writeTree } from "./testdata/checkout.ts";

/** A directory standing for the agent's disk: the checkout inside it, and nothing else may appear. */
let disk: string;
let root: string;
const charts = { charts: new ChartFetcher({ cacheDir: "/nonexistent" }) };

beforeAll(() => {
  process.env.PATH = pathWithTools();
});

afterAll(async () => {
  await rm(disk, { recursive: true, force: true });
});

async function freshCheckout(files: Record<string, string>): Promise<void> {
  if (disk !== undefined) await rm(disk, { recursive: true, force: true });
  disk = await mkdtemp(join(tmpdir(), "tether-sandbox-"));
  root = join(disk, "checkout");
  await writeTree(root, files);
}

async function failure(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

const TEMPLATE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  token: {{ .Files.Get \"files/token\" | quote }}\n";
const chart = (name: string, dependencies: object[] = []) => stringify({ apiVersion: "v2", name, version: "0.1.0", dependencies });

describe("chart dependencies stay inside the checkout (finding 1)", () => {
  it("refuses a dependency name with a path in it, naming the Chart.yaml and the dependency, and writes nothing outside", async () => {
    const name = "../../hooks/reference-transaction";
    await freshCheckout({
      "app/Chart.yaml": chart("app", [{ name, version: "0.1.0", repository: "file://../payload" }]),
      "app/templates/cm.yaml": TEMPLATE,
      "payload/Chart.yaml": chart("payload"),
      "payload/run.sh": "#!/bin/sh\necho pwned\n",
    });
    const err = await failure(renderHelm({ root, path: "app", releaseName: "app", dependencies: charts }));
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toContain(`app/Chart.yaml: dependency name "${name}" is not a chart name`);
    expect((await readdir(disk)).sort()).toEqual(["checkout"]);
  });

  it.each([
    ["nginx", true], ["my_chart.v2-x", true], ["..", false], [".", false], ["a/b", false], ["../x", false], ["a\\b", false], ["", false],
  ])("isChartName(%j) is %s", (name, ok) => {
    expect(isChartName(name)).toBe(ok);
  });
});

describe("links a file:// subchart brings are checked before helm reads them (finding 2)", () => {
  it("refuses a subchart whose file links out of the checkout", async () => {
    await freshCheckout({
      "app/Chart.yaml": chart("app", [{ name: "sub", version: "0.1.0", repository: "file://../sub" }]),
      "app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: top\n",
      "sub/Chart.yaml": chart("sub"),
      "sub/templates/cm.yaml": TEMPLATE,
    });
    const outside = join(disk, "token");
    await writeFile(outside, "agent-service-account-token");
    await writeTree(root, { "sub/files/.keep": "" });
    await symlink(outside, join(root, "sub", "files", "token"));
    // The subchart's own directory is outside the chart the first check walks: only the check after copying sees it.
    const err = await failure(renderHelm({ root, path: "app", releaseName: "app", dependencies: charts }));
    expect(err.message).toMatch(/app\/charts\/sub\/files\/token' goes through a symlink that points outside the repository/);
  });
});

describe("a release name is never read as an option (finding 3)", () => {
  it.each(["--set=injected=yes", "-gfhttp://169.254.169.254/latest", "-f/etc/passwd"])("refuses releaseName %s with InvalidSpecError", async (releaseName) => {
    await freshCheckout({ "app/Chart.yaml": chart("app"), "app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  injected: {{ .Values.injected | default \"no\" | quote }}\n" });
    const err = await failure(renderHelm({ root, path: "app", releaseName }));
    expect(err.reason).toBe("InvalidSpecError");
    expect(err.message).toContain("spec.source.helm.releaseName");
  });

  it("passes a release name after `--`, so helm names the release with it", async () => {
    await freshCheckout({ "app/Chart.yaml": chart("app"), "app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n" });
    const objects = await renderHelm({ root, path: "app", releaseName: "web" });
    expect(objects.map((o) => o.manifest.metadata.name)).toEqual(["web"]);
  });
});
