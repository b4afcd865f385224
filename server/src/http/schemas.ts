import { CHANNELS, DIRECTIONS, STATUSES } from '@carecomms/core';
import { z } from './openapi.js';

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    code: z.string().openapi({ example: 'validation_failed' }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

export const Patient = z
  .object({
    id: z.uuid(),
    externalId: z.string(),
    name: z.string(),
    phone: z.string().nullable().openapi({ example: '+61491570006' }),
    phoneDisplay: z.string().nullable().openapi({ example: '+61 491 570 006' }),
    email: z.string().nullable(),
    optedOut: z.boolean(),
  })
  .openapi('Patient');

export const Correspondence = z
  .object({
    id: z.uuid(),
    patientId: z.uuid(),
    patientName: z.string(),
    practitionerId: z.uuid().nullable(),
    channel: z.enum(CHANNELS),
    direction: z.enum(DIRECTIONS),
    status: z.enum(STATUSES),
    body: z.string().nullable(),
    contact: z.string().nullable(),
    durationSeconds: z.number().int().nullable(),
    hasRecording: z.boolean(),
    notes: z.string().nullable(),
    session: z.record(z.string(), z.unknown()).nullable(),
    providerSid: z.string().nullable(),
    errorCode: z.string().nullable(),
    errorReason: z.string().nullable().openapi({ description: 'errorCode in plain words, for the practitioner' }),
    segments: z.number().int().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Correspondence');

export const page = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

export const Session = z
  .object({
    practitioner: z.object({ id: z.uuid(), externalId: z.string(), name: z.string() }),
    tenant: z.object({ id: z.uuid(), name: z.string() }),
    provider: z.enum(['twilio', 'sandbox']),
    features: z.array(z.enum(['sms', 'voice', 'video'])),
    expiresAt: z.string(),
  })
  .openapi('Session');

export const uuidParam = z.uuid({ error: 'must be a UUID' });
export const externalId = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'may contain letters, digits and . _ : @ - only');
