import { Inject } from '@nestjs/common';

/**
 * Injection token of the application's `S3Client` (from `@aws-sdk/client-s3`), so that the app
 * owns the client's configuration (endpoint, credentials, checksum mode) and tests can swap it.
 *
 * @example
 * providers: [{ provide: S3_CLIENT, useFactory: (config: ConfigService) => new S3Client({ ... }), inject: [ConfigService] }]
 */
export const S3_CLIENT = Symbol('S3Client');

/** Injects the client registered under {@link S3_CLIENT}. */
export const InjectS3Client = (): PropertyDecorator & ParameterDecorator => Inject(S3_CLIENT);
