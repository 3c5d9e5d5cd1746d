// Builds the whiteboard bundle (frontend/board/) into static/vendor/excalidraw/, or into the
// folder given as the only argument. Run through `make whiteboard`, which first installs the
// exact packages of package-lock.json with `npm ci`.
//
// The output is committed, so `make run` needs no Node, and `make whiteboard-check` rebuilds it
// and fails on any difference. Same input, same bytes: no source maps, no timestamps, fixed
// options, paths relative to the repository, files written in sorted order.
//
// What it changes in Excalidraw 0.18.1, all checked to apply exactly once (PATCHES):
// - the fallback font URL points at our own folder instead of an outside CDN;
// - the main-menu button gets a name, and "Reset zoom" loses an aria-label that hid its text;
// - data: images (canvas icons, cursors) become files, so img-src needs nothing but 'self';
// - SVG export sets a style through CSSOM rather than a style attribute (style-src 'self');
// - Mermaid conversion and font subsetting (WebAssembly, which the CSP forbids) are stubbed;
// - every locale but English resolves to English: the board is English, like Spar;
// - so do the CSS's data: images;
// - the CJK font (Xiaolai, 13 MB) is left out and unregistered: CJK text uses the system's font.
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const OUT = path.resolve(process.argv[2] ?? path.join(ROOT, "static/vendor/excalidraw"));
const HERE = path.join(ROOT, "frontend/board");
const PACKAGE = path.join(ROOT, "node_modules/@excalidraw/excalidraw");
const DIST = path.join(PACKAGE, "dist/prod");
const EXCALIDRAW_VERSION = "0.18.1";
const LEFT_OUT_FONTS = new Set(["Xiaolai"]);

// Images that the patches below take out of Excalidraw's code, by file name.
const PATCHED_IMAGES = new Map();

function imageFile(svg) {
  const name = `img/${sha(svg).slice(0, 16)}.svg`;
  PATCHED_IMAGES.set(name, Buffer.from(svg));
  return name;
}

// Replacements in Excalidraw's prebuilt files. Each must match exactly `count` times (default 1),
// so an upgrade that moves the code fails the build instead of shipping unpatched behaviour.
const PATCHES = [
  {
    why: "fonts missing from our folder must not fall back to an outside CDN",
    find: '`https://esm.sh/${M.PKG_NAME?`${M.PKG_NAME}@${M.PKG_VERSION}`:"@excalidraw/excalidraw"}/dist/prod/`',
    replace: 'new URL("./",import.meta.url).href',
  },
  {
    why: "axe button-name: the main-menu trigger is an icon with no accessible name",
    find: '"data-testid":"main-menu-trigger",className:"main-menu-trigger",',
    replace:
      '"data-testid":"main-menu-trigger",className:"main-menu-trigger",title:"Board menu","aria-label":"Board menu",',
  },
  {
    why: 'axe label-content-name-mismatch: the button shows "100%" but was named "Reset zoom"; its title still says so',
    find: 'className:"reset-zoom-button zoom-button",title:g("buttons.resetZoom"),"aria-label":g("buttons.resetZoom"),',
    replace: 'className:"reset-zoom-button zoom-button",title:g("buttons.resetZoom"),',
  },
  {
    why: "the CJK font (Xiaolai, 209 files, 13 MB) is left out: registered without files, CJK text falls back to the system's font instead of requesting missing files",
    find: "n(Mn,...b1),",
    replace: "n(Mn),",
  },
  {
    why: "img-src 'self': the canvas's icons (image placeholders, link badges) were data: URLs, loaded on every page; they become files",
    find: /`data:\$\{H\.svg\}, ?\$\{encodeURIComponent\('([^'\\]*)'\)\}`/g,
    count: 4,
    replace: (match, svg) => `new URL(${JSON.stringify(imageFile(svg))},import.meta.url).href`,
  },
  {
    why: "img-src 'self': the eraser's cursor was a canvas drawn into a data: URL; the same circle comes from a file",
    find: "Jb(e,`url(${D2}) ${20/2} ${20/2}, auto`)",
    replace:
      'Jb(e,`url(${new URL(t===ke.DARK?"img/eraser-dark.svg":"img/eraser-light.svg",import.meta.url).href}) 10 10, auto`)',
  },
  {
    why: "style-src 'self': SVG export (copy as SVG, library previews) set text's style attribute, which the CSP refuses; the same style through CSSOM is allowed and serialises the same",
    find: '_.setAttribute("style","white-space: pre;")',
    replace: '_.style.whiteSpace="pre"',
  },
  {
    why: "img-src 'self': the laser pointer's cursor was a data: URL; a plain crosshair instead",
    find: "let n=t.theme===ke.LIGHT?Ab:Kb;e.style.cursor=`url(${n}), auto`",
    replace: 'e.style.cursor="crosshair"',
  },
];

const STUBS = {
  "@excalidraw/mermaid-to-excalidraw": path.join(HERE, "stubs/mermaid-to-excalidraw.js"),
  "./subset-shared.chunk.js": path.join(HERE, "stubs/subset-shared.js"),
  "./subset-worker.chunk.js": path.join(HERE, "stubs/subset-worker.js"),
};

// Fonts shipped inside @excalidraw/excalidraw without their licence texts.
const FONT_LICENCES = `Fonts (fonts/, from @excalidraw/excalidraw ${EXCALIDRAW_VERSION}; the package ships no licence texts for them)
- Assistant: SIL Open Font License 1.1 (OFL-1.1.txt)
- Cascadia Code (Microsoft): SIL Open Font License 1.1 (OFL-1.1.txt)
- Comic Shanns: MIT License
- Excalifont and Virgil (Excalidraw): SIL Open Font License 1.1 (OFL-1.1.txt)
- Liberation Sans (Red Hat): SIL Open Font License 1.1 (OFL-1.1.txt)
- Lilita One: SIL Open Font License 1.1 (OFL-1.1.txt)
- Nunito: SIL Open Font License 1.1 (OFL-1.1.txt)
`;

const rel = (file) => path.relative(ROOT, file).split(path.sep).join("/");
const sha = (data) => createHash("sha256").update(data).digest("hex");

function excalidrawPlugin() {
  const applied = new Map(PATCHES.map((patch) => [patch, 0]));
  const localeDir = path.join(DIST, "locales");
  const english = fs.readdirSync(localeDir).find((name) => /^en-[A-Z0-9]+\.js$/.test(name));
  const insideDist = (importer) => importer.startsWith(DIST + path.sep);
  return {
    name: "spar-excalidraw",
    setup(build) {
      build.onResolve({ filter: /^(@excalidraw\/mermaid-to-excalidraw|\.\/subset-(shared|worker)\.chunk\.js)$/ }, (args) =>
        insideDist(args.importer) ? { path: STUBS[args.path] } : undefined,
      );
      build.onResolve({ filter: /^\.\/locales\/[^/]+\.js$/ }, (args) =>
        insideDist(args.importer) ? { path: path.join(localeDir, english) } : undefined,
      );
      build.onLoad({ filter: /\.js$/ }, (args) => {
        if (!insideDist(args.path)) return undefined;
        let code = fs.readFileSync(args.path, "utf8");
        for (const patch of PATCHES) {
          if (typeof patch.find === "string") {
            const parts = code.split(patch.find);
            applied.set(patch, applied.get(patch) + parts.length - 1);
            code = parts.join(patch.replace);
          } else {
            code = code.replace(patch.find, (...match) => {
              applied.set(patch, applied.get(patch) + 1);
              return patch.replace(...match);
            });
          }
        }
        return { contents: code, loader: "js" };
      });
      build.onEnd(() => {
        const wrong = PATCHES.filter((patch) => applied.get(patch) !== (patch.count ?? 1));
        if (wrong.length) {
          throw new Error(
            `These patches did not apply exactly once; review PATCHES for this Excalidraw:\n${wrong
              .map((p) => `- ${p.why} (${applied.get(p)} times)`)
              .join("\n")}`,
          );
        }
      });
    },
  };
}

// url(data:...) in Excalidraw's CSS would need img-src data:. Each image becomes a file named by
// its content, referenced relatively, so the stylesheet needs nothing beyond 'self'.
function extractDataImages(css) {
  const images = new Map();
  let out = "";
  let at = 0;
  for (let start = css.indexOf("url(", at); start >= 0; start = css.indexOf("url(", at)) {
    let open = start + 4;
    const quote = css[open] === "'" || css[open] === '"' ? css[open] : "";
    if (quote) open += 1;
    const close = css.indexOf(quote || ")", open);
    const end = quote ? css.indexOf(")", close) : close;
    const uri = css.slice(open, close);
    out += css.slice(at, start);
    at = end + 1;
    if (!uri.startsWith("data:")) {
      out += css.slice(start, at);
      continue;
    }
    const comma = uri.indexOf(",");
    const [mime, ...params] = uri.slice(5, comma).split(";");
    const extension = { "image/png": "png", "image/svg+xml": "svg" }[mime];
    if (!extension) throw new Error(`Unexpected data URI type in Excalidraw's CSS: ${mime}`);
    const payload = uri.slice(comma + 1);
    const bytes = params.includes("base64")
      ? Buffer.from(payload, "base64")
      : Buffer.from(decodeURIComponent(payload), "utf8");
    const name = `img/${sha(bytes).slice(0, 16)}.${extension}`;
    images.set(name, bytes);
    out += `url("${name}")`;
  }
  out += css.slice(at);
  if (out.includes("data:")) throw new Error("A data: URI is left in the stylesheet.");
  return { css: out, images };
}

function listFiles(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? listFiles(full) : [full];
    });
}

// The package (folder holding package.json) every bundled file comes from, outermost first.
function packageRoot(file) {
  const parts = file.split("/");
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return null;
  const length = parts[at + 1].startsWith("@") ? 3 : 2;
  return parts.slice(0, at + length).join("/");
}

function licenceTexts(root, name) {
  const files = fs
    .readdirSync(path.join(ROOT, root))
    .filter((file) => /^(licen[cs]e|copying)/i.test(file))
    .sort();
  if (files.length) return files.map((file) => fs.readFileSync(path.join(ROOT, root, file), "utf8").trim());
  for (const candidate of [name.replace("/", "__"), name.split("/")[0]]) {
    const file = path.join(HERE, "licences", `${candidate}.txt`);
    if (fs.existsSync(file)) return [fs.readFileSync(file, "utf8").trim()];
  }
  throw new Error(`${name} ships no licence file: add its text as frontend/board/licences/${name.replace("/", "__")}.txt`);
}

function licences(inputs) {
  const sections = new Map();
  for (const root of new Set(inputs.map(packageRoot).filter(Boolean))) {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, root, "package.json"), "utf8"));
    const licence = manifest.license ?? manifest.licenses?.map((entry) => entry.type).join(" OR ");
    const title = `${manifest.name} ${manifest.version} (${licence})`;
    sections.set(title, `${title}\n\n${licenceTexts(root, manifest.name).join("\n\n")}\n`);
  }
  const rule = `\n${"=".repeat(78)}\n\n`;
  const ordered = [...sections.keys()].sort().map((title) => sections.get(title));
  return (
    "Third-party software in this folder, as bundled by frontend/board/build.mjs.\n" +
    rule +
    [...ordered, FONT_LICENCES].join(rule)
  );
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

async function main() {
  const installed = JSON.parse(fs.readFileSync(path.join(PACKAGE, "package.json"), "utf8")).version;
  if (installed !== EXCALIDRAW_VERSION) {
    throw new Error(`The patches are written for Excalidraw ${EXCALIDRAW_VERSION}, found ${installed}.`);
  }
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { mount: "frontend/board/index.jsx" },
    outdir: OUT,
    bundle: true,
    splitting: true,
    format: "esm",
    target: "es2020",
    minify: true,
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    legalComments: "none",
    sourcemap: false,
    charset: "utf8",
    chunkNames: "chunk-[hash]",
    metafile: true,
    write: false,
    logLevel: "warning",
    plugins: [excalidrawPlugin()],
  });

  const files = new Map();
  const outName = (file) => path.relative(OUT, path.resolve(ROOT, file)).split(path.sep).join("/");
  for (const output of result.outputFiles) files.set(outName(output.path), output.contents);
  const { css, images } = extractDataImages(fs.readFileSync(path.join(DIST, "index.css"), "utf8"));
  files.set("mount.css", Buffer.from(`${css.trimEnd()}\n${fs.readFileSync(path.join(HERE, "board.css"), "utf8")}`));
  for (const [name, bytes] of [...images, ...PATCHED_IMAGES]) files.set(name, bytes);
  for (const name of ["eraser-light.svg", "eraser-dark.svg"]) files.set(`img/${name}`, fs.readFileSync(path.join(HERE, "img", name)));
  for (const font of listFiles(path.join(DIST, "fonts"))) {
    const name = path.relative(DIST, font).split(path.sep).join("/");
    if (!LEFT_OUT_FONTS.has(name.split("/")[1])) files.set(name, fs.readFileSync(font));
  }
  files.set("THIRD-PARTY-LICENSES", Buffer.from(licences(Object.keys(result.metafile.inputs))));
  files.set("OFL-1.1.txt", fs.readFileSync(path.join(HERE, "OFL-1.1.txt")));

  fs.rmSync(OUT, { recursive: true, force: true });
  for (const name of [...files.keys()].sort()) {
    fs.mkdirSync(path.join(OUT, path.dirname(name)), { recursive: true });
    fs.writeFileSync(path.join(OUT, name), files.get(name));
  }

  // A guide to the budget: the entry, the chunks it imports statically and the stylesheet load
  // first; a few small dynamic chunks (English strings, polyfills) and the fonts follow at once,
  // the rest only when a feature needs it (tests/browser/test_board_bundle.py sees what loads).
  const outputs = result.metafile.outputs;
  const entry = Object.keys(outputs).find((name) => outputs[name].entryPoint === "frontend/board/index.jsx");
  const initial = new Set();
  const visit = (name) => {
    if (initial.has(name)) return;
    initial.add(name);
    for (const imported of outputs[name].imports) if (imported.kind === "import-statement") visit(imported.path);
  };
  visit(entry);
  const sizes = { initial: [0, 0], lazy: [0, 0] };
  for (const name of Object.keys(outputs)) {
    const bytes = files.get(outName(name));
    const bucket = initial.has(name) ? sizes.initial : sizes.lazy;
    bucket[0] += bytes.length;
    bucket[1] += gzipSync(bytes, { level: 9 }).length;
  }
  const style = files.get("mount.css");
  sizes.initial[0] += style.length;
  sizes.initial[1] += gzipSync(style, { level: 9 }).length;
  console.log(`Built ${files.size} files into ${OUT}`);
  console.log(`entry, static imports and CSS: ${kb(sizes.initial[0])} raw, ${kb(sizes.initial[1])} gzipped`);
  console.log(`dynamic chunks: ${kb(sizes.lazy[0])} raw, ${kb(sizes.lazy[1])} gzipped`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
