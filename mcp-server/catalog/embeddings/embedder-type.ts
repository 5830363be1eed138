// Apart from the factory (embedder.ts), so the embedders it creates can name the interface without a loop.

/** Turns texts into vectors for hybrid catalog search. */
export interface Embedder {
  /** Identifies the model and its settings; vectors from different model ids must never be compared. */
  readonly modelId: string;
  /**
   * One vector per text, in order. Each has EMBEDDING_DIMENSIONS entries and is L2-normalised, or is all zeros
   * when the text holds nothing the model can place (no known word, or blank).
   */
  embed(texts: string[]): Promise<number[][]>;
}
