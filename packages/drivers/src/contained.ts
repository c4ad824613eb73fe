/** Failures the drivers contain (not the caller's to handle) are counted by core under `drivers.<place>`. */
import { contained as containedFor } from '@osprofiler/core/instrument';

export const contained = containedFor('drivers');
