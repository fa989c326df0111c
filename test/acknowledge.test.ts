import { CfnResource, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { newStack } from './helpers';
import { Acknowledgements, providerFunctionOf } from '../src/internal/acknowledge';

describe('acknowledgements helper', () => {
  test('attaches cdk-nag rules and guard rules as metadata to the resource and records each rule', () => {
    const stack = newStack();
    const owner = new Construct(stack, 'Owner');
    const resource = new CfnResource(owner, 'Thing', { type: 'AWS::S3::Bucket' });
    const acks = new Acknowledgements(owner);
    acks.acknowledge(resource, {
      rules: ['AwsSolutions-S1', 's3_bucket_logging_enabled_check'],
      reason: 'A reason long enough to be checked by a reviewer.',
      appliesTo: ['Resource::*', '/^Resource::arn:.*$/'],
    });
    expect(resource.getMetadata('cdk_nag')).toEqual({
      rules_to_suppress: [
        {
          id: 'AwsSolutions-S1',
          reason: 'A reason long enough to be checked by a reviewer.',
          applies_to: ['Resource::*', { regex: '/^Resource::arn:.*$/g' }],
        },
      ],
    });
    expect(resource.getMetadata('guard')).toEqual({ SuppressedRules: ['s3_bucket_logging_enabled_check'] });
    expect(acks.all.map((a) => [a.rule, a.resourcePath])).toEqual([
      ['AwsSolutions-S1', 'Test/Owner/Thing'],
      ['s3_bucket_logging_enabled_check', 'Test/Owner/Thing'],
    ]);
  });

  test('throws, naming the owner and the target, when the target holds no CloudFormation resource', () => {
    const stack = newStack();
    const owner = new Construct(stack, 'Owner');
    const empty = new Construct(owner, 'Renamed');
    expect(() => new Acknowledgements(owner).acknowledge(empty, { rules: ['AwsSolutions-S1'], reason: 'x' })).toThrow(
      'Test/Owner: no CloudFormation resource at Test/Owner/Renamed to acknowledge AwsSolutions-S1 on.',
    );
  });

  test('finds the function that serves a custom resource through its ServiceToken', () => {
    const stack = newStack();
    const fn = new CfnResource(stack, 'SingletonFunction', { type: 'AWS::Lambda::Function' });
    const custom = new CfnResource(stack, 'Custom', {
      type: 'Custom::Thing',
      properties: { ServiceToken: fn.getAtt('Arn') },
    });
    expect(providerFunctionOf(custom)).toBe(fn);
  });

  test('throws when no function serves the custom resource', () => {
    const stack = new Stack();
    const custom = new CfnResource(stack, 'Custom', { type: 'Custom::Thing', properties: { ServiceToken: 'arn:x' } });
    expect(() => providerFunctionOf(custom)).toThrow(
      'no provider function found for the custom resource at Default/Custom',
    );
  });
});
