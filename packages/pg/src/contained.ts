/** Failures of this adapter are counted by core under `pg.<place>` and never reach the app. */
import { contained as containedFor } from '@osprofiler/core/instrument';

export const contained = containedFor('pg');
