import { Inject } from '@nestjs/common';

/**
 * Injection token of the application's `S3Client` (from `@aws-sdk/client-s3`), so that the app
 * owns the client's configuration (endpoint, credentials, checksum mode) and tests can swap it.
 *
 * @example
 * providers: [{ provide: TusS3Client, useFactory: (config: ConfigService) => new S3Client({ ... }), inject: [ConfigService] }]
 */
export const TusS3Client = Symbol('TusS3Client');

/** @deprecated The former name of {@link TusS3Client}, kept for existing apps. */
export const S3_CLIENT = TusS3Client;

/** Injects the client registered under {@link TusS3Client}. */
export const InjectS3Client = (): PropertyDecorator & ParameterDecorator => Inject(TusS3Client);
