import { defineConfig } from "vite";

// The built console lands inside the Python package, which serves it at /console
// (assistantd/api/console.py); so pip and `make serve` users need no Node at run time.
export default defineConfig({
  base: "/console/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "../assistantd/console_assets",
    emptyOutDir: true,
    // Nothing is fetched from elsewhere at run time: no CDN, no web fonts.
    assetsInlineLimit: 0,
  },
});
