import { Injectable } from '@nestjs/common';

/** The module's source of time, a provider so tests can move it (expiry) without faking timers. */
export abstract class TusClock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends TusClock {
  now(): Date {
    return new Date();
  }
}
