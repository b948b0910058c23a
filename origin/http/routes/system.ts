import { Hono } from 'hono';
import { LcmError } from '../../../core/index.ts';
import type { AppEnv, OriginServices } from '../app-env.ts';
import { openApiDocument } from '../openapi.ts';

/** Health, readiness, metrics and the API description, outside `/v1` and without a token. */
export function systemRoutes(services: OriginServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const document = JSON.stringify(openApiDocument());

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    if (!services.ready()) throw new LcmError('unavailable', 'the origin is starting or stopping');
    await services.store.ping();
    return c.json({ status: 'ready', epoch: services.store.epoch });
  });

  app.get('/metrics', async (c) => {
    const registry = services.metrics.registry;
    return c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType });
  });

  app.get('/openapi.json', (c) => c.body(document, 200, { 'Content-Type': 'application/json' }));

  return app;
}
