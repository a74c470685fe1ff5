import { Key } from 'aws-cdk-lib/aws-kms';
import { ServicePrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, UrlSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { SubscriptionProtocol } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface OnCallTopicProps {
  /**
   * E-mail address that receives every alarm (the recipient must confirm the subscription).
   * @default - no e-mail subscription
   */
  readonly email?: string;
  /**
   * HTTPS endpoint that receives every alarm, e.g. a PagerDuty or Opsgenie CloudWatch integration URL.
   * @default - no HTTPS subscription
   */
  readonly httpsEndpoint?: string;
}

/** The SNS topic every alarm of the pipeline notifies; on-call subscribes to it. */
export class OnCallTopic extends Construct {
  readonly topic: ITopic;

  constructor(scope: Construct, id: string, props: OnCallTopicProps = {}) {
    super(scope, id);
    const key = new Key(this, 'Key', {
      description: 'Encrypts the okta-log-pipeline on-call topic',
      enableKeyRotation: true,
    });
    // CloudWatch alarms cannot publish to a topic under the AWS-managed aws/sns key; with a
    // customer key they can, once the key lets the CloudWatch service use it.
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    const topic = new Topic(this, 'Topic', {
      displayName: 'okta-log-pipeline on-call',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.email !== undefined) {
      topic.addSubscription(new EmailSubscription(props.email));
    }
    if (props.httpsEndpoint !== undefined) {
      topic.addSubscription(new UrlSubscription(props.httpsEndpoint, { protocol: SubscriptionProtocol.HTTPS }));
    }
    this.topic = topic;
  }
}
