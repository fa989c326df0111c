import { readFileSync } from 'node:fs';
import * as path from 'node:path';

// No Docker engine runs here, so the image's rules are pinned on the Dockerfile and the package manifest.
const root = path.join(__dirname, '..');
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(path.join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim());
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

describe('production image', () => {
  test('is multi-stage on a Node.js LTS slim image', () => {
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:(2[02468])-bookworm-slim/);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
  });

  test('carries production dependencies only: the embedded database is a development dependency', () => {
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(Object.keys(pkg.devDependencies)).toEqual(
      expect.arrayContaining(['@electric-sql/pglite', '@electric-sql/pglite-socket']),
    );
    expect(Object.keys(pkg.dependencies)).not.toContain('@electric-sql/pglite');
  });

  test('runs as a non-root user with NODE_ENV=production and TLS to the database against the RDS CA bundle', () => {
    expect(finalStage).toMatch(/^USER node$/m);
    expect(finalStage).toMatch(/NODE_ENV=production/);
    expect(finalStage).toMatch(/DB_SSL=require/);
    expect(finalStage).toMatch(/DB_CA_FILE=\/app\/certs\/rds-global-bundle\.pem:\/app\/certs\/amazon-root-ca-1\.pem/);
    // RDS Proxy's certificate chains to Amazon Root CA 1, not to the RDS bundle.
    expect(finalStage).toMatch(/AmazonRootCA1\.pem \/app\/certs\/amazon-root-ca-1\.pem/);
    expect(finalStage).toMatch(/global-bundle\.pem \/app\/certs\/rds-global-bundle\.pem/);
  });

  test('health check uses node, and the command is exec form so SIGTERM reaches node', () => {
    expect(finalStage).toMatch(/HEALTHCHECK[\s\S]*CMD \["node", "-e", "fetch\(/);
    expect(finalStage).not.toMatch(/curl|wget/);
    expect(finalStage).toMatch(/^CMD \["node", "dist\/index\.js"\]$/m);
  });

  test('.dockerignore admits only what the build needs (no node_modules, dist, tests, infra or local data)', () => {
    expect(dockerignore[dockerignore.indexOf('*')]).toBe('*');
    const admitted = dockerignore.filter((l) => l.startsWith('!'));
    expect(admitted.sort()).toEqual(
      ['!package-lock.json', '!package.json', '!src/', '!src/**', '!tsconfig.build.json', '!tsconfig.json'].sort(),
    );
  });
});
