import type { ServiceDefinition } from '@grpc/grpc-js';

/** whoService: `/test.Who/Who`, bytes in and out (see who-service.cjs). */
export declare const whoService: ServiceDefinition;
