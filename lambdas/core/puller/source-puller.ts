import { createOktaClient, OktaConfigError, type OktaClient, type OktaClientOptions } from '../okta';
import { failedPullSummary, pullSource, type PullDependencies, type PullOptions, type PullSummary } from '../pull/pull-source';
import type { SourceConfig } from '../ports';

/**
 * `PullerDependencies.pull` over the real pull core: one Okta client per source configuration,
 * kept as long as that configuration is (the registry hands out the same object until the secret
 * changes), so an OAuth access token is reused across runs instead of minted every minute.
 */
export function sourcePuller(
  deps: Omit<PullDependencies, 'okta'>,
  oktaOptions: OktaClientOptions,
): (source: SourceConfig, options: PullOptions) => Promise<PullSummary> {
  const clients = new WeakMap<SourceConfig, OktaClient>();
  return async (source, options) => {
    let okta = clients.get(source);
    if (okta === undefined) {
      try {
        okta = createOktaClient(source, oktaOptions);
      } catch (error) {
        if (!(error instanceof OktaConfigError)) throw error;
        return failedPullSummary(source.id, { kind: 'config', message: error.message });
      }
      clients.set(source, okta);
    }
    return pullSource({ ...deps, okta }, source, options);
  };
}
