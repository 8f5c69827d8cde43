// Bundle the player (ES module + CSS) into dist/ with esbuild.
//   node build.mjs            one build
//   node build.mjs --watch    rebuild on change
import * as esbuild from "esbuild";

const options = {
  entryPoints: ["src/player.js", "src/player.css"],
  outdir: "dist",
  bundle: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "warning",
};

if (process.argv.includes("--watch")) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  const started = Date.now();
  const result = await esbuild.build({ ...options, metafile: true });
  const sizes = Object.entries(result.metafile.outputs)
    .filter(([file]) => /\.(js|css)$/.test(file))
    .map(([file, out]) => `${file} ${(out.bytes / 1024).toFixed(0)} KiB`);
  console.error(`web: built ${sizes.join(", ")} in ${Date.now() - started} ms`);
}
