/** @osprofiler/viewer, loaded only by the commands that need it (an optional peer: the CLI stays lean). */
import { CliError } from '../io';

type Viewer = typeof import('@osprofiler/viewer');

export function loadViewer(): Viewer {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@osprofiler/viewer') as Viewer;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes('@osprofiler/viewer')) {
      throw new CliError('the web viewer is a separate package: npm install @osprofiler/viewer', 1);
    }
    throw err;
  }
}
