import { Validations } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  type IVpc,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface NetworkProps {
  /**
   * Use this existing VPC instead of creating one. Looked up at synth time, so the
   * stack needs an explicit account and region, and synth needs credentials.
   * @default a new VPC
   */
  readonly existingVpcId?: string;
  /** NAT gateways of a new VPC. 0 makes the private subnets isolated and adds ECR and Logs endpoints. @default 1 */
  readonly natGateways?: number;
  /** Availability zones of a new VPC. @default 2 */
  readonly maxAzs?: number;
  /** Create the S3, DynamoDB and SQS endpoints. @default true */
  readonly endpoints?: boolean;
  /** Bucket for the flow logs of a new VPC. @default flow logs go to CloudWatch Logs */
  readonly flowLogsBucket?: IBucket;
}

/**
 * The network the workers run in: private subnets, with gateway endpoints for S3 and
 * DynamoDB and an interface endpoint for SQS so task data never pays NAT processing
 * charges. Without NAT, the ECR and CloudWatch Logs endpoints that Fargate needs to
 * pull the image and ship logs are added too.
 */
export class Network extends Construct {
  public readonly vpc: IVpc;
  /** The subnets workers (and interface endpoints) use. */
  public readonly workerSubnetType: SubnetType;

  constructor(scope: Construct, id: string, props: NetworkProps = {}) {
    super(scope, id);
    const nat = props.natGateways ?? 1;
    if (props.existingVpcId) {
      this.vpc = Vpc.fromLookup(this, 'Vpc', { vpcId: props.existingVpcId });
      this.workerSubnetType =
        this.vpc.privateSubnets.length > 0 ? SubnetType.PRIVATE_WITH_EGRESS : SubnetType.PRIVATE_ISOLATED;
    } else {
      this.workerSubnetType = nat > 0 ? SubnetType.PRIVATE_WITH_EGRESS : SubnetType.PRIVATE_ISOLATED;
      this.vpc = new Vpc(this, 'Vpc', {
        maxAzs: props.maxAzs ?? 2,
        natGateways: nat,
        subnetConfiguration: [
          ...(nat > 0 ? [{ name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 }] : []),
          { name: 'workers', subnetType: this.workerSubnetType, cidrMask: 20 },
        ],
        flowLogs: {
          all: {
            destination: props.flowLogsBucket
              ? FlowLogDestination.toS3(props.flowLogsBucket, 'vpc-flow-logs/')
              : FlowLogDestination.toCloudWatchLogs(),
            trafficType: FlowLogTrafficType.ALL,
          },
        },
      });
    }
    if (props.endpoints ?? true) {
      const subnets = [{ subnetType: this.workerSubnetType }];
      this.vpc.addGatewayEndpoint('S3', { service: GatewayVpcEndpointAwsService.S3, subnets });
      this.vpc.addGatewayEndpoint('DynamoDb', { service: GatewayVpcEndpointAwsService.DYNAMODB, subnets });
      const services: Record<string, InterfaceVpcEndpointAwsService> = { Sqs: InterfaceVpcEndpointAwsService.SQS };
      if (this.workerSubnetType === SubnetType.PRIVATE_ISOLATED) {
        services.EcrApi = InterfaceVpcEndpointAwsService.ECR;
        services.EcrDocker = InterfaceVpcEndpointAwsService.ECR_DOCKER;
        services.Logs = InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS;
      }
      for (const [name, service] of Object.entries(services)) {
        const endpoint = this.vpc.addInterfaceEndpoint(name, { service, subnets: { subnetType: this.workerSubnetType } });
        Validations.of(endpoint).acknowledge({
          id: 'AwsSolutions-EC23',
          reason:
            'The endpoint security group CDK creates admits HTTPS only from the VPC CIDR (a token cdk-nag cannot ' +
            'read), never from 0.0.0.0/0.',
        });
      }
    }
  }
}
