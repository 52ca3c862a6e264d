/** What JSON.parse objected to, and where when the engine says so. */
export interface JsonErrorInfo {
  /** Lower-case, engine boilerplate removed: "unexpected token '}'", "unexpected end of input". */
  reason: string;
  /** 0-based character offset in the parsed text (V8). */
  position?: number;
  /** 1-based line and column (Firefox). */
  line?: number;
  column?: number;
}

/**
 * Engines word these differently:
 *   V8:      Unexpected token '}', "{"a":}" is not valid JSON · Expected ':' after property name in JSON at position 5 (line 1 column 6)
 *   Firefox: JSON.parse: unexpected character at line 1 column 6 of the JSON data
 *   Safari:  JSON Parse error: Unexpected identifier "x"
 */
export function describeJsonError(err: unknown): JsonErrorInfo {
  const message = oneLine(err instanceof Error ? err.message : String(err));
  let m = /^(Unexpected token .+?), .* is not valid JSON$/s.exec(message);
  if (m) return { reason: lowerFirst(m[1]) };
  if (/^Unexpected end of JSON input/.test(message)) return { reason: 'unexpected end of input' };
  m = /^(.*?)(?: in JSON)? at position (\d+)/s.exec(message);
  if (m) return { reason: lowerFirst(m[1]), position: Number(m[2]) };
  m = /^JSON\.parse: (.*?) at line (\d+) column (\d+) of the JSON data$/s.exec(message);
  if (m) return { reason: m[1], line: Number(m[2]), column: Number(m[3]) };
  m = /^JSON Parse error: (.*)$/s.exec(message);
  return { reason: lowerFirst(m ? m[1] : message) };
}

/** An issue is one line: V8 quotes the offending character raw, so a stray newline would break it. */
function oneLine(s: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  const control = (code: number) => code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029;
  let out = '';
  for (const c of s) out += control(c.charCodeAt(0)) ? (named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : c;
  return out;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
