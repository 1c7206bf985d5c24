// fengari reads its compile-time options from FENGARICONF when it loads, so this module is imported
// before it. LUA_COMPAT_FLOATSTRING prints an integral float as Go's gopher-lua does ("5", not Lua
// 5.3's "5.0"), so messages that Argo CD's scripts build with `/` read the same.
process.env.FENGARICONF ??= JSON.stringify({ LUA_COMPAT_FLOATSTRING: true });
