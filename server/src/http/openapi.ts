import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

export { z };

/** Creates the registry every route adds itself to; the document is generated from it. */
export function createRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'session', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A practitioner session token minted by POST /api/v1/sessions.',
  });
  registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: "The tenant's host-backend API key.",
  });
  return registry;
}

export function generateDocument(registry: OpenAPIRegistry, baseUrl: string) {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'CareComms API',
      version: '1.0.0',
      description: 'Send SMS, place calls and run video visits with patients from inside an EHR, with every exchange logged.',
    },
    servers: [{ url: baseUrl }],
  });
}
