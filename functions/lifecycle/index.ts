import { readConfig } from '../lib/config';
import { createRuntime } from '../lib/runtime';
import { createLifecycleHandler } from './handler';

const runtime = createRuntime(readConfig());
export const handler = createLifecycleHandler({ store: runtime.store });
