import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';

let first: OriginProcess;
let second: OriginProcess;

beforeAll(async () => {
  first = await startOriginProcess();
  second = await startOriginProcess({ dataDir: first.dataDir });
});
afterAll(async () => {
  await second?.dispose();
  await first?.dispose();
});

describe('two origin processes on one database file', () => {
  it('serialize their writes through the database lock: every write lands, revisions stay gap-free', async () => {
    const apis = [originApi(first), originApi(second)];
    expect(second.adminToken).toBe(first.adminToken);
    await apis[0]!('PUT', '/v1/tenants/shared');

    const writes = Array.from({ length: 60 }, (_, n) =>
      apis[n % 2]!('PUT', `/v1/tenants/shared/entries/k/${n}`, { body: { n } }),
    );
    const responses = await Promise.all(writes);
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));

    const revisions = responses
      .map((response) => (response.body as { revision: number }).revision)
      .sort((a, b) => a - b);
    expect(revisions).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));

    const listed = await apis[1]!('GET', '/v1/tenants/shared/entries?limit=1000');
    expect((listed.body as { items: unknown[] }).items).toHaveLength(60);
  });
});
