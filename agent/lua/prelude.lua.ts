// The Lua side of agent/lua: run once when the VM starts. Each call gets a fresh environment holding
// what gopher-lua gives Argo CD's scripts (base functions, string, table, math, a safe os), so a script
// sees no state left by another and cannot reach io, debug, load or the file system.
export const STRING_REP_LIMIT = 16 * 1024 * 1024;

export const PRELUDE = String.raw`
local cache, cacheSize = {}, 0
local stringlib, tablelib, mathlib, oslib, corolib, utf8lib = string, table, math, os, coroutine, utf8
local setupvalue, load, pairs, ipairs, error, tostring = debug.setupvalue, load, pairs, ipairs, error, tostring

local function copy(t, skip)
  local c = {}
  for k, v in pairs(t) do
    if not (skip and skip[k]) then c[k] = v end
  end
  return c
end

-- string.rep is the one library call that allocates without running instructions the hook can stop.
local rawrep = stringlib.rep
local function rep(s, n, sep)
  local size = (#tostring(s) + #tostring(sep or "")) * (tonumber(n) or 0)
  if size > ${STRING_REP_LIMIT} then error("string.rep: result of " .. string.format("%.0f", size) .. " bytes is over the limit", 2) end
  return rawrep(s, n, sep)
end
local strings = copy(stringlib, { dump = true })
strings.rep = rep
-- Methods on strings ("x"):find(...) use this table; the metatable is protected so no script can change it.
local smt = getmetatable("")
smt.__index = strings
smt.__metatable = false

local BASE = { "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen", "rawset",
  "select", "setmetatable", "getmetatable", "tonumber", "tostring", "type", "xpcall" }
local base = {}
for _, name in ipairs(BASE) do base[name] = _G[name] end

local function environment(openLibs, obj, extra)
  local env = copy(base)
  env._VERSION = "Lua 5.1"
  env.print = function() end
  env.unpack = tablelib.unpack
  local tbl = copy(tablelib)
  tbl.getn = function(t) return #t end
  tbl.maxn = function(t) local n = 0 for k in pairs(t) do if type(k) == "number" and k > n then n = k end end return n end
  env.table = tbl
  env.string = copy(strings)
  local m = copy(mathlib)
  m.pow = function(a, b) return a ^ b end
  m.mod = mathlib.fmod
  env.math = m
  local os = { time = oslib.time, date = oslib.date }
  if openLibs then
    os.clock = oslib.clock
    env.coroutine = copy(corolib)
    env.utf8 = copy(utf8lib)
  end
  env.os = os
  env.require = function(name)
    if name == "os" then return os end
    if type(env[name]) == "table" and name ~= "_G" then return env[name] end
    error("module '" .. tostring(name) .. "' not found", 2)
  end
  env._G = env
  for k, v in pairs(extra) do env[k] = v end
  env.obj = obj
  return env
end

function __tether_run(src, name, openLibs, obj, extra)
  local f = cache[src]
  if not f then
    local err
    f, err = load(src, "=" .. name, "t", {})
    if not f then error(err, 0) end
    if cacheSize >= 256 then cache, cacheSize = {}, 0 end
    cache[src] = f
    cacheSize = cacheSize + 1
  end
  setupvalue(f, 1, environment(openLibs, obj, extra))
  return f()
end
`;
