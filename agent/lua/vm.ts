// Runs Lua scripts from tether-cm (health checks, resource actions) the way Argo CD runs them with
// gopher-lua: the object as global `obj`, a fresh environment per call, each call bounded in time and
// memory. fengari (Lua 5.3 in JavaScript) is synchronous, so a health check stays a plain function.
// Why fengari and not wasmoon: agent/health/README.md.
import { getHeapStatistics } from "node:v8";
import "./conf.ts";
import { lauxlib, lua, lualib, to_luastring, type LuaState } from "fengari";
import { PRELUDE } from "./prelude.lua.ts";

export interface LuaRunOptions {
  /** The script's text; its last `return` is the result. */
  readonly script: string;
  /** Set as global `obj`, converted as Argo CD converts an object (integers stay integers). */
  readonly obj: unknown;
  /** More globals, e.g. an action's `actionParams`. */
  readonly globals?: Readonly<Record<string, unknown>>;
  /**
   * Argo CD's `useOpenLibs`: adds coroutine, utf8 and os.clock. string, table, math and os.time/os.date
   * are always there (a superset of Argo CD's safe set, so every script that runs there runs here).
   */
  readonly openLibs?: boolean;
  /** Wall-clock bound of one call; Argo CD's is 1 s. */
  readonly timeoutMs?: number;
  /** How much the JavaScript heap may grow during one call. */
  readonly memoryBytes?: number;
  /** Names the script in error messages, e.g. `health.lua` → `health.lua:3: attempt to index a nil value`. */
  readonly name?: string;
}

/** What a script returned, converted to JSON-like data, or why it failed (never a throw). */
export type LuaOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

export const DEFAULT_TIMEOUT_MS = 1000;
export const DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024;
/** Instructions between two checks of the clock and the heap (each check costs about 2 µs). */
const HOOK_EVERY = 1000;
/** Deeper than this, an object or a result is refused: real objects are far shallower, a cycle is not. */
const MAX_DEPTH = 64;

interface Budget {
  deadline: number;
  heapLimit: number;
  timeoutMs: number;
  memoryBytes: number;
}

let state: LuaState | undefined;
const budget: Budget = { deadline: 0, heapLimit: 0, timeoutMs: 0, memoryBytes: 0 };

/** Runs one script. Errors in the script, time or memory over budget all come back as `{ ok: false }`. */
export function runLua(opts: LuaRunOptions): LuaOutcome {
  const L = vm();
  budget.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  budget.memoryBytes = opts.memoryBytes ?? DEFAULT_MEMORY_BYTES;
  budget.deadline = Date.now() + budget.timeoutMs;
  budget.heapLimit = heapUsed() + budget.memoryBytes;
  try {
    lua.lua_settop(L, 0);
    lua.lua_getglobal(L, to_luastring("__tether_run"));
    lua.lua_pushstring(L, to_luastring(opts.script));
    lua.lua_pushstring(L, to_luastring(opts.name ?? "script.lua"));
    lua.lua_pushboolean(L, opts.openLibs ?? false);
    push(L, opts.obj, 0);
    push(L, opts.globals ?? {}, 0);
    if (lua.lua_pcall(L, 5, 1, 0) !== lua.LUA_OK) return { ok: false, error: errorText(L) };
    return { ok: true, value: read(L, lua.lua_gettop(L), 0) };
  } catch (err) {
    // A JavaScript error inside the VM (an allocation that failed, a conversion refused): start afresh.
    state = undefined;
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    if (state !== undefined) lua.lua_settop(state, 0);
  }
}

function vm(): LuaState {
  if (state !== undefined) return state;
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const code = to_luastring(PRELUDE);
  if (lauxlib.luaL_loadbufferx(L, code, code.length, to_luastring("=prelude"), null) !== lua.LUA_OK
    || lua.lua_pcall(L, 0, 0, 0) !== lua.LUA_OK) {
    throw new Error(`agent/lua prelude failed: ${lua.lua_tojsstring(L, -1)}`);
  }
  lua.lua_sethook(L, overBudget, lua.LUA_MASKCOUNT, HOOK_EVERY);
  state = L;
  return L;
}

function overBudget(L: LuaState): void {
  if (Date.now() > budget.deadline) lauxlib.luaL_error(L, to_luastring(`script ran longer than ${budget.timeoutMs}ms`));
  if (heapUsed() > budget.heapLimit) {
    lauxlib.luaL_error(L, to_luastring(`script used more than ${Math.round(budget.memoryBytes / 1048576)} MiB of memory`));
  }
}

function heapUsed(): number {
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}

function errorText(L: LuaState): string {
  const t = lua.lua_type(L, -1);
  if (t === lua.LUA_TSTRING || t === lua.LUA_TNUMBER) return lua.lua_tojsstring(L, -1);
  if (t === lua.LUA_TTABLE) return JSON.stringify(read(L, lua.lua_gettop(L), 0));
  return `error object is a ${lua.lua_tojsstring(L, -1) ?? "non-string value"}`;
}

/**
 * JSON-like data onto the stack as gopher-lua's Argo CD conversion does: maps and lists become tables,
 * lists 1-based; an integer becomes a Lua integer (so `tostring(3)` is "3", as Go prints it), other
 * numbers floats; null is nil.
 */
function push(L: LuaState, value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new Error(`object nested deeper than ${MAX_DEPTH} levels`);
  // Each level holds a table and a value on the stack; fengari's stack does not grow by itself.
  if (!lua.lua_checkstack(L, 3)) throw new Error("object too deep for the Lua stack");
  if (value === null || value === undefined) lua.lua_pushnil(L);
  else if (typeof value === "boolean") lua.lua_pushboolean(L, value);
  else if (typeof value === "number") pushNumber(L, value);
  else if (typeof value === "bigint") pushNumber(L, Number(value));
  else if (typeof value === "string") lua.lua_pushstring(L, to_luastring(value));
  else if (Array.isArray(value)) {
    lua.lua_createtable(L, value.length, 0);
    value.forEach((item, i) => {
      push(L, item, depth + 1);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else if (typeof value === "object") {
    const entries = Object.entries(value);
    lua.lua_createtable(L, 0, entries.length);
    for (const [key, item] of entries) {
      if (item === null || item === undefined) continue;
      push(L, item, depth + 1);
      lua.lua_setfield(L, -2, to_luastring(key));
    }
  } else lua.lua_pushnil(L);
}

/** fengari's integers are 32-bit; larger whole numbers go in as floats. */
function pushNumber(L: LuaState, n: number): void {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 31) lua.lua_pushinteger(L, n);
  else lua.lua_pushnumber(L, n);
}

/**
 * The value at `idx` as JSON-like data, as gopher-json encodes it for Argo CD: a table with keys
 * 1..n is a list, one with string keys a map, an empty table an empty list; functions are dropped.
 */
function read(L: LuaState, idx: number, depth: number): unknown {
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TBOOLEAN: return lua.lua_toboolean(L, idx);
    case lua.LUA_TNUMBER: return lua.lua_tonumber(L, idx);
    case lua.LUA_TSTRING: return lua.lua_tojsstring(L, idx);
    case lua.LUA_TTABLE: return readTable(L, idx, depth);
    default: return undefined;
  }
}

function readTable(L: LuaState, idx: number, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new Error(`result nested deeper than ${MAX_DEPTH} levels (a table that contains itself?)`);
  if (!lua.lua_checkstack(L, 3)) throw new Error("result too deep for the Lua stack");
  const entries: [string | number, unknown][] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    const keyType = lua.lua_type(L, -2);
    const key = keyType === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -2) : keyType === lua.LUA_TSTRING ? lua.lua_tojsstring(L, -2) : undefined;
    if (key === undefined) throw new Error("cannot convert a table whose keys are neither strings nor numbers");
    entries.push([key, read(L, lua.lua_gettop(L), depth + 1)]);
    lua.lua_pop(L, 1);
  }
  if (entries.length === 0) return [];
  if (entries.every(([k]) => typeof k === "number")) {
    const list: unknown[] = [];
    for (const [k, v] of entries) list[(k as number) - 1] = v;
    if (list.length !== entries.length || entries.some(([k]) => !Number.isInteger(k) || (k as number) < 1)) {
      throw new Error("cannot convert a sparse list (keys must be 1..n)");
    }
    return list;
  }
  if (entries.some(([k]) => typeof k !== "string")) throw new Error("cannot convert a table that mixes list and map keys");
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
}
