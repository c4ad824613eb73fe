/**
 * Stop info for a failure, as Python records it: `etype` (the class name) and `message`.
 * Never throws, whatever was thrown.
 */
export function errorInfo(err: unknown): { etype: string; message: string } {
  try {
    if (err instanceof Error) {
      const ctor = (err as { constructor?: { name?: unknown } }).constructor;
      const etype = typeof ctor?.name === 'string' && ctor.name ? ctor.name : err.name || 'Error';
      return { etype, message: String(err.message) };
    }
    if (err !== null && typeof err === 'object') {
      const ctor = (err as { constructor?: { name?: unknown } }).constructor;
      return { etype: typeof ctor?.name === 'string' ? ctor.name : 'Object', message: String(err) };
    }
    return { etype: typeof err, message: String(err) };
  } catch {
    return { etype: 'Unknown', message: '' };
  }
}
