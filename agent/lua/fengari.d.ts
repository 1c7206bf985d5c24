// The part of fengari's API (Lua 5.3 in JavaScript) that agent/lua uses; the package ships no types.
declare module "fengari" {
  export type LuaState = { readonly __luaState: unique symbol };
  type JsFunction = (L: LuaState) => number;
  type Hook = (L: LuaState, ar: unknown) => void;

  export const lua: {
    readonly LUA_OK: number;
    readonly LUA_TNIL: number;
    readonly LUA_TBOOLEAN: number;
    readonly LUA_TNUMBER: number;
    readonly LUA_TSTRING: number;
    readonly LUA_TTABLE: number;
    readonly LUA_MASKCOUNT: number;
    readonly LUA_REGISTRYINDEX: number;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_getglobal(L: LuaState, name: Uint8Array): number;
    lua_setglobal(L: LuaState, name: Uint8Array): void;
    lua_gettop(L: LuaState): number;
    lua_settop(L: LuaState, idx: number): void;
    lua_checkstack(L: LuaState, n: number): boolean;
    lua_isinteger(L: LuaState, idx: number): boolean;
    lua_next(L: LuaState, idx: number): number;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_pop(L: LuaState, n: number): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushjsfunction(L: LuaState, fn: JsFunction): void;
    lua_pushnil(L: LuaState): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: Uint8Array): void;
    lua_pushvalue(L: LuaState, idx: number): void;
    lua_rawgeti(L: LuaState, idx: number, n: number): number;
    lua_rawlen(L: LuaState, idx: number): number;
    lua_rawseti(L: LuaState, idx: number, n: number): void;
    lua_setfield(L: LuaState, idx: number, k: Uint8Array): void;
    lua_sethook(L: LuaState, hook: Hook | null, mask: number, count: number): void;
    lua_toboolean(L: LuaState, idx: number): boolean;
    lua_tojsstring(L: LuaState, idx: number): string;
    lua_tonumber(L: LuaState, idx: number): number;
    lua_type(L: LuaState, idx: number): number;
    lua_typename(L: LuaState, t: number): Uint8Array;
  };
  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadbufferx(L: LuaState, buff: Uint8Array, size: number, name: Uint8Array, mode: Uint8Array | null): number;
    luaL_error(L: LuaState, fmt: Uint8Array): never;
    luaL_checkinteger(L: LuaState, arg: number): number;
    luaL_checklstring(L: LuaState, arg: number): Uint8Array;
  };
  export const lualib: {
    luaL_openlibs(L: LuaState): void;
  };
  export function to_luastring(s: string): Uint8Array;
  export function to_jsstring(s: Uint8Array): string;
}
