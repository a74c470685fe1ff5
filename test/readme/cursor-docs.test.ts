/**
 * The docs quote the cursor store's DynamoDB expressions (lambdas/contracts/cursor-item.ts) as the
 * requests carry them: every inline code span of README.md and docs/*.md that reads like a
 * condition on an attribute of the cursor item (`attribute = :placeholder`) is part of a condition
 * the store sends, placeholder names included.
 */
import {
  acquireLeaseUpdate,
  CURSOR_ITEM_ATTRIBUTES,
  LEASE_HELD_BY_OWNER,
  releaseLeaseUpdate,
  saveCursorUpdate,
} from '../../lambdas/contracts/cursor-item';
import { inlineCode, userDocs } from './markdown';

const CONDITIONS = [
  acquireLeaseUpdate('acme', 'run-1', 1, 2),
  saveCursorUpdate('acme', 'run-1', { nextUrl: 'https://acme.okta.com/x' }, 3),
  releaseLeaseUpdate('acme', 'run-1'),
].map((update) => update.ConditionExpression);

const ATTRIBUTE_CONDITION = new RegExp(`^(${Object.keys(CURSOR_ITEM_ATTRIBUTES).join('|')}) (=|<|>|<=|>=|<>) \\S+$`);

describe('the cursor store expressions quoted in the docs', () => {
  const quoted = userDocs().flatMap((doc) =>
    inlineCode(doc)
      .filter((span) => ATTRIBUTE_CONDITION.test(span))
      .map((span) => ({ doc: doc.path, span })),
  );

  it('include the fencing condition, as the code writes it', () => {
    expect(quoted.map(({ span }) => span)).toContain(LEASE_HELD_BY_OWNER);
  });

  it('are each part of a condition the store sends', () => {
    expect(quoted.filter(({ span }) => !CONDITIONS.some((condition) => condition.includes(span)))).toEqual([]);
  });
});
