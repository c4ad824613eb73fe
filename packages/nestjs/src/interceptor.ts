/**
 * Adds what only Nest knows to a traced request's `wsgi` point: the controller class and
 * handler name (`nest: {controller, handler}`) and the route template. Registered as a
 * global interceptor by `ProfilerModule`; untraced requests pay one property lookup.
 */
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { contained } from './contained';
import { platformRoute } from './points';
import { stateOf } from './state';

export class ProfilerInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const s = stateOf(context.getArgByIndex(0));
      if (s !== undefined) {
        try {
          s.nest = { controller: context.getClass().name, handler: context.getHandler().name };
          s.route = platformRoute(context.getArgByIndex(0));
        } catch (err) {
          contained('interceptor', err);
        }
      }
    }
    return next.handle();
  }
}
