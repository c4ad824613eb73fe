/**
 * Where the default `file://` store lives: one fixed directory per user, so every process
 * of that user (apps, agent, CLI) finds the same traces wherever it was started from.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * `$OSPROFILER_STATE_DIR`, else `$XDG_STATE_HOME/osprofiler`, else
 * `~/.local/state/osprofiler`. Relative values are ignored (the XDG spec says so, and a
 * store that moves with the working directory would split traces between places).
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const own = env.OSPROFILER_STATE_DIR;
  if (own !== undefined && own !== '' && isAbsolute(own)) return own;
  const xdg = env.XDG_STATE_HOME;
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return join(xdg, 'osprofiler');
  return join(home, '.local', 'state', 'osprofiler');
}
