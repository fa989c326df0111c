import { EnvironmentProfile } from '../src';
import { defaultStack, resourceCounts } from './helpers';

// Pins which resources the construct creates per profile, so an accidental addition or loss fails loudly.
describe('surface', () => {
  test.each([EnvironmentProfile.DEV, EnvironmentProfile.PROD])('%s creates exactly these resources', (profile) => {
    const { template } = defaultStack(profile);
    expect(resourceCounts(template)).toMatchSnapshot();
  });
});
