/** awsNode is a node in AWS as the sidecar helpers describe it: an EC2 instance polling a function URL, signed. */
export const awsNode = {
  service: 'orders',
  nodeId: 'i-0123456789abcdef0',
  zone: 'eu-west-1b',
  controlPlaneUrl: 'https://abcdefghijklmnop.lambda-url.eu-west-1.on.aws',
  signing: { region: 'eu-west-1', serviceName: 'lambda' as const },
};
