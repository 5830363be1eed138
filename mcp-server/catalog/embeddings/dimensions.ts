/** Width of the catalog's vector(256) column; every embedder returns vectors of exactly this length. */
export const EMBEDDING_DIMENSIONS = 256;
