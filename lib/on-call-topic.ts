import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, UrlSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { SubscriptionProtocol } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface OnCallTopicProps {
  /**
   * Only CloudWatch alarms of this account whose names start with this prefix may publish to the
   * topic (and use its key): the stack's own alarms.
   */
  readonly alarmNamePrefix: string;
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

  constructor(scope: Construct, id: string, props: OnCallTopicProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    // The service acts for any account's alarms: these conditions keep it to this stack's alarms
    // (the confused-deputy guard of https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
    const onlyThisStacksAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${props.alarmNamePrefix}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
    const key = new Key(this, 'Key', {
      description: 'Encrypts the okta-log-pipeline on-call topic',
      enableKeyRotation: true,
    });
    const topic = new Topic(this, 'Topic', {
      displayName: 'okta-log-pipeline on-call',
      masterKey: key,
      enforceSSL: true,
    });
    // CloudWatch alarms cannot publish to a topic under the AWS-managed aws/sns key; with a
    // customer key they can, once the key lets the CloudWatch service use it ("Enable
    // compatibility between event sources from AWS services and encrypted topics",
    // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
    // The topic's publish grant does both, for a service principal in the resource policies:
    // sns:Publish in the topic policy and kms:Decrypt, kms:GenerateDataKey* in its key's policy.
    // enforceSSL creates a topic policy, and a topic policy replaces SNS's default one: without
    // this Allow no alarm could publish ("... is not authorized to perform: SNS:Publish ...
    // because no resource-based policy allows the SNS:Publish action", the failure of
    // aws-solutions/automated-security-response-on-aws issue 43). The TLS-only Deny still applies.
    topic.grants.publish(cloudWatch.withConditions(onlyThisStacksAlarms));
    if (props.email !== undefined) {
      topic.addSubscription(new EmailSubscription(props.email));
    }
    if (props.httpsEndpoint !== undefined) {
      topic.addSubscription(new UrlSubscription(props.httpsEndpoint, { protocol: SubscriptionProtocol.HTTPS }));
    }
    this.topic = topic;
  }
}
