// Lua for tether-cm's scripts (health checks, resource actions): see README.md.
export { DEFAULT_MEMORY_BYTES, DEFAULT_TIMEOUT_MS, runLua, type LuaOutcome, type LuaRunOptions } from "./vm.ts";
