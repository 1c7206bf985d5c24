// The web UI's build: `npm run build:ui` bundles ui/ into dist/ui, which the agent and `tether ui`
// serve under /ui/ (agent/ui/assets.ts).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: here,
  base: "/ui/",
  // Preact's automatic JSX runtime; no plugin needed.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/ui", import.meta.url)),
    emptyOutDir: true,
    // No inline script or style: the Content-Security-Policy allows only files from the origin.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  logLevel: "warn",
});
