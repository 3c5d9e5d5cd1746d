// Stands in for @excalidraw/mermaid-to-excalidraw, which would add mermaid (several MB) to the
// bundle. Excalidraw catches the error: pasted Mermaid text is pasted as plain text, and the
// "Mermaid to Excalidraw" dialog shows the message.
export async function parseMermaidToExcalidraw() {
  throw new Error("Mermaid diagrams cannot be converted on this board.");
}
