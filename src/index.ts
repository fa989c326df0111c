export * from './fargate-web-service-with-database';
export * from './profile';
export * from './props';
export * from './service-image';
export * from './policy';
