import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { SandboxRepository } from '../repositories/sandbox.js';
import { SandboxProvider, type SandboxSinks } from './sandbox.js';
import { TwilioProvider } from './twilio.js';
import type { MessagingProvider } from './types.js';

export type { MessagingProvider } from './types.js';

/** Twilio when its credentials are configured, otherwise the sandbox (DESIGN "Providers"). */
export function createProvider(
  config: Config,
  deps: { sandboxRepo: SandboxRepository; sinks: SandboxSinks; logger: Logger },
): MessagingProvider {
  if (config.twilio) return new TwilioProvider(config.twilio, config.twilioApiUrl);
  return new SandboxProvider(deps.sandboxRepo, config.sandbox, deps.sinks, deps.logger);
}

/** The From number tenants without their own use in the sandbox: Twilio's magic "valid sender". */
export const SANDBOX_DEFAULT_NUMBER = '+15005550006';
