import { describe, expect, it } from "vitest";
import type { Manifest } from "../api/types.ts";
import { compareVersions, objectKey, ObjectStore, type WatchEventType } from "./store.ts";

const cm = (name: string, resourceVersion: string, value = "a"): Manifest =>
  ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns", resourceVersion }, data: { value } });
const KEY = objectKey("ns", "settings");

type Step =
  | { readonly list: readonly Manifest[]; readonly at: string }
  | { readonly watch: WatchEventType; readonly obj: Manifest }
  | { readonly wrote: Manifest };

function run(steps: readonly Step[]): ObjectStore {
  const store = new ObjectStore();
  for (const s of steps) {
    if ("list" in s) store.replace(s.list, s.at);
    else if ("watch" in s) store.event(s.watch, s.obj);
    else store.wrote(s.wrote);
  }
  return store;
}

describe("the live store: only watches write, the agent's writes are an overlay", () => {
  it.each<{ what: string; steps: Step[]; expected: string | undefined }>([
    {
      what: "an apply is read back before its watch event arrives",
      steps: [{ list: [cm("settings", "10")], at: "10" }, { wrote: cm("settings", "12", "b") }],
      expected: "12",
    },
    {
      what: "a DELETED event that arrives during the wave wins over the apply's answer",
      steps: [{ list: [], at: "9" }, { watch: "ADDED", obj: cm("settings", "10") }, { watch: "DELETED", obj: cm("settings", "11") },
        { wrote: cm("settings", "10") }],
      expected: undefined,
    },
    {
      what: "a DELETED event after the apply's answer removes it",
      steps: [{ list: [], at: "9" }, { wrote: cm("settings", "10") }, { watch: "ADDED", obj: cm("settings", "10") },
        { watch: "DELETED", obj: cm("settings", "11") }],
      expected: undefined,
    },
    {
      what: "a DELETED event of an older version does not hide what the agent recreated since",
      steps: [{ list: [cm("settings", "10")], at: "10" }, { wrote: cm("settings", "13") }, { watch: "DELETED", obj: cm("settings", "11") }],
      expected: "13",
    },
    {
      what: "a newer watch event replaces the agent's write",
      steps: [{ list: [cm("settings", "10")], at: "10" }, { wrote: cm("settings", "12") }, { watch: "MODIFIED", obj: cm("settings", "14") }],
      expected: "14",
    },
    {
      what: "an apply's answer older than what the watch holds is dropped",
      steps: [{ list: [cm("settings", "15")], at: "15" }, { wrote: cm("settings", "12") }],
      expected: "15",
    },
    {
      what: "a relist at or after the write ends the overlay entry (the list says it is gone)",
      steps: [{ list: [cm("settings", "10")], at: "10" }, { wrote: cm("settings", "12") }, { list: [], at: "13" }],
      expected: undefined,
    },
    {
      what: "a relist older than the write keeps it",
      steps: [{ list: [cm("settings", "10")], at: "10" }, { wrote: cm("settings", "12") }, { list: [cm("settings", "10")], at: "11" }],
      expected: "12",
    },
    {
      what: "a write whose version is not an etcd revision is not kept: the watch is trusted",
      steps: [{ list: [], at: "9" }, { wrote: cm("settings", "abc") }],
      expected: undefined,
    },
  ])("$what", ({ steps, expected }) => {
    expect(run(steps).get(KEY)?.metadata.resourceVersion).toBe(expected);
  });

  it("never moves the agent's write into what the watch holds", () => {
    const store = run([{ list: [], at: "9" }, { wrote: cm("settings", "10") }]);
    expect(store.size).toBe(0);
    expect(store.pending).toBe(1);
    store.event("DELETED", cm("settings", "10"));
    expect(store.pending).toBe(0);
    expect(store.get(KEY)).toBeUndefined();
  });

  it("reports what changed between two lists as watch events", () => {
    const store = run([{ list: [cm("a", "1"), cm("b", "2")], at: "2" }]);
    const events = store.replace([cm("b", "3"), cm("c", "4")], "4");
    expect(events.map((e) => `${e.type} ${e.obj.metadata.name}`).sort()).toEqual(["ADDED c", "DELETED a", "MODIFIED b"]);
  });
});

describe("compareVersions", () => {
  it.each([
    ["9", "10", -1], ["10", "10", 0], ["11", "10", 1], ["18446744073709551617", "18446744073709551616", 1],
    ["abc", "10", "unknown"], [undefined, "10", "unknown"],
  ] as const)("%s vs %s is %s", (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });
});

describe("the tracking index", () => {
  const owned = (name: string, app: string, rv: string): Manifest =>
    ({ ...cm(name, rv), metadata: { ...cm(name, rv).metadata, labels: { "tether.dev/app": app } } });

  it("finds an app's objects by their label, through lists, changes of owner and deletions", () => {
    const store = new ObjectStore("tether.dev/app");
    store.replace([owned("a", "web", "1"), owned("b", "web", "2"), owned("c", "db", "3")], "3");
    expect(store.labelled("web").map((o) => o.metadata.name).sort()).toEqual(["a", "b"]);
    store.event("MODIFIED", owned("b", "db", "4"));
    store.event("DELETED", owned("a", "web", "5"));
    expect(store.labelled("web")).toEqual([]);
    expect(store.labelled("db").map((o) => o.metadata.name).sort()).toEqual(["b", "c"]);
    store.wrote(owned("d", "web", "6"));
    expect(store.labelled("web")).toEqual([]);
  });
});
