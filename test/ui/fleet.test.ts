// The web UI at fleet size: 10,000 Applications created directly in the API server (no agent
// reconciles them; the list shows what the API holds), served by `tether ui`, opened in Chromium.
// The list must be interactive within a second of loading: the agent filters, sorts and pages it and
// the tab holds one page. The figures are printed with the load average; the assertions are generous
// (a shared two-core machine), the targets are in docs/benchmarks.md.
import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathWithTools, repoRoot } from "../harness/paths.ts";
import { mapLimit } from "../../agent/apply/changeset.ts";
import { cli } from "../support/agent.ts";
import { application } from "../support/apps.ts";
import { eventually, kube } from "../support/kube.ts";

const NS = "tether-e2e-ui-fleet";
const APPS = Number(process.env.TETHER_UI_FLEET_APPS ?? 10_000);
const { kubeconfigPath, kc } = kube();
const custom = kc.makeApiClient(CustomObjectsApi);
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];
const name = (i: number) => `app-${String(i).padStart(5, "0")}`;
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(" ");

let browser: Browser;
let ui: ChildProcess | undefined;
let url: string;

beforeAll(async () => {
  expect((await cli(["install", "--namespace", NS], { kubeconfig: kubeconfigPath })).exitCode).toBe(0);
  const started = Date.now();
  await mapLimit(Array.from({ length: APPS }, (_, i) => i), 32, async (i) => {
    const app = application(name(i), {
      repoURL: "https://git.example.com/fleet.git", path: `apps/${name(i)}`, destNamespace: `team-${i % 50}`, agentNamespace: NS,
    });
    await custom.createNamespacedCustomObject({
      group: "tether.dev", version: "v1alpha1", namespace: NS, plural: "applications",
      body: { ...app, metadata: { ...app.metadata, labels: { team: `team-${i % 50}` } } },
    });
  });
  console.log(`[ui-fleet] ${APPS} Applications created in ${((Date.now() - started) / 1000).toFixed(1)} s (load average ${load()})`);
  ui = spawn(process.execPath, [path.join(repoRoot, "dist", "tether.mjs"), "ui", "--kubeconfig", kubeconfigPath, "-n", NS, "--port", "0"],
    { env: { ...process.env, PATH: pathWithTools() }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  ui.stdout?.on("data", (d: Buffer) => { output += d.toString(); });
  ui.stderr?.on("data", (d: Buffer) => { output += d.toString(); });
  url = await eventually(`tether ui to print its URL:\n${output}`, () => Promise.resolve(/Tether UI: (\S+)/.exec(output)?.[1]), 60_000);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  ui?.kill("SIGTERM");
});

describe(`the applications list with ${APPS} applications`, () => {
  it("is interactive within a second of loading: a first page, a filter answered by the agent, a row updated live", async () => {
    // `tether ui` lists the Applications as it starts (as the agent does): a first tab, untimed, waits
    // for that; the tab that is timed is opened on a server that runs, as a user finds it.
    const warm = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const cold = Date.now();
    await warm.goto(url);
    await warm.locator(`tr[data-app="${name(0)}"]`).waitFor({ timeout: 120_000 });
    const coldMs = Date.now() - cold;
    const signedIn = await warm.evaluate<string>("sessionStorage.getItem('tether.token')");
    await warm.close();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // The same tab session a user keeps: its token, without trading the printed code again.
    await page.addInitScript(`sessionStorage.setItem('tether.token', ${JSON.stringify(signedIn)})`);
    const started = Date.now();
    await page.goto(`${new URL(url).origin}/ui/`);
    await page.locator(`tr[data-app="${name(0)}"]`).waitFor({ timeout: 30_000 });
    const firstPage = Date.now() - started;
    expect(await page.locator("tr[data-app]").count()).toBe(50);
    await page.getByText(`1–50 of ${APPS}`).waitFor();

    const typed = Date.now();
    await page.getByLabel("Search applications").fill(name(APPS - 1));
    await page.locator(`tr[data-app="${name(APPS - 1)}"]`).waitFor({ timeout: 30_000 });
    await page.getByText("1–1 of 1").waitFor();
    const filtered = Date.now() - typed;

    const sorted = Date.now();
    await page.getByLabel("Search applications").fill("");
    await page.getByText(`1–50 of ${APPS}`).waitFor();
    await page.getByRole("button", { name: "Name" }).click();
    await page.locator(`tr[data-app="${name(APPS - 1)}"]`).waitFor({ timeout: 30_000 });
    const resorted = Date.now() - sorted;
    expect(await page.locator("tr[data-app]").first().getAttribute("data-app")).toBe(name(APPS - 1));

    // A change to an app on the page reaches the tab without a reload.
    await custom.patchNamespacedCustomObjectStatus({
      group: "tether.dev", version: "v1alpha1", namespace: NS, plural: "applications", name: name(APPS - 1),
      body: { status: { sync: { status: "OutOfSync" } } },
    }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    await page.locator(`tr[data-app="${name(APPS - 1)}"]`).getByText("OutOfSync", { exact: true }).waitFor({ timeout: 30_000 });
    const heap = await page.evaluate<number>("performance.memory ? performance.memory.usedJSHeapSize : 0");
    console.log(`[ui-fleet] ${APPS} apps: first tab (server still listing) ${coldMs} ms; first page shown ${firstPage} ms after load; a search answered in ${filtered} ms; `
      + `sorted descending in ${resorted} ms; tab JS heap ${(heap / 1024 / 1024).toFixed(1)} MiB (load average ${load()})`);
    // Generous: the target (≤ 1 s) is checked by reading the figure, not by a timed test on a shared machine.
    expect(firstPage).toBeLessThan(15_000);
    expect(filtered).toBeLessThan(15_000);
    await page.close();
  });
});
