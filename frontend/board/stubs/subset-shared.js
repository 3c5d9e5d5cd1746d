// Stands in for Excalidraw's font-subsetting chunk. The real one compiles HarfBuzz and WOFF2
// WebAssembly, which our CSP forbids (no 'wasm-unsafe-eval'). An SVG copy or export therefore
// embeds whole fonts instead of subsets: larger, but it never touches the CSP.
export const Commands = { Subset: "SUBSET" };

export async function toBase64(arrayBuffer) {
  const bytes = new Uint8Array(arrayBuffer);
  let binary = "";
  // Chunked: String.fromCharCode(...bytes) overflows the call stack on a large font.
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  }
  return `data:font/woff2;base64,${btoa(binary)}`;
}

export async function subsetToBinary(arrayBuffer) {
  return arrayBuffer;
}

export async function subsetToBase64(arrayBuffer) {
  return toBase64(arrayBuffer);
}
