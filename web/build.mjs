// Build the player into dist/ with esbuild.
//   node build.mjs            one build
//   node build.mjs --watch    rebuild on change
//
// dist/player.js             ES module; imports firebase/app, firebase/auth and
//                            firebase/firestore (a peer dependency: the host's copy)
// dist/player.css            its styles
// dist/player.standalone.js  ES module with Firebase bundled in, re-exporting what
//                            a page needs to initialise its app and sign in
// dist/firebase/*.js         the demo page's own Firebase SDK (through an import map)
import * as esbuild from "esbuild";

const common = {
  bundle: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "warning",
};

const builds = [
  { ...common, entryPoints: ["src/player.js", "src/player.css"], outdir: "dist",
    external: ["firebase/*"] },
  { ...common, entryPoints: { "player.standalone": "src/standalone.js" }, outdir: "dist" },
  { ...common, entryPoints: ["src/firebase/app.js", "src/firebase/auth.js",
    "src/firebase/firestore.js"], outdir: "dist/firebase", splitting: true },
];

if (process.argv.includes("--watch")) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  const started = Date.now();
  const sizes = [];
  for (const options of builds) {
    const result = await esbuild.build({ ...options, metafile: true });
    for (const [file, out] of Object.entries(result.metafile.outputs)) {
      if (/\.(js|css)$/.test(file) && !/chunk-/.test(file)) {
        sizes.push(`${file} ${(out.bytes / 1024).toFixed(0)} KiB`);
      }
    }
  }
  console.error(`web: built ${sizes.join(", ")} in ${Date.now() - started} ms`);
}
