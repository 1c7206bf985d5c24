// Type-aware lint: floating promises are errors because an un-awaited apply or
// status write is a silent lost update in a reconciler.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // .tether/ holds the demo's cluster, whose agent pod keeps checkouts of this repository in its cache;
  // .tools/ the built binaries. Neither is source.
  { ignores: ["node_modules/", "dist/", ".tether/", ".tools/", "**/*.js", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "max-params": ["error", 4],
      complexity: ["warn", 20],
    },
  },
  {
    // Tests poke into rendered manifests whose shape the assertion itself checks.
    files: ["**/*.test.ts", "test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
