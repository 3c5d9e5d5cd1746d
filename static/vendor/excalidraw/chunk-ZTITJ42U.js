import"./chunk-3RNHDNP5.js";async function r(){throw new Error("Mermaid diagrams cannot be converted on this board.")}export{r as parseMermaidToExcalidraw};
