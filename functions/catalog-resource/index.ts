import { readConfig } from '../lib/config';
import { createRuntime } from '../lib/runtime';
import { createCatalogResourceHandler } from './handler';

const runtime = createRuntime(readConfig());
export const handler = createCatalogResourceHandler({ store: runtime.store, settings: runtime.config.render });
