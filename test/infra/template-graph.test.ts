import { findCycle } from './support/template-graph';

describe('findCycle', () => {
  it.each([
    ['a chain has none', { A: { Properties: { x: { Ref: 'B' } } }, B: {} }, undefined],
    ['DependsOn and Ref close a loop', { A: { DependsOn: ['B'] }, B: { Properties: { x: { Ref: 'A' } } } }, ['A', 'B', 'A']],
    [
      'GetAtt deep inside Fn::Join counts',
      { A: { Properties: { env: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['B', 'Arn'] }]] } } }, B: { DependsOn: 'A' } },
      ['A', 'B', 'A'],
    ],
    ['a Sub reference counts', { A: { Properties: { s: { 'Fn::Sub': 'x-${B.Arn}' } } }, B: { DependsOn: ['A'] } }, ['A', 'B', 'A']],
    ['references to parameters or pseudo-parameters are not resources', { A: { Properties: { x: { Ref: 'AWS::Region' } } } }, undefined],
  ])('%s', (_name, resources, expected) => {
    expect(findCycle(resources as never)).toEqual(expected);
  });
});
