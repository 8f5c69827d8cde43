// Preloaded into the Auth emulator (`node --require`, set by infra/local/launch.py).
//
// The emulator hands its OpenAPI document to exegesis (through
// exegesis-express's `middleware`), which by default compiles an ajv
// validator for every request and response schema of every operation before
// it answers anything: 8.4 of the 9.4 CPU-s of an emulator start, and under
// load the longest part of a local stack's start (33 s of it beside three
// stacks and a CPU-bound process). exegesis's own option
// `lazyCompileValidationSchemas` compiles each validator when it is first
// needed instead. Every request is still validated by the same schemas, so
// the emulator answers exactly as before; only the compiling moves to the
// first call of each operation.
//
// If firebase-tools stops using exegesis-express this does nothing, and the
// emulator starts as slowly as it does without it.
"use strict";
const path = require("path");

try {
  const from = { paths: [path.join(__dirname, "node_modules", "firebase-tools")] };
  const exegesisExpress = require(require.resolve("exegesis-express", from));
  const compile = exegesisExpress.middleware;
  exegesisExpress.middleware = function lazySchemas(doc, options, done) {
    return compile(doc, { ...options, lazyCompileValidationSchemas: true }, done);
  };
} catch (err) {
  // Not found: the emulator's own, unchanged start.
}
