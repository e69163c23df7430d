import { Inject } from '@nestjs/common';

/**
 * The module's source of time, a provider so tests can move it (expiry) without faking timers:
 * `Test.createTestingModule(...).overrideProvider(TusClock).useValue({ now: () => ... })`.
 */
export interface TusClock {
  now(): Date;
}

/** Injection token of the {@link TusClock} (interface and token share the name). */
export const TusClock = Symbol('TusClock');

/** Injects the module's {@link TusClock}. */
export const InjectTusClock = (): PropertyDecorator & ParameterDecorator => Inject(TusClock);

/** The wall clock, the default {@link TusClock}. */
export class SystemClock implements TusClock {
  now(): Date {
    return new Date();
  }
}
