import{sk as a,tk as t,uk as e}from"./chunk-N3O5C23T.js";import"./chunk-5QEKW4GB.js";import"./chunk-3RNHDNP5.js";export{e as decodePngMetadata,t as encodePngMetadata,a as getTEXtChunk};
