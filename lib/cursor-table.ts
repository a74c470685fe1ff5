import { AttributeType, BillingMode, Table, TableEncryption, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { CURSOR_TABLE_KEY } from '../lambdas/contracts/cursor-item';

/** One item per source (`lambdas/contracts/cursor-item.ts`): Okta's next link, the newest event, the lease. */
export class CursorTable extends Construct {
  readonly table: ITable;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: CURSOR_TABLE_KEY, type: AttributeType.STRING },
      // A few writes per source per minute: on-demand costs cents and never throttles a backfill.
      billingMode: BillingMode.PAY_PER_REQUEST,
      // Losing the cursors would re-pull up to backfillHours of every org, duplicating events.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The items hold Okta next links (org URL and query), not credentials: the AWS-managed
      // key is encryption at rest without a key to administer.
      encryption: TableEncryption.AWS_MANAGED,
    });
  }
}
