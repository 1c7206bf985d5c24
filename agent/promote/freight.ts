// Freight: what a Warehouse found, made into an immutable object named by its content. Pure.
import { createHash } from "node:crypto";
import { API_VERSION } from "../api/types.ts";
import type { Freight, FreightImage } from "../api/promotion.ts";

/**
 * The Freight's name: a sha1 of its artifacts (`repoURL:tag@digest`), sorted, so the same images make the
 * same name whichever order a Warehouse lists them in, and a moved tag (new digest) makes new Freight.
 * Kargo names Freight the same way (GenerateID).
 */
export function freightName(images: readonly FreightImage[]): string {
  const artifacts = images.map((i) => `${i.repoURL}:${i.tag}@${i.digest ?? ""}`).sort();
  return createHash("sha1").update(artifacts.join("|")).digest("hex");
}

/** The Freight a Warehouse in `namespace` makes of one selection: one image per subscription. */
export function freightOf(warehouse: string, namespace: string, images: readonly FreightImage[]): Freight {
  const name = freightName(images);
  return {
    apiVersion: API_VERSION, kind: "Freight",
    metadata: { name, namespace, labels: { "tether.dev/warehouse": warehouse } },
    alias: aliasOf(images), warehouse, images: [...images],
  };
}

/** A label a person reads: the tags, e.g. `1.25.3`, or `nginx:1.25.3 redis:7.2.4` for several images. */
export function aliasOf(images: readonly FreightImage[]): string {
  if (images.length === 1) return images[0]!.tag;
  return images.map((i) => `${i.repoURL.slice(i.repoURL.lastIndexOf("/") + 1)}:${i.tag}`).join(" ");
}

/** Freight newest first (creationTimestamp, then name for a stable order). */
export function newestFirst<T extends { metadata?: { creationTimestamp?: Date | string; name?: string } }>(items: readonly T[]): T[] {
  const time = (f: T) => new Date(f.metadata?.creationTimestamp ?? 0).getTime();
  return [...items].sort((a, b) => time(b) - time(a) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}
