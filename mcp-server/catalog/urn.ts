/** Encodes one part of a URN so `:` and `.` inside names cannot make two assets share a URN. */
function urnPart(part: string): string {
  return encodeURIComponent(part).replace(/\./g, '%2E');
}

/** `urn:dataops:<platform>:<source>:<namespace>.<name>`: stable across re-ingestion, safe in URIs. */
export function assetUrn(platform: string, source: string, namespace: string, name: string): string {
  return `urn:dataops:${urnPart(platform)}:${urnPart(source)}:${urnPart(namespace)}.${urnPart(name)}`;
}
