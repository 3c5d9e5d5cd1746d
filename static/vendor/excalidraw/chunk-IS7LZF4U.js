import{sk as a,tk as t,uk as e}from"./chunk-JR7L36JH.js";import"./chunk-5QEKW4GB.js";import"./chunk-3RNHDNP5.js";export{e as decodePngMetadata,t as encodePngMetadata,a as getTEXtChunk};
