import { ValidationError } from '../../../shared/errors';
import { parseMeshName, spiffeId } from '../../../shared/pki/identity';

describe('parseMeshName', () => {
  test.each([['mesh.local'], ['prod-eu_1.example.com'], ['a'], ['x'.repeat(64)]])('accepts the trust domain %s', (name) => {
    expect(parseMeshName(name)).toBe(name);
  });

  test.each([[''], ['Mesh.local'], ['mesh/local'], ['.mesh'], ['mesh.'], ['x'.repeat(65)], ['spiffe://mesh']])(
    'rejects %j with the variable to fix',
    (name) => {
      const error = (() => {
        try {
          parseMeshName(name);
        } catch (err) {
          return err;
        }
      })();
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems).toEqual([
        { path: 'MESH_NAME', message: expect.stringContaining('must be a SPIFFE trust domain') },
      ]);
    },
  );
});

describe('spiffeId', () => {
  test('names a service within its mesh', () => {
    expect(spiffeId('mesh.local', 'payments')).toBe('spiffe://mesh.local/service/payments');
  });
});
