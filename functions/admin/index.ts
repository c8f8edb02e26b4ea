import { readConfig } from '../lib/config';
import { createRuntime } from '../lib/runtime';
import { createAdminHandler } from './handler';

export const handler = createAdminHandler(createRuntime(readConfig()));
