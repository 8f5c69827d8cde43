// The page's own Firebase SDK for the demo (a host without a bundler would take
// the same modules from a CDN through an import map): one copy, shared with the
// player, since esbuild splits what these entry points share into one chunk.
export * from "firebase/auth";
