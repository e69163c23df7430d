// The @nestjs/terminus health indicator, a separate entry (`nestjs-tus/terminus`) so that apps
// without terminus need not install the optional peer.
export { TusHealthIndicator } from './core/health/tus-health.indicator.js';
