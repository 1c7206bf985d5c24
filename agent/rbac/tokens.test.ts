import { describe, expect, it } from "vitest";
import type { AppProject } from "../api/types.ts";
import { isTetherToken, keysFromSecret, newKeyMaterial, signProjectToken, signSession, verifyToken } from "./tokens.ts";

const keys = keysFromSecret({ key: newKeyMaterial() })!;
const other = keysFromSecret({ key: newKeyMaterial() })!;
const now = new Date("2026-12-06T10:00:00Z");
const sec = Math.floor(now.getTime() / 1000);

const team = (jwtTokens: { iat: number; exp?: number; id?: string }[]): AppProject => ({
  apiVersion: "tether.dev/v1alpha1", kind: "AppProject", metadata: { name: "team-a" },
  spec: { roles: [{ name: "ci", policies: ["p, proj:team-a:ci, applications, sync, team-a/*, allow"], jwtTokens }] },
});

describe("tokens the agent signs", () => {
  it("a project token listed in its role is accepted as proj:<project>:<role>", async () => {
    const token = await signProjectToken(keys, { project: "team-a", role: "ci", iat: sec - 10, id: "build" });
    const v = await verifyToken(token, keys, () => team([{ iat: sec - 10, id: "build" }]), now);
    expect(v).toMatchObject({ kind: "project", subject: "proj:team-a:ci", project: "team-a", role: "ci" });
    expect(isTetherToken(token)).toBe(true);
  });

  it.each([
    ["deleted from the role", [], undefined, "was deleted from role ci of project team-a"],
    ["expired (its exp claim)", [{ iat: 1, id: "build" }], sec - 1, "has expired"],
    ["listed with an exp that passed", [{ iat: 1, exp: sec - 1, id: "build" }], undefined, "has expired"],
  ])("a project token %s is refused", async (_what, entries, exp, message) => {
    const token = await signProjectToken(keys, { project: "team-a", role: "ci", iat: 1, id: "build", ...(exp !== undefined ? { exp } : {}) });
    await expect(verifyToken(token, keys, () => team(entries), now)).rejects.toThrow(message);
  });

  it("a token without an id is matched by its issued-at, as Argo CD's", async () => {
    const token = await signProjectToken(keys, { project: "team-a", role: "ci", iat: 1234 });
    await expect(verifyToken(token, keys, () => team([{ iat: 1234 }]), now)).resolves.toMatchObject({ kind: "project" });
    await expect(verifyToken(token, keys, () => team([{ iat: 1235 }]), now)).rejects.toThrow("was deleted");
  });

  it("a forged signature, another agent's key or a tampered payload is refused", async () => {
    const token = await signProjectToken(other, { project: "team-a", role: "ci", iat: 1, id: "build" });
    await expect(verifyToken(token, keys, () => team([{ iat: 1, id: "build" }]), now)).rejects.toThrow("no longer has");
    const good = await signProjectToken(keys, { project: "team-a", role: "ci", iat: 1, id: "build" });
    const [h, , s] = good.split(".");
    const forged = `${h}.${Buffer.from(JSON.stringify({ iss: "tether", sub: "proj:team-b:ci", iat: 1, jti: "build" })).toString("base64url")}.${s}`;
    await expect(verifyToken(forged, keys, () => team([{ iat: 1, id: "build" }]), now)).rejects.toThrow("signature or claims are not valid");
    const none = `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${good.split(".")[1]}.`;
    await expect(verifyToken(none, keys, () => team([{ iat: 1, id: "build" }]), now)).rejects.toThrow();
  });

  it("a rotated key still verifies tokens signed before the rotation", async () => {
    const token = await signProjectToken(keys, { project: "team-a", role: "ci", iat: 1, id: "build" });
    const rotated = { current: other.current, previous: keys.current };
    await expect(verifyToken(token, rotated, () => team([{ iat: 1, id: "build" }]), now)).resolves.toMatchObject({ kind: "project" });
  });

  it("a session carries the login's claims until it expires", async () => {
    const token = await signSession(keys, { sub: "alice", claims: { groups: ["team-a"], email: "a@x" }, iat: sec, exp: sec + 60 });
    const v = await verifyToken(token, keys, () => undefined, now);
    expect(v).toMatchObject({ kind: "session", subject: "alice", payload: { groups: ["team-a"], email: "a@x" } });
    await expect(verifyToken(token, keys, () => undefined, new Date((sec + 61) * 1000))).rejects.toThrow("has expired");
  });

  it("refuses key material under 32 bytes", () => {
    expect(keysFromSecret({ key: Buffer.from("short").toString("base64") })).toBeUndefined();
  });
});
