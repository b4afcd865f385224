import type Router from '@koa/router';
import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Context } from 'koa';
import type { z } from 'zod';
import { validationFailed } from '../errors.js';
import { Problem } from './schemas.js';
import type { AppState } from './state.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface RouteSpec<P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends z.ZodType | undefined> {
  method: Method;
  /** Koa path, e.g. `/api/v1/patients/:id`. */
  path: string;
  summary: string;
  tags: string[];
  /** Who may call it: a practitioner session, the tenant's API key, or anyone. */
  auth: 'session' | 'apiKey' | 'none';
  params?: P;
  query?: Q;
  body?: B;
  responses: RouteConfig['responses'];
  /** Problem codes the route may answer with, by status (documentation). */
  errors?: number[];
}

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

export interface Input<P, Q, B> {
  params: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
}

export type AppContext = Context & { state: AppState };

/** Maps zod issues to the problem+json `errors` list. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, prefix: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationFailed(
    result.error.issues.map((issue) => ({
      path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
      message: issue.message,
    })),
  );
}

/**
 * Declares a route once: the same zod schemas validate the request and
 * describe it in the OpenAPI document (so the two cannot drift apart).
 */
export function defineRoute<P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends z.ZodType | undefined>(
  router: Router<AppState>,
  registry: OpenAPIRegistry,
  spec: RouteSpec<P, Q, B>,
  authenticate: (ctx: AppContext, kind: 'session' | 'apiKey') => Promise<void>,
  handler: (ctx: AppContext, input: Input<P, Q, B>) => Promise<void>,
): void {
  const errorResponses: RouteConfig['responses'] = {};
  for (const status of spec.errors ?? []) {
    errorResponses[status] = { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } };
  }
  registry.registerPath({
    method: spec.method,
    path: spec.path.replace(/:(\w+)/g, '{$1}'),
    summary: spec.summary,
    tags: spec.tags,
    security: spec.auth === 'none' ? [] : [{ [spec.auth]: [] }],
    request: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.body ? { body: { content: { 'application/json': { schema: spec.body } } } } : {}),
    },
    responses: { ...spec.responses, ...errorResponses },
  });

  router[spec.method](spec.path, async (ctx) => {
    const appCtx = ctx as unknown as AppContext;
    if (spec.auth !== 'none') await authenticate(appCtx, spec.auth);
    const input = {
      params: spec.params ? parseOrThrow(spec.params, ctx.params, 'params') : undefined,
      query: spec.query ? parseOrThrow(spec.query, ctx.query, 'query') : undefined,
      body: spec.body ? parseOrThrow(spec.body, (ctx.request as { body?: unknown }).body ?? {}, 'body') : undefined,
    } as Input<P, Q, B>;
    await handler(appCtx, input);
  });
}
