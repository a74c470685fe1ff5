/**
 * Which AWS SDK commands each Lambda's code can send, read from the code itself: the files its
 * handler reaches through relative imports (what esbuild bundles), and the `*Command` classes they
 * import from `@aws-sdk/client-*`. Also records, in the adapter tests, the commands the adapters
 * really send. Both are compared with API_CALLS.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { API_CALLS, LAMBDAS, type LambdaName } from './api-calls';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * The SDK clients the Lambdas may use, with their IAM service prefix. A command's IAM action is
 * `<prefix>:<command name without "Command">`, which holds for every command the Lambdas send; a
 * client missing here fails the test that meets it, so adding a client starts here.
 */
export const SDK_CLIENTS: Readonly<Record<string, { readonly client: string; readonly iamPrefix: string }>> = {
  '@aws-sdk/client-dynamodb': { client: 'DynamoDBClient', iamPrefix: 'dynamodb' },
  '@aws-sdk/client-kinesis': { client: 'KinesisClient', iamPrefix: 'kinesis' },
  '@aws-sdk/client-s3': { client: 'S3Client', iamPrefix: 's3' },
  '@aws-sdk/client-secrets-manager': { client: 'SecretsManagerClient', iamPrefix: 'secretsmanager' },
  '@aws-sdk/client-sns': { client: 'SNSClient', iamPrefix: 'sns' },
};

function resolveRelative(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.js`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`lambda-sdk-calls: cannot resolve ${specifier} from ${from}`);
}

/** Every repository file a Lambda's handler reaches through value (not type-only) relative imports. */
export function filesOf(lambda: LambdaName): Set<string> {
  const seen = new Set<string>();
  const pending = [path.join(REPO_ROOT, LAMBDAS[lambda].entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    // JSON (schemas) imports nothing.
    if (!/\.[jt]s$/.test(file)) continue;
    for (const { specifier } of importsOf(file)) {
      if (specifier.startsWith('.')) pending.push(resolveRelative(file, specifier));
    }
  }
  return seen;
}

/** The value imports of one file: module specifier and imported names (type-only imports left out). */
function importsOf(file: string): Array<{ specifier: string; names: string[] }> {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const found: Array<{ specifier: string; names: string[] }> = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const typeOnly = ts.isImportDeclaration(node) ? node.importClause?.phaseModifier === ts.SyntaxKind.TypeKeyword : node.isTypeOnly;
      if (!typeOnly) {
        const bindings = ts.isImportDeclaration(node) ? node.importClause?.namedBindings : node.exportClause;
        const names =
          bindings !== undefined && (ts.isNamedImports(bindings) || ts.isNamedExports(bindings))
            ? bindings.elements.filter((element) => !element.isTypeOnly).map((element) => (element.propertyName ?? element.name).text)
            : [];
        found.push({ specifier: node.moduleSpecifier.text, names });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The IAM action of an SDK command of `module`. */
export function iamActionOf(module: string, commandName: string): string {
  const client = SDK_CLIENTS[module];
  if (client === undefined) throw new Error(`lambda-sdk-calls: ${module} is not in SDK_CLIENTS; add it with its IAM prefix`);
  return `${client.iamPrefix}:${commandName.replace(/Command$/, '')}`;
}

/** The IAM actions of every SDK command a Lambda's code imports. */
export function sdkActionsOf(lambda: LambdaName): Set<string> {
  const actions = new Set<string>();
  for (const file of filesOf(lambda)) {
    for (const { specifier, names } of importsOf(file)) {
      if (!specifier.startsWith('@aws-sdk/client-')) continue;
      for (const name of names.filter((imported) => imported.endsWith('Command'))) actions.add(iamActionOf(specifier, name));
    }
  }
  return actions;
}

export interface SentCommand {
  /** The adapter file that called `send`. */
  readonly file: string;
  readonly action: string;
}

/**
 * Intercepts `send` of every client in SDK_CLIENTS and keeps the commands whose caller is an AWS
 * adapter (`lambdas/adapters/aws/`); commands a test sends itself (setup, assertions) are ignored.
 * The commands still go out unchanged.
 */
export class AdapterCommandRecorder {
  readonly sent: SentCommand[] = [];
  private readonly spies: jest.SpyInstance[] = [];

  /**
   * Intercepts the client classes of the module registry this is called in: call it again inside
   * `jest.isolateModules`, whose registry loads its own copy of the SDK.
   */
  attach(): void {
    const adapters = path.join(REPO_ROOT, 'lambdas', 'adapters', 'aws') + path.sep;
    for (const [module, { client }] of Object.entries(SDK_CLIENTS)) {
      // Each client package exports its client class under this name.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module name is data: the client packages of SDK_CLIENTS
      const clientClass = (require(module) as Record<string, { prototype: { send: (...args: unknown[]) => unknown } }>)[client]!;
      const original = clientClass.prototype.send;
      const sent = this.sent;
      this.spies.push(
        jest.spyOn(clientClass.prototype, 'send').mockImplementation(function (this: unknown, ...args: unknown[]) {
          const caller = new Error().stack?.split('\n').find((line) => line.includes(adapters));
          const file = caller === undefined ? undefined : /(\/[^():]+\.ts):\d+:\d+/.exec(caller)?.[1];
          if (file !== undefined) sent.push({ file, action: iamActionOf(module, (args[0] as object).constructor.name) });
          return original.apply(this, args);
        }),
      );
    }
  }

  restore(): void {
    for (const spy of this.spies.splice(0)) spy.mockRestore();
  }
}

/** Each sent command that no Lambda reaching its adapter lists in API_CALLS as an `sdk` call. */
export function unlistedCommands(sent: readonly SentCommand[]): string[] {
  const problems = new Set<string>();
  const lambdas = Object.keys(LAMBDAS) as LambdaName[];
  const files = new Map(lambdas.map((lambda) => [lambda, filesOf(lambda)] as const));
  for (const { file, action } of sent) {
    const users = lambdas.filter((lambda) => files.get(lambda)!.has(file));
    const relative = path.relative(REPO_ROOT, file);
    if (users.length === 0) problems.add(`${relative} sends ${action} but no Lambda imports it`);
    for (const lambda of users) {
      if (!API_CALLS[lambda].some((call) => call.caller === 'sdk' && call.action === action))
        problems.add(`${relative} sends ${action} for the ${lambda}, which API_CALLS does not list`);
    }
  }
  return [...problems].sort();
}

/** The `sdk` actions API_CALLS lists for a Lambda. */
export function listedSdkActions(lambda: LambdaName): Set<string> {
  return new Set(API_CALLS[lambda].filter((call) => call.caller === 'sdk').map((call) => call.action));
}
