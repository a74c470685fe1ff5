/**
 * The detections that run on the stream. Adding one: a module next to this file, one line here
 * (test/detections/rules-registry.test.ts fails until it is), and its test cases
 * (docs/ARCHITECTURE.md, "Adding a detection"). Static imports, so that esbuild bundles every rule.
 */
import type { Rule } from '../rule';
import { adminRoleAssigned } from './admin-role-assigned';
import { apiKeyCreated } from './api-key-created';
import { apiKeyRevoked } from './api-key-revoked';
import { bruteForceLogins } from './brute-force-logins';
import { geographicallyImprobableAccess } from './geographically-improbable-access';

export const DEFAULT_RULES: readonly Rule[] = [
  adminRoleAssigned,
  apiKeyCreated,
  apiKeyRevoked,
  bruteForceLogins,
  geographicallyImprobableAccess,
];
