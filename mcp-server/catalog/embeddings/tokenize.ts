/**
 * Function words that carry no topic. They are left out of a text's vector so that "where is the contract
 * spend data" means what "contract spend" means; a text made only of them still gets their vectors.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  `an the of to in on at by for with from into onto over under about above below between through during
  and or but nor so if then than else as is are was were be been being am do does did done has have had having
  it its this that these those there here where what which who whom whose how when why
  me my mine we us our ours you your yours he him his she her hers they them their theirs
  not no all any some each every both either neither can could would should will shall may might must
  also just only very too more most less such own same other another per via vs etc
  please show find list give get tell let me`
    .split(/\s+/)
    .filter((word) => word.length > 0),
);

/**
 * Splits text the way catalog names are written: snake_case, kebab-case, camelCase and PascalCase words,
 * acronyms ("HTTPServer" -> http, server), digits apart from letters ("address2" -> address, 2), accents
 * folded ("café" -> cafe). Returns lowercase tokens of at least two characters; single letters are too
 * ambiguous to mean anything in a name.
 */
export function tokenize(text: string): string[] {
  const folded = text.normalize('NFKD').replace(/\p{M}+/gu, '');
  const separated = folded
    .replace(/(\p{Ll})(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2')
    .replace(/(\p{L})(\p{N})/gu, '$1 $2')
    .replace(/(\p{N})(\p{L})/gu, '$1 $2');
  return separated
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((token) => token.length > 1);
}
