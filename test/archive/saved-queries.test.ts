/**
 * The saved queries' files: each says what it is and when to use it, declares every parameter it
 * uses, and names each `?` placeholder, so that Athena's positional values and `--param name=`
 * bind the same SQL.
 */
import { bindSavedQuery, loadSavedQueries, parseSavedQuery, SavedQueryError } from '../../schemas/queries/saved-queries';

const saved = loadSavedQueries();

describe('the saved queries', () => {
  it('are the five investigations', () => {
    expect(saved.map((query) => query.name)).toEqual([
      'admin-and-token-changes',
      'alert-context',
      'failed-logins-by-ip',
      'multi-country-sessions',
      'user-activity',
    ]);
  });

  it.each(saved.map((query) => [query.name, query] as const))(
    '%s has a title, when to use it, and every parameter declared and used',
    (_name, query) => {
      expect(query.title.length).toBeGreaterThan(10);
      expect(query.whenToUse.length).toBeGreaterThan(20);
      expect([...new Set(query.parameterOrder)].sort()).toEqual(query.parameters.map((parameter) => parameter.name).sort());
      // A time-bounded query also bounds dt, or Athena would list every day of the archive.
      if (query.parameterOrder.includes('from'))
        expect(query.sql).toMatch(/dt BETWEEN substr\(\? \/\* from \*\/, 1, 10\) AND substr\(\? \/\* to \*\/, 1, 10\)/);
    },
  );

  it('binds --param values to every placeholder of their name, in placeholder order', () => {
    const query = parseSavedQuery(
      'q.sql',
      '-- T.\n-- When to use: always.\n-- Parameters:\n--   a: first\n--   b: second\nSELECT ? /* b */, ? /* a */, ? /* b */\n',
    );
    expect(
      bindSavedQuery(
        query,
        new Map([
          ['a', '1'],
          ['b', '2'],
        ]),
      ),
    ).toEqual(['2', '1', '2']);
  });

  it.each([
    ['SELECT ?\n', 'every ? placeholder must be followed by a comment naming its parameter'],
    ['SELECT ? /* c */\n', 'placeholder c is not declared'],
    ['SELECT 1\n', 'parameter a is declared but never used'],
  ])('refuses %j', (body, message) => {
    expect(() => parseSavedQuery('q.sql', `-- T.\n-- When to use: always.\n-- Parameters:\n--   a: first\n${body}`)).toThrow(
      SavedQueryError,
    );
    expect(() => parseSavedQuery('q.sql', `-- T.\n-- When to use: always.\n-- Parameters:\n--   a: first\n${body}`)).toThrow(message);
  });

  it('refuses a file without a "When to use" line', () => {
    expect(() => parseSavedQuery('q.sql', '-- T.\nSELECT 1\n')).toThrow('q.sql: the header needs a "-- When to use: ..." line');
  });
});
