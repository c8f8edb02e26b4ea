import { readConfig } from '../lib/config';
import { createRuntime } from '../lib/runtime';
import { createXdsHandler } from './handler';

export const handler = createXdsHandler(createRuntime(readConfig()));
