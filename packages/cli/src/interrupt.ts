/** An AbortSignal that Ctrl-C (SIGINT) aborts, with an AbortError, until dispose() is called. */
export function abortOnInterrupt(): { readonly signal: AbortSignal; dispose(): void } {
  const abort = new AbortController();
  const onInterrupt = () => abort.abort(Object.assign(new Error('interrupted'), { name: 'AbortError' }));
  process.once('SIGINT', onInterrupt);
  return { signal: abort.signal, dispose: () => process.off('SIGINT', onInterrupt) };
}
