import { Inject } from '@nestjs/common';

/**
 * Injection token of the application's `ContainerClient` (from `@azure/storage-blob`), so that the
 * app owns the client's configuration (account, credential, retry policy) and tests can swap it.
 *
 * @example
 * providers: [{
 *   provide: TusAzureContainerClient,
 *   useFactory: (config: ConfigService) =>
 *     BlobServiceClient.fromConnectionString(config.getOrThrow('AZURE_STORAGE_CONNECTION_STRING')).getContainerClient('uploads'),
 *   inject: [ConfigService],
 * }]
 */
export const TusAzureContainerClient = Symbol('TusAzureContainerClient');

/** Injects the client registered under {@link TusAzureContainerClient}. */
export const InjectAzureContainerClient = (): PropertyDecorator & ParameterDecorator => Inject(TusAzureContainerClient);
