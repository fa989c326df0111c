import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FargateWebServiceWithDatabaseProps, ServiceImage } from '../src';

/** A minimal app directory with a Dockerfile: synthesis only copies it, no Docker engine is needed. */
export const FIXTURE_APP = path.join(__dirname, 'fixtures', 'app');

/** Props without the image, which every caller gives the same way unless it says otherwise. */
export type PropsWithoutImage = Omit<FargateWebServiceWithDatabaseProps, 'image'> & { image?: ServiceImage };

/** A stack in a concrete environment, so AZ lookups resolve to real names and access logs can be on. */
export function newStack(id = 'Test'): Stack {
  const app = new App();
  return new Stack(app, id, { env: { account: '123456789012', region: 'us-east-1' } });
}

/** Resource count by type. */
export function resourceCounts(template: Template): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const resource of Object.values<{ Type: string }>(template.toJSON().Resources)) {
    counts[resource.Type] = (counts[resource.Type] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
