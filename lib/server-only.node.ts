// What `import 'server-only'` means outside Next.js's bundles. The marker package throws
// unless it is resolved with React's `react-server` condition, which only Next.js's
// server bundles use: there it is empty, and a client bundle that reaches a server module
// fails the build. Flotilla also runs the same modules in plain Node (server.ts around
// Next.js, the worker, scripts, the CLI, tests), where nothing is bundled for a browser,
// so tsconfig.json maps the marker here for tsx and tsc, and Vitest aliases it here.
// Next.js builds with tsconfig.next.json, which does not map it (decision 0021).
export {};
