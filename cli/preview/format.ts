// A preview for a terminal, for a pull-request comment (Markdown) and for scripts (JSON). Pure.
import type { LiveComparison, Preview } from "./compare.ts";

const SIGN = { added: "+", removed: "-", changed: "~" } as const;

export function previewText(p: Preview): string {
  return baseHeadText(p) + (p.live ? liveText(p.live, p.head) : "");
}

function liveText(live: LiveComparison, head: string): string {
  const total = live.apps.length + live.unchanged;
  if (live.apps.length === 0) return `\nThe cluster (context ${live.context}) runs what ${head.slice(0, 7)} renders (${total} applications).\n`;
  const lines = ["", `${live.apps.length} of ${total} applications differ between the cluster (context ${live.context}) and ${head.slice(0, 7)}:`, ""];
  for (const app of live.apps) {
    lines.push(`~ Application ${app.name} on ${app.destination}${app.exists ? "" : " (not in the cluster yet)"}`);
    for (const e of app.errors) lines.push(`    error ${e}`);
    for (const o of app.objects) lines.push(`    ${SIGN[o.change]} ${o.object}`);
  }
  lines.push("");
  for (const app of live.apps) for (const o of app.objects) lines.push(o.diff.trimEnd());
  return `${lines.join("\n")}\n`;
}

function baseHeadText(p: Preview): string {
  if (p.apps.length === 0) return `No changes between ${p.base.slice(0, 7)} and ${p.head.slice(0, 7)} (${p.unchanged} applications).\n`;
  const lines = [`${p.apps.length} of ${p.apps.length + p.unchanged} applications change between ${p.base.slice(0, 7)} and ${p.head.slice(0, 7)}:`, ""];
  for (const app of p.apps) {
    lines.push(`${SIGN[app.change]} Application ${app.name} (${app.change})`);
    for (const e of app.errors) lines.push(`    error ${e}`);
    for (const o of app.objects) lines.push(`    ${SIGN[o.change]} ${o.object}`);
  }
  lines.push("");
  for (const app of p.apps) for (const o of app.objects) lines.push(o.diff.trimEnd());
  return `${lines.join("\n")}\n`;
}

export function previewMarkdown(p: Preview): string {
  return baseHeadMarkdown(p) + (p.live ? liveMarkdown(p.live, p.head) : "");
}

function liveMarkdown(live: LiveComparison, head: string): string {
  const title = `#### Against the cluster (context \`${live.context}\`)`;
  if (live.apps.length === 0) return `\n${title}\n\nThe cluster runs what ${head.slice(0, 7)} renders (${live.unchanged} applications).\n`;
  const lines = ["", title, "", `${live.apps.length} application(s) differ from what runs, ${live.unchanged} the same.`, "",
    "| Application | Cluster | Objects |", "|---|---|---|"];
  for (const app of live.apps) {
    const objects = app.objects.map((o) => `${SIGN[o.change]} \`${o.object}\``).join("<br>") || (app.errors.length ? "not compared" : "");
    lines.push(`| \`${app.name}\` | ${app.destination} | ${objects} |`);
  }
  for (const app of live.apps) {
    lines.push("", `<details><summary>${app.name} against ${app.destination}</summary>`, "");
    for (const e of app.errors) lines.push(`> **Error** ${e.replace(/\n/g, " ")}`, "");
    const diffs = app.objects.map((o) => o.diff.trimEnd()).join("\n");
    if (diffs) lines.push("```diff", diffs, "```");
    lines.push("", "</details>");
  }
  return `${lines.join("\n")}\n`;
}

function baseHeadMarkdown(p: Preview): string {
  const title = `### Tether preview: ${p.base.slice(0, 7)} → ${p.head.slice(0, 7)}`;
  if (p.apps.length === 0) return `${title}\n\nNo application changes (${p.unchanged} unchanged).\n`;
  const lines = [title, "", `${p.apps.length} application(s) change, ${p.unchanged} unchanged.`, "",
    "| Application | Change | Objects |", "|---|---|---|"];
  for (const app of p.apps) {
    const objects = app.objects.map((o) => `${SIGN[o.change]} \`${o.object}\``).join("<br>") || (app.errors.length ? "render error" : "");
    lines.push(`| \`${app.name}\` | ${app.change} | ${objects} |`);
  }
  for (const app of p.apps) {
    lines.push("", `<details><summary>${app.name} (${app.change})</summary>`, "");
    for (const e of app.errors) lines.push(`> **Error** ${e.replace(/\n/g, " ")}`, "");
    const diffs = app.objects.map((o) => o.diff.trimEnd()).join("\n");
    if (diffs) lines.push("```diff", diffs, "```");
    lines.push("", "</details>");
  }
  return `${lines.join("\n")}\n`;
}

export function previewJson(p: Preview): string {
  return `${JSON.stringify(p, null, 2)}\n`;
}
