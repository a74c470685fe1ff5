import { Match } from 'aws-cdk-lib/assertions';
import { synthPipeline } from './synth-pipeline';

describe('the logLevel context key', () => {
  it.each([
    [{}, 'INFO'],
    [{ logLevel: 'WARN' }, 'WARN'],
    [{ logLevel: 'DEBUG' }, 'DEBUG'],
  ])('with %j sets POWERTOOLS_LOG_LEVEL=%s on both Lambdas', (context, level) => {
    const { template } = synthPipeline(context);
    for (const key of ['SOURCE_SECRET_PREFIX', 'STATE_TABLE_NAME']) {
      const found = template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: Match.objectLike({ [key]: Match.anyValue(), POWERTOOLS_LOG_LEVEL: level }) } },
      });
      expect(Object.keys(found)).toHaveLength(1);
    }
  });
});
