/**
 * The links of a `Link` header (RFC 8288) by relation type. Okta sends `self` and `next` as two
 * separate header lines; fetch (and most proxies) join repeated headers into one line with ", ",
 * so both forms arrive here as one string. URLs are taken between `<` and `>`, so a comma inside
 * a URL does not split it.
 */
export function parseLinkHeader(value: string | null | undefined): Map<string, string> {
  const links = new Map<string, string>();
  if (!value) return links;
  // `[^<>]`, not `[^>]`: with a stray `<` and no `>` after it, every later `<` would rescan to the end
  // of the header (quadratic in its length); a URL never holds a raw `<` (RFC 3986 encodes it).
  const linkValue = /<([^<>]*)>((?:\s*;\s*[^;,<]+)*)/g;
  for (const match of value.matchAll(linkValue)) {
    const target = match[1]?.trim() ?? '';
    const params = match[2] ?? '';
    for (const param of params.split(';')) {
      const separator = param.indexOf('=');
      if (separator < 0) continue;
      const name = param.slice(0, separator).trim().toLowerCase();
      if (name !== 'rel') continue;
      const relations = param
        .slice(separator + 1)
        .trim()
        .replace(/^"|"$/g, '');
      for (const relation of relations.split(/\s+/)) {
        const key = relation.toLowerCase();
        // The first link of a relation wins, as RFC 8288 readers usually do.
        if (key !== '' && !links.has(key)) links.set(key, target);
      }
    }
  }
  return links;
}
