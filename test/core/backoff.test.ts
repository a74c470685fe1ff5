import { BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbCursorStore } from '../../lambdas/adapters/aws/dynamodb-cursor-store';
import { backoffDelayMs } from '../../lambdas/core/backoff';
import { VirtualClock } from '../support/virtual-clock';

/**
 * Full jitter as the AWS Architecture Blog's "Exponential Backoff And Jitter" defines it
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/):
 * sleep = random_between(0, min(cap, base * 2 ** attempt)).
 */
describe('backoffDelayMs', () => {
  const delays = { baseDelayMs: 500, maxDelayMs: 8_000 };

  it('draws each wait from 0 up to the doubling ceiling, capped', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((retry) => backoffDelayMs(delays, retry, () => 0.5))).toEqual([
      250, 500, 1_000, 2_000, 4_000, 4_000, 4_000,
    ]);
    expect([1, 2, 3].map((retry) => backoffDelayMs(delays, retry, () => 0))).toEqual([0, 0, 0]);
    expect([1, 2, 3, 5].map((retry) => backoffDelayMs(delays, retry, () => 0.999_999))).toEqual([499, 999, 1_999, 7_999]);
  });
});

describe('DynamoDbCursorStore.activity', () => {
  it('asks again for UnprocessedKeys after a full-jitter wait in clock time, at most five rounds', async () => {
    const clock = new VirtualClock();
    const asked: number[] = [];
    // DynamoDB answers throttling of BatchGetItem with UnprocessedKeys; this one never gets to them.
    const client = {
      send: async (command: BatchGetItemCommand) => {
        const keys = command.input.RequestItems?.cursors?.Keys ?? [];
        asked.push(keys.length);
        return { Responses: { cursors: [] }, UnprocessedKeys: { cursors: { Keys: keys } } };
      },
    } as unknown as DynamoDBClient;
    const store = new DynamoDbCursorStore({ client, tableName: 'cursors', clock, random: () => 0.5 });

    const activity = await store.activity(['acme', 'globex']);

    expect(activity.size).toBe(0);
    expect(asked).toEqual([2, 2, 2, 2, 2]);
    expect(clock.slept).toEqual([25, 50, 100, 200]);
  });
});
