import { Annotations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The Envoy image the sidecar helpers run by default: Envoy's official image as published on
 * Amazon ECR Public (`public.ecr.aws/envoyproxy/envoy`), not Docker Hub, whose anonymous pulls
 * are rate-limited per source IP (a fleet behind one NAT gateway shares one). Pinned by tag
 * only: this repository cannot verify a digest offline, so it does not ship one. Pin yours by
 * digest (`image` prop: `public.ecr.aws/envoyproxy/envoy:v1.36.2@sha256:<digest>`, the digest
 * from `docker buildx imagetools inspect` or `crane digest`); synth warns until you do.
 */
export const defaultEnvoyImage = 'public.ecr.aws/envoyproxy/envoy:v1.36.2';

/** A reference pinned by digest: `name[:tag]@sha256:<64 hex digits>`. */
const digestPinned = /^[a-z0-9][a-z0-9._/:-]*(?::[\w][\w.-]{0,127})?@sha256:[a-f0-9]{64}$/;

/**
 * checkEnvoyImage validates the image a helper will run: a reference that names a digest must
 * name a well-formed one (synth fails otherwise: a typo would only show as a failed pull on
 * deploy); a reference without a digest gets a synth warning, since a tag can be moved.
 */
export function checkEnvoyImage(scope: IConstruct, image: string): string {
  if (image.includes('@')) {
    if (!digestPinned.test(image)) {
      throw new Error(`Envoy image "${image}": a digest must be "@sha256:" followed by 64 lowercase hex digits`);
    }
    return image;
  }
  Annotations.of(scope).addWarningV2(
    'mesh:envoy-image-not-pinned',
    `Envoy image "${image}" is not pinned by digest (a tag can be moved): pass image: "${image}@sha256:<digest>", ` +
      `the digest from \`docker buildx imagetools inspect ${image}\``,
  );
  return image;
}
