// Types of tools/bundle.mjs for the TypeScript that imports it (test harness, benchmarks).
export declare const root: string;
export declare const distDir: string;
/** dist/tether.mjs, the bundled CLI. */
export declare const cliBundle: string;
export declare function isFresh(): boolean;
export declare function build(opts?: { readonly log?: (line: string) => void }): Promise<void>;
