// Builds a JavaScript handler component with componentize-js.
//
//   node componentize.mjs COMPONENTIZE_JS_MODULE SOURCE.js WIT_DIR WORLD OUT.wasm
//
// The componentize-js module path is passed in because the package lives in
// build.py's toolchain directory, not next to this script.
import { writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

const [modulePath, sourcePath, witPath, worldName, outPath] = process.argv.slice(2);
const { componentize } = await import(pathToFileURL(modulePath).href);
const { component } = await componentize({
  sourcePath,
  witPath,
  worldName,
  // A handler needs no randomness, clocks or network; stdio stays so that
  // console.log/console.error reach the handler's logs.
  disableFeatures: ["random", "clocks", "http", "fetch-event"],
});
await writeFile(outPath, component);
