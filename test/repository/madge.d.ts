/** The part of madge 8's API (https://github.com/pahen/madge#api) the import-circle test uses; madge ships no types. */
declare module 'madge' {
  interface MadgeConfig {
    readonly baseDir?: string;
    readonly fileExtensions?: readonly string[];
    /** A path to a tsconfig.json, or its parsed contents. */
    readonly tsConfig?: string | object;
  }
  interface MadgeResult {
    /** Every file reached, with the files it imports (paths relative to the base directory). */
    obj(): Record<string, string[]>;
    /** Each circle as the list of files on it. */
    circular(): string[][];
    /** Files madge could not resolve or parse. */
    warnings(): { skipped: string[] };
  }
  function madge(path: string | readonly string[], config?: MadgeConfig): Promise<MadgeResult>;
  export = madge;
}
