// Stands in for Excalidraw's subsetting worker chunk. Excalidraw starts this file as a module
// worker (same origin, so script-src 'self' allows it) and posts it a font to subset; like
// subset-shared.js it hands the font back whole. It imports nothing, so the worker loads alone.
export const WorkerUrl = new URL(import.meta.url);

if (typeof window === "undefined" && typeof self !== "undefined") {
  self.onmessage = (event) => {
    const font = event.data.arrayBuffer;
    self.postMessage(font, { transfer: [font] });
  };
}
