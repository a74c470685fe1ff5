/** One part of `npm run bench`: prints its table through `print` and returns its JSON figures. */
export interface BenchSection {
  /** The key of the section in the final JSON line, e.g. `validate`. */
  readonly name: string;
  run(print: (line: string) => void): Promise<Record<string, number>>;
}
