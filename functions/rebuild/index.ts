import { readRenderConfig } from '../lib/render-config';
import { createRuntime } from '../lib/runtime';
import { createRebuildHandler } from './handler';

const runtime = createRuntime(readRenderConfig());
export const handler = createRebuildHandler({ store: runtime.store, settings: runtime.config.render });
