// `npm run build`: bundle the client into server/vcc/web (served by the node at
// /, /join, /screen, /drill and /assets). `npm run watch` rebuilds on change.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "server", "vcc", "web");
const assets = join(out, "assets");
const watch = process.argv.includes("--watch");

function hashOf(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 10);
}

/** index.html names the bundles with their content hash, so a new build is never hidden by a cached one. */
function writeIndex() {
  const template = readFileSync(join(here, "src", "index.html"), "utf-8");
  const html = template
    .replace("__APP_JS__", `/assets/app.js?v=${hashOf(join(assets, "app.js"))}`)
    .replace("__APP_CSS__", `/assets/app.css?v=${hashOf(join(assets, "app.css"))}`);
  writeFileSync(join(out, "index.html"), html);
  // The build output is not source: keep it out of git wherever it is built.
  writeFileSync(join(out, ".gitignore"), "*\n");
}

const options = {
  entryPoints: [{ in: join(here, "src", "main.js"), out: "app" }, { in: join(here, "src", "styles.css"), out: "app" }],
  outdir: assets,
  bundle: true,
  format: "esm",
  // hls.js is imported only where a browser lacks native HLS (the webcast page): a chunk of its own.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  target: ["es2020", "chrome90", "firefox90", "safari15"],
  minify: !watch,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "info",
  plugins: [{ name: "index", setup: (build) => build.onEnd((result) => !result.errors.length && writeIndex()) }],
};

rmSync(assets, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
if (watch) {
  await (await esbuild.context(options)).watch();
} else {
  await esbuild.build(options);
}
