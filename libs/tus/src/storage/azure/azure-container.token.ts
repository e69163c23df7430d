import { Inject } from '@nestjs/common';

/**
 * Injection token of the application's `ContainerClient` (from `@azure/storage-blob`), so that the
 * app owns the client's configuration (account, credential, retry policy) and tests can swap it.
 *
 * @example
 * providers: [{
 *   provide: AZURE_CONTAINER_CLIENT,
 *   useFactory: (config: ConfigService) =>
 *     BlobServiceClient.fromConnectionString(config.getOrThrow('AZURE_STORAGE_CONNECTION_STRING')).getContainerClient('uploads'),
 *   inject: [ConfigService],
 * }]
 */
export const AZURE_CONTAINER_CLIENT = Symbol('AzureContainerClient');

/** Injects the client registered under {@link AZURE_CONTAINER_CLIENT}. */
export const InjectAzureContainerClient = (): PropertyDecorator & ParameterDecorator => Inject(AZURE_CONTAINER_CLIENT);
