/**
 * XNNPACK failures that tfjs-wasm only prints. When XNNPACK cannot make or run an operator (status 6
 * is out of memory), tfjs-wasm writes "XNN status for xnn_… is not successful. Got status N" to the
 * module's stderr and carries on with an output it never wrote: a generate then printed an empty line
 * and exited 0 (Pythia-410m's shape, before decodeLayout.ts). The module's stderr is console.warn in
 * browsers (bound when the module starts, so watchConsole runs before it) and fd 2 in Node (the CLI
 * hooks it); both hand their text here, and the engine turns a noted failure into the job's error.
 */
const SIGN = /XNN status for (\w+) is not successful\. Got status (\d+)/;

let failure: string | null = null;

/** Looks at a line the WASM module wrote to stderr; remembers the first XNNPACK failure. */
export function noteModuleOutput(text: string): void {
  const m = SIGN.exec(text);
  if (m && failure === null) failure = `${m[0]}${m[2] === '6' ? ' (XNNPACK ran out of memory)' : ''}`;
}

/** The XNNPACK failure noted since the last call, as an Error, or null; clears it. */
export function takeXnnFailure(): Error | null {
  const f = failure;
  failure = null;
  return f === null ? null : new Error(`a matrix product failed inside XNNPACK, so its result is garbage: ${f}`);
}

let watching = false;

/** Routes console.warn (the browser module's stderr) through noteModuleOutput, once; it still prints. */
export function watchConsole(): void {
  if (watching) return;
  watching = true;
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    noteModuleOutput(args.map(String).join(' '));
    warn(...args);
  };
}
