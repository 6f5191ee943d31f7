export * from './webhook-event.types';
export * from './job-view.builder';
export * from './image-view.builder';
export * from './webhook-outbox.service';
export * from './events.module';
